/**
 * The format of each file in a run's folder, apart from where it lives (`run_files.ts`): the
 * `run.json` record and its schema, the migration of records written in an older shape, and one
 * codec per artifact — `curves.json`, `trials.csv`, `predictions.csv`, `feature_importances.json` —
 * that writes a typed value and reads it back validated.
 * @module
 */

import { z } from "zod";
import { parseCsv, toCsv } from "../data/csv.ts";

/** A run id as tracking writes them: nothing else ever reaches the file system. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

// ---------------------------------------------------------------------------------------------
// run.json

/** A run's lifecycle state; a run killed midway stays `running` (shown as stale once its process is gone). */
export type RunStatus = "running" | "finished" | "failed";

/** One named pipeline step with its outcome and duration (the orchestration record). */
export interface StepRecord {
  name: string;
  status: "running" | "finished" | "failed";
  started_at: string;
  duration_ms?: number;
  error?: string;
}

/**
 * The content of `run.json`, in MLflow's vocabulary: params are inputs, written once (`params.model`
 * holds the searched hyperparameters, see {@link Hyperparameters}); metrics are what the run measured
 * or fitted (`metrics.threshold`, `metrics.calibration`); tags are context; artifacts are files.
 */
export interface RunRecord {
  run_id: string;
  experiment: string;
  status: RunStatus;
  start_time: string;
  end_time?: string;
  duration_ms?: number;
  pid: number;
  /** Refreshed while the run works; a `running` run whose heartbeat is old was killed. */
  heartbeat_at: string;
  params: Record<string, unknown>;
  metrics: Record<string, unknown>;
  tags: Record<string, string>;
  steps: StepRecord[];
  artifacts: string[];
  error?: string;
}

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "an ISO time");

/** The schema `run.json` must satisfy; `readRun` validates every record against it. */
export const runRecordSchema = z.object({
  run_id: z.string().regex(RUN_ID_PATTERN),
  experiment: z.string().min(1),
  status: z.enum(["running", "finished", "failed"]),
  start_time: isoTime,
  end_time: isoTime.optional(),
  duration_ms: z.number().nonnegative().optional(),
  pid: z.number().int(),
  heartbeat_at: isoTime,
  params: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  tags: z.record(z.string(), z.string()),
  steps: z.array(z.object({
    name: z.string(),
    status: z.enum(["running", "finished", "failed"]),
    started_at: isoTime,
    duration_ms: z.number().nonnegative().optional(),
    error: z.string().optional(),
  })),
  artifacts: z.array(z.string()),
  error: z.string().optional(),
});

/** The record's file name. */
export const RUN_RECORD_FILE = "run.json";

/** `run.json` text: pretty JSON and a final newline. */
export function formatRunRecord(record: RunRecord): string {
  return JSON.stringify(record, null, 2) + "\n";
}

/** A hyperparameter's value, as a search suggests it. */
export type HyperparameterValue = string | number | boolean | null;

/**
 * `params.model`: the searched hyperparameters exactly as the best trial chose them (snake_case
 * names, e.g. `limit_depth`, `max_depth`, `min_samples_leaf`), so a fixed trial replays them through
 * the same `suggest` code. Fitted values (threshold, calibration) are metrics, not params.
 */
export type Hyperparameters = Record<string, HyperparameterValue>;

/** What `params.model` must be: names mapped to suggestible values. */
export const hyperparametersSchema = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean(), z.null()]),
);

/** Whether `params.model` is in its first shape: camelCase forest options beside the fitted threshold. */
function isLegacyModelParams(model: Record<string, unknown>): boolean {
  return Object.keys(model).some((key) => key === "threshold" || /[A-Z]/.test(key));
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A record in the current shape. Older records kept `params.model` as the final forest's options
 * (camelCase, `maxDepth: null` for no limit, `nEstimators`), `engineered_features` and the fitted
 * `threshold`. They read as the search's names, `limit_depth` (+ `max_depth`), the tree count as
 * `params.trees` and the threshold as `metrics.threshold`, where newer runs record them.
 */
export function migrateRunRecord(record: RunRecord): RunRecord {
  const model = record.params.model;
  if (!model || typeof model !== "object" || Array.isArray(model)) return record;
  if (!isLegacyModelParams(model as Record<string, unknown>)) return record;
  const hyperparameters: Record<string, unknown> = {};
  const params: Record<string, unknown> = { ...record.params };
  const metrics: Record<string, unknown> = { ...record.metrics };
  for (const [key, value] of Object.entries(model)) {
    if (key === "threshold") metrics.threshold ??= value;
    else if (key === "nEstimators") params.trees ??= value;
    else if (key === "maxDepth") {
      hyperparameters.limit_depth = value !== null && value !== undefined;
      if (value !== null && value !== undefined) hyperparameters.max_depth = value;
    } else hyperparameters[snakeCase(key)] = value;
  }
  params.model = hyperparameters;
  return { ...record, params, metrics };
}

// ---------------------------------------------------------------------------------------------
// Artifacts

/** The format of one artifact: the name it is stored under, how it is written and how it is read back. */
export interface RunFile<In, Out = In> {
  readonly name: string;
  format(value: In): string;
  /** Parses and validates; throws an Error whose message says what is wrong. */
  parse(text: string): Out;
}

/** A point of a ROC curve; `threshold` is Infinity at the curve's start (stored as null). */
export interface RocPoint {
  threshold: number;
  fpr: number;
  tpr: number;
}

/** A point of a precision–recall curve. */
export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
}

/** Expected cost and the confusion counts at one threshold. */
export interface SweepPoint {
  threshold: number;
  cost: number;
  recall_bad: number;
  specificity: number;
  accuracy: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** One bin of a reliability curve. */
export interface ReliabilityBin {
  meanPredicted: number;
  observed: number;
  count: number;
}

/** The content of `curves.json`: test-part curves, the out-of-fold cost sweep and the reliability bins. */
export interface RunCurves {
  roc: RocPoint[];
  pr: PrPoint[];
  threshold_sweep: SweepPoint[];
  cv_threshold_sweep?: SweepPoint[];
  reliability?: { raw: ReliabilityBin[]; calibrated: ReliabilityBin[] };
}

// JSON has no Infinity: the writer's Infinity thresholds come back as null and are restored here.
const threshold = z.number().nullable().transform((t) => t ?? Infinity);
const sweepPoint = z.looseObject({
  threshold,
  cost: z.number(),
  recall_bad: z.number(),
  specificity: z.number(),
  accuracy: z.number(),
  tp: z.number(),
  fp: z.number(),
  tn: z.number(),
  fn: z.number(),
});
const reliabilityBin = z.looseObject({ meanPredicted: z.number(), observed: z.number(), count: z.number() });
const curvesSchema = z.looseObject({
  roc: z.array(z.looseObject({ threshold, fpr: z.number(), tpr: z.number() })),
  pr: z.array(z.looseObject({ threshold, precision: z.number(), recall: z.number() })),
  threshold_sweep: z.array(sweepPoint),
  cv_threshold_sweep: z.array(sweepPoint).optional(),
  reliability: z.looseObject({ raw: z.array(reliabilityBin), calibrated: z.array(reliabilityBin) })
    .optional(),
});

/** `curves.json`. */
export const CURVES: RunFile<RunCurves> = {
  name: "curves.json",
  format: (curves) => JSON.stringify(curves),
  parse: (text) => validate(curvesSchema, JSON.parse(text)) as RunCurves,
};

/** What `trials.csv` records of one trial (a tuning study's finished trial satisfies it). */
export interface TrialOutcome {
  number: number;
  state: string;
  value: number | null;
  durationMs?: number;
  params: Record<string, HyperparameterValue>;
  error?: string;
}

/** One trial read back from `trials.csv`. */
export interface TrialRow {
  number: number;
  state: string;
  value: number | null;
  durationMs: number | null;
  /** Only the hyperparameters the trial asked for; a column whose every value is numeric reads as numbers. */
  params: Record<string, number | string>;
}

/** Columns of `trials.csv` that describe the trial rather than a hyperparameter. */
const TRIAL_COLUMNS = new Set(["number", "state", "value", "duration_ms", "error"]);

/** `trials.csv`: one row per trial, one column per hyperparameter any trial asked for. */
export const TRIALS: RunFile<readonly TrialOutcome[], TrialRow[]> = {
  name: "trials.csv",
  format(trials) {
    const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
    return toCsv(
      ["number", "state", "value", "duration_ms", ...names, "error"],
      trials.map((t) => ({
        number: t.number,
        state: t.state,
        value: t.value ?? "",
        duration_ms: Math.round(t.durationMs ?? 0),
        ...Object.fromEntries(names.map((n) => [n, t.params[n] ?? ""])),
        error: t.error ?? "",
      })),
    );
  },
  parse(text) {
    const records = parseCsv(text);
    const columns = Object.keys(records[0] ?? {}).filter((c) => !TRIAL_COLUMNS.has(c));
    const numeric = new Set(
      columns.filter((c) => records.every((r) => r[c] === "" || Number.isFinite(Number(r[c])))),
    );
    const number = (s: string | undefined) => (s === undefined || s === "" ? null : Number(s));
    return records.map((r, i) => {
      if (!Number.isInteger(Number(r.number)) || !r.state) {
        throw new Error(`row ${i + 1} has no trial number or state`);
      }
      return {
        number: Number(r.number),
        state: r.state,
        value: number(r.value),
        durationMs: number(r.duration_ms),
        params: Object.fromEntries(
          columns.filter((c) => r[c] !== "").map((c) => [c, numeric.has(c) ? Number(r[c]) : r[c]]),
        ),
      };
    });
  },
};

/** One scored row of the test part: its row in the data file (0-based), its label and P(bad). */
export interface PredictionRow {
  row: number;
  label: number;
  probability: number;
}

/** `predictions.csv`: enough to recompute every test metric independently. */
export const PREDICTIONS: RunFile<readonly PredictionRow[], PredictionRow[]> = {
  name: "predictions.csv",
  format: (rows) => toCsv(["row", "label", "probability"], rows as unknown as Record<string, unknown>[]),
  parse: (text) =>
    parseCsv(text).map((r, i) => {
      const row = { row: Number(r.row), label: Number(r.label), probability: Number(r.probability) };
      if (!Number.isInteger(row.row) || !(row.label === 0 || row.label === 1) || !(row.probability >= 0)) {
        throw new Error(`row ${i + 1} is not a row number, a 0/1 label and a probability`);
      }
      return row;
    }),
};

/** A feature's importance (mean decrease in impurity). */
export interface FeatureImportance {
  name: string;
  importance: number;
}

const importancesSchema = z.array(z.looseObject({ name: z.string(), importance: z.number() }));

/** `feature_importances.json`, in the order given (training writes it most important first). */
export const FEATURE_IMPORTANCES: RunFile<readonly FeatureImportance[], FeatureImportance[]> = {
  name: "feature_importances.json",
  format: (importances) => JSON.stringify(importances, null, 2),
  parse: (text) => validate(importancesSchema, JSON.parse(text)),
};

function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(describeIssue(parsed.error));
  return parsed.data;
}

/** The first issue of a failed validation, with its path: what a message about a bad file says. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue.path.length ? issue.path.join(".") : "(root)"}: ${issue.message}`;
}
