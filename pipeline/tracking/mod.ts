/**
 * Run tracking on plain files, in MLflow's vocabulary, under a models folder (`models/` by default):
 *
 * - `run.ts`: {@link Run}, one training run as it works (params, metrics, steps, heartbeat, status),
 *   and {@link amendRun} for adding to a run that has ended;
 * - `run_files.ts`: the layout of `runs/<run_id>/` and the format of every file in it, with
 *   validating readers ({@link readRun}, {@link readRunFile}) and typed writers;
 * - `registry.ts`: `registry.json`, its lock, and champion/challenger promotion;
 * - `atomic.ts`: every write is a temporary file and a rename.
 *
 * It imports nothing from the rest of the pipeline but `errors.ts`.
 *
 * @example
 * ```ts
 * import { CURVES, readRun, readRunFile } from "./mod.ts";
 *
 * const run = await readRun("20261126-185337-9124a5");
 * const curves = await readRunFile(CURVES, "20261126-185337-9124a5"); // null when absent
 * console.log(run?.params.model, curves?.roc.length);
 * ```
 * @module
 */

export { writeFileAtomic, writeJsonAtomic } from "./atomic.ts";
export { parseCsv, toCsv } from "../data/csv.ts";
export {
  migratedHistory,
  type ModelVersion,
  nextVersion,
  productionModel,
  promoteVersion,
  readRegistry,
  registerModel,
  type Registration,
  type Registry,
  type RegistryEvent,
  registryPath,
  registrySchema,
  sha256File,
  sha256Hex,
  type Stage,
  withRegistryLock,
} from "./registry.ts";
export { amendRun, newRunId, Run, type RunAmendment, StepError } from "./run.ts";
export {
  chosenHyperparameters,
  CURVES,
  DEFAULT_MODELS_DIR,
  FEATURE_IMPORTANCES,
  type FeatureImportance,
  formatRunRecord,
  type Hyperparameters,
  type HyperparameterValue,
  isRunId,
  isStale,
  listRuns,
  migrateRunRecord,
  NESTED_FILES,
  nestedFiles,
  type NestedFoldRow,
  type NestedPredictionRow,
  type NestedRecord,
  type PredictionRow,
  PREDICTIONS,
  type PrPoint,
  readNestedFolds,
  readNestedPredictions,
  readNestedRecord,
  readRun,
  readRunArtifacts,
  readRunFile,
  readRunFileBytes,
  readStoredRun,
  type ReliabilityBin,
  requireRunFile,
  type RocPoint,
  RUN_RECORD_FILE,
  type RunArtifacts,
  type RunCurves,
  runDir,
  type RunFile,
  RunFileError,
  runFilePath,
  runFileRef,
  type RunRecord,
  runRecordSchema,
  type RunStatus,
  STALE_AFTER_MS,
  statRunFile,
  type StepRecord,
  type SweepPoint,
  type TrialOutcome,
  type TrialRow,
  TRIALS,
  writeNestedFolds,
  writeNestedPredictions,
  writeNestedRecord,
  writeRunFile,
  writeRunRecord,
} from "./run_files.ts";
export { type GitProvenance, gitProvenance } from "./git.ts";
