/**
 * The model report's view of a run: its record and artifacts, read through the tracking package's
 * run-files module (the one owner of `models/runs/<id>/`), plus the production model's entry.
 * @module
 */

import {
  DEFAULT_MODELS_DIR,
  type ModelVersion,
  productionModel,
  readRegistry,
  readRunArtifacts,
  type RunArtifacts,
  type TrialRow,
  TRIALS,
} from "../../tracking/mod.ts";

export {
  readRunArtifacts,
  type RunArtifacts,
  type RunCurves,
  type SweepPoint as StoredSweepPoint,
  type TrialRow,
} from "../../tracking/mod.ts";

/** Trials from `trials.csv` text, as the tracking package reads them. */
export function parseTrials(text: string): TrialRow[] {
  return TRIALS.parse(text);
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
