/**
 * `deno task evaluate [--run ID]`: the robust estimate of a run's configuration. 5 × 10-fold
 * repeated stratified CV on the whole data set with the run's hyperparameters fixed; in every outer
 * fold the threshold is chosen on inner out-of-fold predictions of the training part only, then
 * applied to the held-out part. Prints mean ± sd and writes them into the run.
 * @module
 */

import { parseArgs } from "node:util";
import { writeFileAtomic, writeJsonAtomic } from "../tracking/atomic.ts";
import { loadCreditTable, selectRows } from "../data/etl.ts";
import { FeatureEncoder } from "../features/encoder.ts";
import { BalancedRandomForest, type ForestOptions } from "../forest/mod.ts";
import { metricsReport } from "./metrics.ts";
import { modelCard } from "../report/model_card.ts";
import { type Objective, outOfFoldProbabilities, scoreObjective, takeRows, takeValues } from "./objective.ts";
import { repeatedStratifiedKFold, stratifiedKFold } from "../data/split.ts";
import {
  DEFAULT_MODELS_DIR,
  productionModel,
  readRegistry,
  readRun,
  type RunRecord,
} from "../tracking/run.ts";

/** How the repeated CV is run. */
export interface EvaluateOptions {
  repeats: number;
  folds: number;
  innerFolds: number;
  seed: number;
  dataPath?: string;
}

/** Mean and standard deviation of one metric over the outer folds, with every fold's value. */
export interface Estimate {
  mean: number;
  sd: number;
  values: number[];
}

/** The repeated-CV result of one configuration. */
export interface RepeatedCvResult {
  protocol: string;
  roc_auc: Estimate;
  recall_bad: Estimate;
  accuracy: Estimate;
  cost: Estimate;
  specificity: Estimate;
  threshold: Estimate;
  duration_ms: number;
}

/** The model parameters a run recorded, as forest options and the feature switch. */
export function runConfiguration(
  run: RunRecord,
): { forest: Partial<ForestOptions>; engineered: boolean; objective: Objective; minAccuracy: number } {
  const model = run.params.model as Record<string, unknown> | undefined;
  if (!model) throw new Error(`run ${run.run_id} has no model params (status ${run.status})`);
  const { engineered_features, threshold: _threshold, ...forest } = model;
  return {
    forest: forest as Partial<ForestOptions>,
    engineered: engineered_features as boolean,
    objective: (run.params.objective as Objective) ?? "cost",
    minAccuracy: (run.params.min_accuracy as number) ?? 0.7,
  };
}

/** Runs the repeated CV for a configuration; `onFold` reports progress. */
export async function repeatedCv(
  config: ReturnType<typeof runConfiguration>,
  options: EvaluateOptions,
  onFold?: (done: number, total: number) => void,
): Promise<RepeatedCvResult> {
  const started = performance.now();
  const table = await loadCreditTable(options.dataPath);
  const y = table.bad!;
  const outer = repeatedStratifiedKFold(y, {
    k: options.folds,
    repeats: options.repeats,
    seed: options.seed,
  });
  const metrics = {
    roc_auc: [],
    recall_bad: [],
    accuracy: [],
    cost: [],
    specificity: [],
    threshold: [],
  } as Record<
    keyof Omit<RepeatedCvResult, "protocol" | "duration_ms">,
    number[]
  >;
  for (let i = 0; i < outer.length; i++) {
    const { train, test } = outer[i];
    // Everything fitted — encoder levels, inner folds, threshold, forest — sees the training part only.
    const encoder = FeatureEncoder.fit(selectRows(table.frame, train), { engineered: config.engineered });
    const X = encoder.transformFrame(table.frame);
    const XTrain = takeRows(X, train);
    const yTrain = takeValues(y, train);
    const seed = options.seed + i;
    const inner = stratifiedKFold(yTrain, { k: options.innerFolds, seed });
    const oof = await outOfFoldProbabilities(XTrain, yTrain, inner, { ...config.forest, seed });
    const { threshold } = scoreObjective(config.objective, yTrain, oof, config.minAccuracy);
    const forest = new BalancedRandomForest({ ...config.forest, seed }).fit(XTrain, yTrain);
    const report = metricsReport(takeValues(y, test), forest.predictProba(takeRows(X, test)), threshold);
    metrics.roc_auc.push(report.roc_auc);
    metrics.recall_bad.push(report.recall_bad);
    metrics.accuracy.push(report.accuracy);
    metrics.cost.push(report.cost);
    metrics.specificity.push(report.specificity);
    metrics.threshold.push(threshold);
    onFold?.(i + 1, outer.length);
  }
  const estimate = (values: number[]): Estimate => {
    const m = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
    return { mean: m, sd, values };
  };
  return {
    protocol:
      `${options.repeats} × ${options.folds}-fold repeated stratified CV on all ${y.length} rows, seed ${options.seed}; ` +
      `hyperparameters fixed from tuning; threshold chosen in each outer training part by ${options.innerFolds}-fold inner ` +
      `out-of-fold predictions (objective ${config.objective}), applied to the held-out part`,
    roc_auc: estimate(metrics.roc_auc),
    recall_bad: estimate(metrics.recall_bad),
    accuracy: estimate(metrics.accuracy),
    cost: estimate(metrics.cost),
    specificity: estimate(metrics.specificity),
    threshold: estimate(metrics.threshold),
    duration_ms: Math.round(performance.now() - started),
  };
}

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

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
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
  });
  if (values.help) {
    console.log(
      "usage: deno task evaluate [--run ID] [--repeats 5] [--folds 10] [--inner-folds 5] [--seed 42] [--json]",
    );
    return 0;
  }
  const modelsDir = values["models-dir"]!;
  let runId = values.run;
  if (!runId) {
    const production = productionModel(await readRegistry(modelsDir));
    if (!production) {
      console.error(
        "evaluate: no production model in the registry; pass --run ID or run `deno task train` first",
      );
      return 1;
    }
    runId = production.run_id;
  }
  const run = await readRun(runId, modelsDir);
  if (!run) {
    console.error(`evaluate: no run ${runId} under ${modelsDir}/runs`);
    return 1;
  }
  const numbers = Object.fromEntries(
    (["repeats", "folds", "inner-folds", "seed"] as const).map((k) => {
      const n = Number(values[k]);
      if (!Number.isInteger(n) || n < (k === "seed" ? 0 : k === "repeats" ? 1 : 2)) {
        throw new Error(`--${k} must be a whole number, got ${values[k]}`);
      }
      return [k, n];
    }),
  );
  const tty = Deno.stderr.isTerminal();
  const configuration = runConfiguration(run);
  if (values.plain) configuration.forest = { ...configuration.forest, balanced: false };
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
  const current = await readRun(runId, modelsDir);
  if (current) {
    current.metrics[values.plain ? "repeated_cv_plain" : "repeated_cv"] = result;
    await writeJsonAtomic(`${modelsDir}/runs/${runId}/run.json`, current);
    await writeFileAtomic(`${modelsDir}/runs/${runId}/MODEL_CARD.md`, modelCard(current));
  }
  console.log(values.json ? JSON.stringify(result, null, 2) : `run ${runId}\n${formatEstimate(result)}`);
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`evaluate: ${(error as Error).message}`);
    Deno.exit(1);
  }
}
