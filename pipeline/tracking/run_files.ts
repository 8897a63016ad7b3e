/**
 * The one module that knows a run's folder, `<modelsDir>/runs/<run_id>/`: where each file lives, and
 * the typed writers and validating readers of `run.json`, `curves.json`, `trials.csv`,
 * `predictions.csv` and `feature_importances.json` (their formats are in `run_formats.ts`, re-exported
 * here). An absent file reads as `null` for every caller ({@link requireRunFile} turns that into one
 * standard error); a malformed one throws {@link RunFileError}. `run.json` is validated against
 * `runRecordSchema`; records written before hyperparameters were kept apart from fitted values are
 * migrated on read (`migrateRunRecord`), and nothing on disk is ever rewritten to the new shape.
 * @module
 */

import type { z } from "zod";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";
import { parseCsv, toCsv } from "../data/csv.ts";
import {
  CURVES,
  describeIssue,
  FEATURE_IMPORTANCES,
  type FeatureImportance,
  formatRunRecord,
  type Hyperparameters,
  hyperparametersSchema,
  migrateRunRecord,
  type PredictionRow,
  PREDICTIONS,
  RUN_ID_PATTERN,
  RUN_RECORD_FILE,
  type RunCurves,
  type RunFile,
  type RunRecord,
  runRecordSchema,
  type TrialRow,
  TRIALS,
} from "./run_formats.ts";

// The formats are kept in `run_formats.ts`; callers get them here, with the layout.
export {
  CURVES,
  FEATURE_IMPORTANCES,
  type FeatureImportance,
  formatRunRecord,
  type Hyperparameters,
  type HyperparameterValue,
  migrateRunRecord,
  type PredictionRow,
  PREDICTIONS,
  type PrPoint,
  type ReliabilityBin,
  type RocPoint,
  RUN_RECORD_FILE,
  type RunCurves,
  type RunFile,
  type RunRecord,
  runRecordSchema,
  type RunStatus,
  type StepRecord,
  type SweepPoint,
  type TrialOutcome,
  type TrialRow,
  TRIALS,
} from "./run_formats.ts";

/** Where runs and the registry live unless told otherwise. */
export const DEFAULT_MODELS_DIR = "models";

/** Whether `id` is a run id as tracking writes them; nothing else ever reaches the file system. */
export function isRunId(id: string): boolean {
  return RUN_ID_PATTERN.test(id);
}

/** A run's folder. Refuses ids that could leave the runs folder. */
export function runDir(runId: string, modelsDir = DEFAULT_MODELS_DIR): string {
  if (!isRunId(runId)) throw new RangeError(`run id ${JSON.stringify(runId)} is not valid`);
  return `${modelsDir}/runs/${runId}`;
}

/** A file's path in a run's folder. Refuses names that could leave the folder. */
export function runFilePath(runId: string, name: string, modelsDir = DEFAULT_MODELS_DIR): string {
  if (name === "" || name.includes("..") || name.startsWith("/") || name.includes("\0")) {
    throw new RangeError(`artifact name ${name} is not valid`);
  }
  return `${runDir(runId, modelsDir)}/${name}`;
}

/** A run file as the registry refers to it: relative to the models folder. */
export function runFileRef(runId: string, name: string): string {
  return runFilePath(runId, name, "").slice(1);
}

/** A run file that exists but cannot be read as its format says. */
export class RunFileError extends UserError {
  override name = "RunFileError";
}

/** The run's searched hyperparameters, or null when it has none (an unfinished or hand-made run). */
export function chosenHyperparameters(run: RunRecord): Hyperparameters | null {
  const model = migrateRunRecord(run).params.model;
  if (model === undefined) return null;
  const parsed = hyperparametersSchema.safeParse(model);
  if (!parsed.success) {
    throw new RunFileError(`run ${run.run_id}: params.model is not a set of hyperparameters`);
  }
  return parsed.data;
}

/** A running run silent for this long was killed (Deno cannot probe other processes without --allow-all). */
export const STALE_AFTER_MS = 60_000;

/** Whether a `running` run's heartbeat is older than {@link STALE_AFTER_MS}: its process was killed. */
export function isStale(run: RunRecord, now = Date.now()): boolean {
  return run.status === "running" && now - Date.parse(run.heartbeat_at ?? run.start_time) > STALE_AFTER_MS;
}

/** A stale run is reported with the synthetic tag `stale=true`, which is never written. */
function withStaleness(run: RunRecord): RunRecord {
  return isStale(run) ? { ...run, tags: { ...run.tags, stale: "true" } } : run;
}

/** The record as written, once it passes the schema (zod's output would reorder and drop keys). */
function parseRunRecord(text: string, path: string): RunRecord {
  const json = parseJson(text, path);
  const parsed = runRecordSchema.safeParse(json);
  if (!parsed.success) throw invalid(path, "a run record", parsed.error);
  return json as RunRecord;
}

/**
 * A run's record exactly as stored, validated but neither migrated nor tagged: what a writer that
 * amends the record starts from. Null when the run does not exist or the id is not a run id.
 */
export async function readStoredRun(
  runId: string,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<RunRecord | null> {
  if (!isRunId(runId)) return null;
  const path = runFilePath(runId, RUN_RECORD_FILE, modelsDir);
  const text = await readTextOrNull(path);
  return text === null ? null : parseRunRecord(text, path);
}

/** A run's record as every reader sees it: validated, migrated to the current shape, `stale=true` when its process died. */
export async function readRun(runId: string, modelsDir = DEFAULT_MODELS_DIR): Promise<RunRecord | null> {
  const stored = await readStoredRun(runId, modelsDir);
  return stored && withStaleness(migrateRunRecord(stored));
}

/** All runs as {@link readRun} reads them, newest first. Unreadable folders are skipped. */
export async function listRuns(modelsDir = DEFAULT_MODELS_DIR): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  try {
    for await (const entry of Deno.readDir(`${modelsDir}/runs`)) {
      if (!entry.isDirectory) continue;
      const run = await readRun(entry.name, modelsDir).catch(() => null);
      if (run) runs.push(run);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return runs.sort((a, b) => b.start_time.localeCompare(a.start_time));
}

/** Validates `record` and writes it as the run's `run.json`, atomically. */
export async function writeRunRecord(record: RunRecord, modelsDir = DEFAULT_MODELS_DIR): Promise<void> {
  const path = runFilePath(record.run_id, RUN_RECORD_FILE, modelsDir);
  const parsed = runRecordSchema.safeParse(record);
  if (!parsed.success) throw invalid(path, "a run record", parsed.error);
  await writeFileAtomic(path, formatRunRecord(record));
}

/** Writes `content` as the run's file `name`, atomically; returns its path. */
export async function writeRunFile(
  runId: string,
  name: string,
  content: string | Uint8Array,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<string> {
  const path = runFilePath(runId, name, modelsDir);
  await writeFileAtomic(path, content);
  return path;
}

/** Reads and validates one of a run's files; null when the run or the file does not exist. */
export async function readRunFile<Out>(
  file: RunFile<never, Out>,
  runId: string,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<Out | null> {
  if (!isRunId(runId)) return null;
  const path = runFilePath(runId, file.name, modelsDir);
  const text = await readTextOrNull(path);
  if (text === null) return null;
  try {
    return file.parse(text);
  } catch (error) {
    throw new RunFileError(`${path} is not a valid ${file.name}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** As {@link readRunFile}, for callers that cannot do without the file: an absent one is a {@link RunFileError}. */
export async function requireRunFile<Out>(
  file: RunFile<never, Out>,
  runId: string,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<Out> {
  const value = await readRunFile(file, runId, modelsDir);
  if (value === null) throw new RunFileError(`run ${runId} has no ${file.name} under ${modelsDir}/runs`);
  return value;
}

/** A run's record with every artifact the model report reads. */
export interface RunArtifacts {
  run: RunRecord;
  trials: TrialRow[];
  predictions: PredictionRow[];
  curves: RunCurves;
  featureImportances: FeatureImportance[];
}

/** Reads a run's record and artifacts; a missing run or artifact is a {@link RunFileError}. */
export async function readRunArtifacts(runId: string, modelsDir = DEFAULT_MODELS_DIR): Promise<RunArtifacts> {
  const run = await readRun(runId, modelsDir);
  if (!run) throw new RunFileError(`run ${runId} not found under ${modelsDir}/runs`);
  const [trials, predictions, curves, featureImportances] = await Promise.all([
    requireRunFile(TRIALS, runId, modelsDir),
    requireRunFile(PREDICTIONS, runId, modelsDir),
    requireRunFile(CURVES, runId, modelsDir),
    requireRunFile(FEATURE_IMPORTANCES, runId, modelsDir),
  ]);
  return { run, trials, predictions, curves, featureImportances };
}

/** Size and modification time of a run's file, or null when absent: a cache key that changes when the file is rewritten. */
export async function statRunFile(
  runId: string,
  name: string,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<Deno.FileInfo | null> {
  return await Deno.stat(runFilePath(runId, name, modelsDir)).catch((error) => {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  });
}

/** A run file's bytes as stored, with its info, for serving it unchanged; null when absent. */
export async function readRunFileBytes(
  runId: string,
  name: string,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<{ bytes: Uint8Array; info: Deno.FileInfo } | null> {
  const path = runFilePath(runId, name, modelsDir);
  try {
    const [info, bytes] = await Promise.all([Deno.stat(path), Deno.readFile(path)]);
    return { bytes, info };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

// --- The nested evaluation's folder, runs/<run_id>/nested/ -----------------------------------

/** The nested evaluation's files, relative to the run's folder. */
export const NESTED_FILES = {
  folds: "nested/folds.csv",
  predictions: "nested/predictions.csv",
  summary: "nested/nested.json",
} as const;

/**
 * The files of a nested evaluation variant (e.g. an attribute profile): `nested-<variant>/…` beside
 * `nested/`, so the full model's evaluation is never overwritten by a profile's. `""` is `nested/`.
 */
export function nestedFiles(variant = ""): { folds: string; predictions: string; summary: string } {
  if (variant === "") return NESTED_FILES;
  if (!/^[a-z0-9][a-z0-9_+-]*$/.test(variant)) {
    throw new RangeError(`nested variant ${variant} is not a folder name`);
  }
  return {
    folds: `nested-${variant}/folds.csv`,
    predictions: `nested-${variant}/predictions.csv`,
    summary: `nested-${variant}/nested.json`,
  };
}

/** One line of `nested/folds.csv`: `row` (0-based line of the data file) is in the test part of (repeat, fold). */
export type NestedFoldRow = {
  repeat: number;
  fold: number;
  row: number;
};

/** One line of `nested/predictions.csv`: an outer test row scored once per repeat. */
export type NestedPredictionRow = {
  repeat: number;
  fold: number;
  row: number;
  label: number;
  probability: number;
  pd: number;
  threshold: number;
  decision: "decline" | "approve";
};

/**
 * `nested/nested.json`: written first with `complete: false`, and last, atomically, with
 * `complete: true` only once every outer fold finished. The rest of its shape belongs to
 * `pipeline/model/nested.ts`.
 */
export interface NestedRecord {
  format_version: 1;
  complete: boolean;
  run_id: string;
  [key: string]: unknown;
}

const NESTED_FOLD_COLUMNS = ["repeat", "fold", "row"] as const;
const NESTED_PREDICTION_COLUMNS = [
  "repeat",
  "fold",
  "row",
  "label",
  "probability",
  "pd",
  "threshold",
  "decision",
] as const;

/** Writes `nested/folds.csv`, atomically. */
export function writeNestedFolds(
  runId: string,
  rows: readonly NestedFoldRow[],
  modelsDir = DEFAULT_MODELS_DIR,
  variant = "",
): Promise<string> {
  return writeRunFile(runId, nestedFiles(variant).folds, toCsv(NESTED_FOLD_COLUMNS, rows), modelsDir);
}

/** Writes `nested/predictions.csv`, atomically. */
export function writeNestedPredictions(
  runId: string,
  rows: readonly NestedPredictionRow[],
  modelsDir = DEFAULT_MODELS_DIR,
  variant = "",
): Promise<string> {
  return writeRunFile(
    runId,
    nestedFiles(variant).predictions,
    toCsv(NESTED_PREDICTION_COLUMNS, rows),
    modelsDir,
  );
}

/** Writes `nested/nested.json`, atomically. */
export function writeNestedRecord(
  record: NestedRecord,
  modelsDir = DEFAULT_MODELS_DIR,
  variant = "",
): Promise<string> {
  return writeRunFile(
    record.run_id,
    nestedFiles(variant).summary,
    JSON.stringify(record, null, 2) + "\n",
    modelsDir,
  );
}

/** Reads `nested/nested.json`; null when absent, a {@link RunFileError} when it is not a nested record. */
export async function readNestedRecord(
  runId: string,
  modelsDir = DEFAULT_MODELS_DIR,
  variant = "",
): Promise<NestedRecord | null> {
  if (!isRunId(runId)) return null;
  const path = runFilePath(runId, nestedFiles(variant).summary, modelsDir);
  const text = await readTextOrNull(path);
  if (text === null) return null;
  const value = parseJson(text, path) as Partial<NestedRecord> | null;
  if (
    !value || typeof value !== "object" || value.format_version !== 1 ||
    typeof value.complete !== "boolean" ||
    value.run_id !== runId
  ) {
    throw new RunFileError(`${path} is not a nested evaluation record of run ${runId}`);
  }
  return value as NestedRecord;
}

/** Reads `nested/folds.csv` as numbers; null when absent, a {@link RunFileError} when malformed. */
export async function readNestedFolds(
  runId: string,
  modelsDir = DEFAULT_MODELS_DIR,
  variant = "",
): Promise<NestedFoldRow[] | null> {
  if (!isRunId(runId)) return null;
  const path = runFilePath(runId, nestedFiles(variant).folds, modelsDir);
  const text = await readTextOrNull(path);
  if (text === null) return null;
  return parseCsv(text).map((r, i) => {
    const row = Object.fromEntries(NESTED_FOLD_COLUMNS.map((c) => [c, Number(r[c])]));
    if (NESTED_FOLD_COLUMNS.some((c) => r[c] === "" || !Number.isInteger(row[c]) || row[c] < 0)) {
      throw new RunFileError(`${path} line ${i + 2} is not repeat,fold,row whole numbers`);
    }
    return row as unknown as NestedFoldRow;
  });
}

/** Reads `nested/predictions.csv` (of a variant); null when absent, a {@link RunFileError} when malformed. */
export async function readNestedPredictions(
  runId: string,
  modelsDir = DEFAULT_MODELS_DIR,
  variant = "",
): Promise<NestedPredictionRow[] | null> {
  if (!isRunId(runId)) return null;
  const path = runFilePath(runId, nestedFiles(variant).predictions, modelsDir);
  const text = await readTextOrNull(path);
  if (text === null) return null;
  return parseCsv(text).map((r, i) => {
    const numbers = ["repeat", "fold", "row", "label", "probability", "pd", "threshold"] as const;
    const row = Object.fromEntries(numbers.map((c) => [c, Number(r[c])])) as Record<string, number>;
    if (
      numbers.some((c) => r[c] === "" || !Number.isFinite(row[c])) ||
      (r.decision !== "approve" && r.decision !== "decline") || (row.label !== 0 && row.label !== 1)
    ) {
      throw new RunFileError(`${path} line ${i + 2} is not a nested prediction row`);
    }
    return { ...row, decision: r.decision } as NestedPredictionRow;
  });
}

// ---------------------------------------------------------------------------------------------

async function readTextOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RunFileError(`${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

function invalid(path: string, what: string, error: z.ZodError): RunFileError {
  return new RunFileError(`${path} is not ${what}: ${describeIssue(error)}`);
}
