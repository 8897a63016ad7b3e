/**
 * The model report's one reader of a run's files under `models/runs/<id>/` (`run.json`,
 * `trials.csv`, `predictions.csv`, `curves.json`, `feature_importances.json`) and of the registry:
 * {@link readRunArtifacts} is the only function here that touches the disk, so routing the report
 * through the module that owns a run's files means changing it alone.
 * @module
 */

import {
  DEFAULT_MODELS_DIR,
  type ModelVersion,
  parseCsv,
  productionModel,
  readRegistry,
  readRun,
  type RunRecord,
} from "../../tracking/run.ts";

/** One trial of `trials.csv`: its outcome and the hyperparameters it tried. */
export interface TrialRow {
  number: number;
  state: string;
  value: number | null;
  durationMs: number | null;
  params: Record<string, number | string>;
}

/** A point of a threshold sweep as stored in `curves.json` (null thresholds restored to Infinity). */
export interface StoredSweepPoint {
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

/** The curves of `curves.json`. */
export interface RunCurves {
  roc: { threshold: number; fpr: number; tpr: number }[];
  pr: { threshold: number; precision: number; recall: number }[];
  threshold_sweep: StoredSweepPoint[];
  cv_threshold_sweep?: StoredSweepPoint[];
}

/** A run with its parsed artifacts. */
export interface RunArtifacts {
  run: RunRecord;
  trials: TrialRow[];
  predictions: { row: number; label: number; probability: number }[];
  curves: RunCurves;
  featureImportances: { name: string; importance: number }[];
}

/** Columns of `trials.csv` that describe the trial rather than a hyperparameter. */
const TRIAL_COLUMNS = new Set(["number", "state", "value", "duration_ms", "error"]);

/**
 * Trials from `trials.csv` text. A hyperparameter column whose every non-empty value is numeric
 * becomes numbers; any other stays text (e.g. `maxFeatures` mixing "sqrt" and 0.35). Empty cells
 * mean the trial did not ask for that hyperparameter and are left out of its params.
 */
export function parseTrials(text: string): TrialRow[] {
  const records = parseCsv(text);
  const columns = Object.keys(records[0] ?? {}).filter((c) => !TRIAL_COLUMNS.has(c));
  const numeric = new Set(
    columns.filter((c) => records.every((r) => r[c] === "" || Number.isFinite(Number(r[c])))),
  );
  const number = (s: string | undefined) => (s === undefined || s === "" ? null : Number(s));
  return records.map((r) => ({
    number: Number(r.number),
    state: r.state,
    value: number(r.value),
    durationMs: number(r.duration_ms),
    params: Object.fromEntries(
      columns.filter((c) => r[c] !== "").map((c) => [c, numeric.has(c) ? Number(r[c]) : r[c]]),
    ),
  }));
}

/** Restores the `Infinity` thresholds that JSON stored as null. */
function restoreInfinity<T extends { threshold: number | null }>(points: T[]): (T & { threshold: number })[] {
  return points.map((p) => ({ ...p, threshold: p.threshold ?? Infinity }));
}

/** Reads a run's record and artifacts from `<modelsDir>/runs/<runId>/`. */
export async function readRunArtifacts(runId: string, modelsDir = DEFAULT_MODELS_DIR): Promise<RunArtifacts> {
  const run = await readRun(runId, modelsDir);
  if (!run) throw new Error(`run ${runId} not found under ${modelsDir}/runs`);
  const dir = `${modelsDir}/runs/${runId}`;
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  const curves = JSON.parse(await read("curves.json"));
  return {
    run,
    trials: parseTrials(await read("trials.csv")),
    predictions: parseCsv(await read("predictions.csv")).map((r) => ({
      row: Number(r.row),
      label: Number(r.label),
      probability: Number(r.probability),
    })),
    curves: {
      roc: restoreInfinity(curves.roc),
      pr: restoreInfinity(curves.pr),
      threshold_sweep: restoreInfinity(curves.threshold_sweep),
      ...(curves.cv_threshold_sweep
        ? { cv_threshold_sweep: restoreInfinity(curves.cv_threshold_sweep) }
        : {}),
    },
    featureImportances: JSON.parse(await read("feature_importances.json")),
  };
}

/** The production model's registry entry with its run's artifacts. */
export interface ProductionRun extends RunArtifacts {
  version: ModelVersion;
}

/** The production model's registry entry and its run's artifacts; throws when nothing is in production. */
export async function readProductionRun(modelsDir = DEFAULT_MODELS_DIR): Promise<ProductionRun> {
  const version = productionModel(await readRegistry(modelsDir));
  if (!version) throw new Error(`no production model in ${modelsDir}/registry.json; run deno task train`);
  return { version, ...(await readRunArtifacts(version.run_id, modelsDir)) };
}
