/**
 * `deno task drift INPUT.csv [--models-dir DIR] [--model PATH] [--data PATH] [--json]`: the
 * population stability of a file against the production model's training reference (see
 * `pipeline/monitoring/`). Exit status 0 whatever the bands say, 1 when the file or the model
 * cannot be read, 2 for a usage mistake.
 * @module
 */

import { parseArgs } from "node:util";
import { DataError, DEFAULT_DATA_PATH, loadCreditTable, toApplicants } from "../data/etl.ts";
import { UsageError, UserError } from "../errors.ts";
import { CreditModel, ModelLoadError } from "../model/artifact.ts";
import { DriftCounter, formatDriftTable, referenceFor } from "../monitoring/mod.ts";
import { DEFAULT_MODELS_DIR, productionModel, readRegistry } from "../tracking/mod.ts";
import { cliExitCode, runCli } from "./run_cli.ts";

/** The command's usage text. */
export const DRIFT_USAGE = `usage: deno task drift INPUT.csv [options]
  --models-dir DIR   registry and runs (default models); the production model is compared against
  --model PATH       compare against this artifact's reference instead (sha256 not verified)
  --data PATH        rows to build the reference from when the artifact has none
                     (default data/german.data)
  --json             print the report as JSON`;

/** Runs the command with its output and messages going to `out` and `err`; returns the exit status. */
export function runDrift(
  args: string[],
  out: (text: string) => void = console.log,
  err: (text: string) => void = console.error,
): Promise<number> {
  return cliExitCode("drift", (a) => drift(a, out), args, { usage: DRIFT_USAGE, print: err });
}

async function drift(args: string[], out: (text: string) => void): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "models-dir": { type: "string" },
        model: { type: "string" },
        data: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    out(DRIFT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one input file, got ${positionals.length}`);
  try {
    const model = await loadModel(values["models-dir"] ?? DEFAULT_MODELS_DIR, values.model);
    const { reference, origin } = await referenceFor(model, values.data ?? DEFAULT_DATA_PATH);
    const table = await loadCreditTable(positionals[0]);
    const counter = new DriftCounter(reference);
    for (const applicant of toApplicants(table.frame)) counter.add(applicant);
    for (const p of model.probabilities(model.encoder.transformFrame(table.frame))) counter.addScore(p);
    const report = counter.report();
    if (values.json) {
      out(
        JSON.stringify({ input: positionals[0], run_id: model.artifact.run_id, origin, ...report }, null, 2),
      );
    } else {
      out(`${positionals[0]} against model run ${model.artifact.run_id} (reference from the ${origin})\n`);
      out(formatDriftTable(report));
    }
    return 0;
  } catch (error) {
    // A file or a model that cannot be read is the user's to fix: its message alone, exit 1.
    if (error instanceof DataError || error instanceof ModelLoadError) {
      throw new UserError(error.message, { cause: error });
    }
    throw error;
  }
}

async function loadModel(modelsDir: string, path: string | undefined): Promise<CreditModel> {
  if (path !== undefined) return (await CreditModel.load(path)).model;
  let registry;
  try {
    registry = await readRegistry(modelsDir);
  } catch (error) {
    throw new ModelLoadError(`cannot read the model registry: ${(error as Error).message}`);
  }
  const entry = productionModel(registry);
  if (!entry) {
    throw new ModelLoadError(`${modelsDir}/registry.json has no production model; use --model PATH`);
  }
  const artifact = entry.artifact.startsWith("/") ? entry.artifact : `${modelsDir}/${entry.artifact}`;
  return (await CreditModel.load(artifact, entry.sha256)).model;
}

if (import.meta.main) await runCli("drift", (args) => drift(args, console.log), { usage: DRIFT_USAGE });
