/**
 * `deno task evaluate [--run ID]`: the repeated-CV estimate of a run's configuration
 * (`pipeline/model/evaluate.ts`), printed as mean ± sd and added to the run's record (metric group
 * `repeated_cv`, or `repeated_cv_plain` with `--plain`) with its model card re-rendered. Without
 * `--run`, the production model's run. Exit codes: 0 done, 1 failed, 2 bad flags.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError, UserError } from "../errors.ts";
import { type Estimate, repeatedCv, type RepeatedCvResult, runConfiguration } from "../model/evaluate.ts";
import { modelCard } from "../report/model_card.ts";
import { amendRun, DEFAULT_MODELS_DIR, productionModel, readRegistry, readRun } from "../tracking/mod.ts";
import { runCli } from "./run_cli.ts";

/** The usage text of `deno task evaluate`. */
export const EVALUATE_USAGE =
  "usage: deno task evaluate [--run ID] [--repeats 5] [--folds 10] [--inner-folds 5] [--seed 42] [--plain] [--json]";

/** One line per metric: `name  mean ± sd`. */
export function formatEstimate(result: RepeatedCvResult): string {
  const line = (name: string, e: Estimate, digits = 3) =>
    `${name.padEnd(16)}${e.mean.toFixed(digits).padStart(8)} ± ${e.sd.toFixed(digits)}`;
  return [
    result.protocol,
    "",
    line("ROC AUC", result.roc_auc),
    line("recall (bad)", result.recall_bad),
    line("specificity", result.specificity),
    line("accuracy", result.accuracy),
    line("expected cost", result.cost),
    line("threshold", result.threshold),
    "",
    `${(result.duration_ms / 1000).toFixed(1)} s`,
  ].join("\n");
}

/** `deno task evaluate` with `args`; returns the exit code (errors are mapped by `runCli`). */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        run: { type: "string" },
        "models-dir": { type: "string", default: DEFAULT_MODELS_DIR },
        repeats: { type: "string", default: "5" },
        folds: { type: "string", default: "10" },
        "inner-folds": { type: "string", default: "5" },
        seed: { type: "string", default: "42" },
        plain: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(EVALUATE_USAGE);
    return 0;
  }
  const numbers = Object.fromEntries(
    (["repeats", "folds", "inner-folds", "seed"] as const).map((k) => {
      const n = Number(values[k]);
      if (!Number.isInteger(n) || n < (k === "seed" ? 0 : k === "repeats" ? 1 : 2)) {
        throw new UsageError(`--${k} must be a whole number, got ${values[k]}`);
      }
      return [k, n];
    }),
  );
  const modelsDir = values["models-dir"]!;
  let runId = values.run;
  if (!runId) {
    const production = productionModel(await readRegistry(modelsDir));
    if (!production) {
      throw new UserError(
        "no production model in the registry; pass --run ID or run `deno task train` first",
      );
    }
    runId = production.run_id;
  }
  const run = await readRun(runId, modelsDir);
  if (!run) throw new UserError(`no run ${runId} under ${modelsDir}/runs`);
  const configuration = runConfiguration(run);
  if (values.plain) configuration.forest = { ...configuration.forest, balanced: false };
  const tty = Deno.stderr.isTerminal();
  const result = await repeatedCv(
    configuration,
    {
      repeats: numbers.repeats,
      folds: numbers.folds,
      innerFolds: numbers["inner-folds"],
      seed: numbers.seed,
      dataPath: run.params.data as string | undefined,
    },
    (done, total) => {
      if (tty) {
        Deno.stderr.writeSync(
          new TextEncoder().encode(`\rfold ${done}/${total}${done === total ? "\n" : ""}`),
        );
      }
    },
  );
  await amendRun(runId, {
    metrics: { [values.plain ? "repeated_cv_plain" : "repeated_cv"]: result },
    artifacts: (amended) => ({ "MODEL_CARD.md": modelCard(amended) }),
  }, modelsDir);
  console.log(values.json ? JSON.stringify(result, null, 2) : `run ${runId}\n${formatEstimate(result)}`);
  return 0;
}

if (import.meta.main) await runCli("evaluate", main, { usage: EVALUATE_USAGE });
