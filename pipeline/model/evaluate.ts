/**
 * The robust estimate of a run's configuration: 5 × 10-fold repeated stratified CV on the whole data
 * set with the run's hyperparameters fixed; in every outer fold the threshold is chosen on inner
 * out-of-fold predictions of the training part only, then applied to the held-out part. The
 * command line, `deno task evaluate`, is `cli/evaluate.ts`.
 * @module
 */

import { type AttributeProfile, FULL_PROFILE, profileFromRecord } from "../data/profile.ts";
import { loadCreditTable, selectRows } from "../data/etl.ts";
import { UserError } from "../errors.ts";
import { FeatureEncoder } from "../features/encoder.ts";
import { BalancedRandomForest, type ForestOptions } from "../forest/mod.ts";
import { metricsReport } from "./metrics.ts";
import { type Objective, outOfFoldProbabilities, scoreObjective, takeRows, takeValues } from "./objective.ts";
import { replayParams } from "./search_space.ts";
import { repeatedStratifiedKFold, stratifiedKFold } from "../data/split.ts";
import { meanAndSd } from "../stats.ts";
import { chosenHyperparameters, type RunRecord } from "../tracking/mod.ts";

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

/** A configuration to estimate: forest options, the feature switch, and how its threshold is chosen. */
export interface RunConfiguration {
  forest: Partial<ForestOptions>;
  engineered: boolean;
  objective: Objective;
  minAccuracy: number;
  /** What the run's model could see: refits must not see more (`data/profile.ts`). */
  profile: AttributeProfile;
}

/**
 * The configuration a run chose: its `params.model` replayed through the search's own `suggest`
 * code by a fixed trial, with the final model's number of trees.
 */
export function runConfiguration(run: RunRecord): RunConfiguration {
  const hyperparameters = chosenHyperparameters(run);
  if (!hyperparameters) {
    throw new UserError(`run ${run.run_id} has no model params (status ${run.status})`);
  }
  let replayed;
  try {
    replayed = replayParams(hyperparameters);
  } catch (error) {
    throw new UserError(`run ${run.run_id}: ${(error as Error).message}`, { cause: error });
  }
  if (run.params.mitigation !== undefined && run.params.mitigation !== "none") {
    // A refit without the row weights would estimate another model than the one the run made.
    throw new UserError(
      `run ${run.run_id} was trained with mitigation ${JSON.stringify(run.params.mitigation)}, which ` +
        "repeated CV does not replay; use deno task evaluate --nested with the same flags",
    );
  }
  let profile: AttributeProfile;
  try {
    profile = run.params.attribute_profile === undefined ? FULL_PROFILE : profileFromRecord({
      name: run.params.attribute_profile,
      excluded: run.params.excluded_attributes ?? [],
    });
  } catch (error) {
    throw new UserError(`run ${run.run_id}: ${(error as Error).message}`, { cause: error });
  }
  const trees = run.params.trees;
  return {
    profile,
    forest: { ...replayed.forest, ...(typeof trees === "number" ? { nEstimators: trees } : {}) },
    engineered: replayed.engineered,
    objective: (run.params.objective as Objective) ?? "cost",
    minAccuracy: (run.params.min_accuracy as number) ?? 0.7,
  };
}

/** Runs the repeated CV for a configuration; `onFold` reports progress. */
export async function repeatedCv(
  config: RunConfiguration,
  options: EvaluateOptions,
  onFold?: (done: number, total: number) => void,
): Promise<RepeatedCvResult> {
  const started = performance.now();
  const table = await loadCreditTable(options.dataPath);
  const y = table.bad;
  if (!y) throw new UserError(`${options.dataPath} has no class column to evaluate on`);
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
    const encoder = FeatureEncoder.fit(selectRows(table.frame, train), {
      engineered: config.engineered,
      excluded: config.profile.excluded,
    });
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
  const estimate = (values: number[]): Estimate => ({ ...meanAndSd(values), values });
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
