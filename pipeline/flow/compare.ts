/**
 * Challenger against champion on identical folds of the new data: repeated stratified K-fold; in
 * every outer fold each model's recorded configuration (its hyperparameters, feature switch,
 * number of trees and objective, replayed from its run) is refitted on the fold's training part,
 * its threshold chosen by inner out-of-fold predictions of that training part only, and the fold's
 * test rows scored once. Both models see the same folds and the same forest seeds, so the per-fold
 * differences are paired; their mean gets Nadeau & Bengio's corrected SE (`model/compare.ts`). The
 * fairness report (`monitoring/fairness.ts`) is taken on the out-of-fold decisions of all folds.
 *
 * That compares the two training procedures. What would be deployed is the challenger's fitted
 * artifact, so {@link artifactCheck} also scores both artifacts on the challenger's held-out test
 * rows: a fit gone wrong (labels scrambled before training, a broken final fit) shows there and not
 * in the refitted folds.
 * @module
 */

import type { CreditTable } from "../data/etl.ts";
import { selectRows, toApplicants } from "../data/etl.ts";
import { repeatedStratifiedKFold, stratifiedKFold } from "../data/split.ts";
import { UserError } from "../errors.ts";
import { FeatureEncoder } from "../features/encoder.ts";
import { BalancedRandomForest } from "../forest/mod.ts";
import {
  correctedResampledT,
  type FoldValue,
  type PairedSummary,
  pairFolds,
  testTrainRatio,
} from "../model/compare.ts";
import type { RunConfiguration } from "../model/evaluate.ts";
import type { CreditModel } from "../model/artifact.ts";
import { DEFAULT_COSTS, metricsReport, rocAuc } from "../model/metrics.ts";
import { meanAndSd } from "../stats.ts";
import {
  type Objective,
  outOfFoldProbabilities,
  scoreObjective,
  takeRows,
  takeValues,
} from "../model/objective.ts";
import { type FairnessComparison, fairnessReport } from "../monitoring/fairness.ts";

/** The comparison's protocol settings (`compare` of the flow config). */
export interface PairedCvOptions {
  repeats: number;
  folds: number;
  innerFolds: number;
  seed: number;
  /** Trees for both models in every fold; null: each its own. */
  trees: number | null;
}

/** The fold metrics compared, and which way is better. */
export const PAIRED_METRICS = { cost: "minimize", roc_auc: "maximize", recall_bad: "maximize" } as const;

/** A compared metric. */
export type PairedMetric = keyof typeof PAIRED_METRICS;

/** The metric the gate reads for an objective. */
export function gateMetric(objective: Objective): PairedMetric {
  return objective === "auc" ? "roc_auc" : objective === "recall" ? "recall_bad" : "cost";
}

/** One model's per-fold values and its pooled fairness report. */
export interface ModelFolds {
  values: Record<PairedMetric, FoldValue[]>;
  fairness: FairnessComparison[];
}

/** The comparison's result. */
export interface PairedCvResult {
  protocol: string;
  folds: number;
  test_train_ratio: number;
  /** Per metric: challenger − champion per fold, summarised (mean, SD, corrected SE, t, interval). */
  differences: Record<PairedMetric, PairedSummary & { challenger_mean: number; champion_mean: number }>;
  challenger: ModelFolds;
  champion: ModelFolds;
}

/** Runs the paired comparison of two configurations on `table` (which must be labelled). */
export async function pairedCv(
  table: CreditTable,
  models: { challenger: RunConfiguration; champion: RunConfiguration },
  options: PairedCvOptions,
  onFold?: (done: number, total: number) => void,
  signal?: AbortSignal,
): Promise<PairedCvResult> {
  const y = table.bad;
  if (!y) throw new UserError("the data has no class column to compare models on");
  const outer = repeatedStratifiedKFold(y, {
    k: options.folds,
    repeats: options.repeats,
    seed: options.seed,
  });
  const applicants = toApplicants(table.frame);
  const sides = ["challenger", "champion"] as const;
  const collected = Object.fromEntries(sides.map((side) => [side, {
    values: { cost: [], roc_auc: [], recall_bad: [] } as Record<PairedMetric, FoldValue[]>,
    declined: [] as boolean[],
    labels: [] as number[],
    rows: [] as number[],
  }])) as Record<(typeof sides)[number], {
    values: Record<PairedMetric, FoldValue[]>;
    declined: boolean[];
    labels: number[];
    rows: number[];
  }>;
  for (let i = 0; i < outer.length; i++) {
    signal?.throwIfAborted();
    const { train, test, repeat, fold } = outer[i];
    const yTrain = takeValues(y, train);
    const yTest = takeValues(y, test);
    const trainFrame = selectRows(table.frame, train);
    const inner = stratifiedKFold(yTrain, { k: options.innerFolds, seed: options.seed + i });
    for (const side of sides) {
      const config = models[side];
      const forest = {
        ...config.forest,
        ...(options.trees === null ? {} : { nEstimators: options.trees }),
        seed: options.seed + i,
      };
      // Everything fitted (encoder levels, threshold, forest) sees the fold's training part only.
      const encoder = FeatureEncoder.fit(trainFrame, {
        engineered: config.engineered,
        excluded: config.profile.excluded,
      });
      const X = encoder.transformFrame(table.frame);
      const XTrain = takeRows(X, train);
      const oof = await outOfFoldProbabilities(XTrain, yTrain, inner, forest);
      const { threshold } = scoreObjective(config.objective, yTrain, oof, config.minAccuracy);
      const model = new BalancedRandomForest(forest).fit(XTrain, yTrain);
      const p = model.predictProba(takeRows(X, test));
      const report = metricsReport(yTest, p, threshold);
      const out = collected[side];
      for (const metric of Object.keys(PAIRED_METRICS) as PairedMetric[]) {
        out.values[metric].push({ repeat, fold, value: report[metric] });
      }
      for (let t = 0; t < test.length; t++) {
        out.rows.push(test[t]);
        out.labels.push(yTest[t]);
        out.declined.push(p[t] >= threshold);
      }
    }
    onFold?.(i + 1, outer.length);
  }
  const ratio = testTrainRatio(outer.map((f) => ({ n_test: f.test.length, n_train: f.train.length })));
  const differences = Object.fromEntries(
    (Object.keys(PAIRED_METRICS) as PairedMetric[]).map((metric) => {
      const paired = pairFolds(collected.challenger.values[metric], collected.champion.values[metric], {
        a: "challenger",
        b: "champion",
      });
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      return [metric, {
        ...correctedResampledT(paired.map((p) => p.difference), ratio),
        challenger_mean: mean(paired.map((p) => p.a)),
        champion_mean: mean(paired.map((p) => p.b)),
      }];
    }),
  ) as PairedCvResult["differences"];
  const fairnessOf = (side: (typeof sides)[number]) => {
    const c = collected[side];
    return fairnessReport(c.rows.map((r) => applicants[r]), c.labels, c.declined);
  };
  return {
    protocol: `${options.repeats} × ${options.folds}-fold repeated stratified CV on all ${y.length} rows ` +
      `of the new data, seed ${options.seed}; identical folds and forest seeds for both models; each ` +
      `model's recorded hyperparameters refitted in every fold (${
        options.trees === null ? "each with its own number of trees" : `${options.trees} trees each`
      }), its threshold chosen by ${options.innerFolds}-fold inner out-of-fold predictions of the ` +
      `fold's training part (its own objective); differences challenger − champion per fold, ` +
      `corrected SE of Nadeau & Bengio (2003); fairness on the out-of-fold decisions of all folds`,
    folds: outer.length,
    test_train_ratio: ratio,
    differences,
    challenger: { values: collected.challenger.values, fairness: fairnessOf("challenger") },
    champion: { values: collected.champion.values, fairness: fairnessOf("champion") },
  };
}

/** The one-sided 95 % normal quantile: the artifact check refuses only a significant excess. */
export const ARTIFACT_CHECK_Z = 1.645;

/**
 * The two fitted artifacts (the one that would serve and the one serving) scored on the same
 * labelled rows, each at its own threshold: per-row cost (5 for a bad risk approved, 1 for a good
 * one declined) and its paired difference.
 */
export interface ArtifactCheck {
  rows: number;
  challenger_cost: number;
  champion_cost: number;
  /** Mean per-row cost, challenger − champion. */
  difference: number;
  /** Standard error of that mean: SD of the per-row differences / √rows (rows independent given both models). */
  se: number;
  challenger_auc: number;
  champion_auc: number;
  rows_from: string;
}

/** Scores two models on `rows` of `table` (labelled) and pairs their per-row costs. */
export function artifactCheck(
  table: CreditTable,
  rows: readonly number[],
  models: { challenger: CreditModel; champion: CreditModel },
  rowsFrom: string,
): ArtifactCheck {
  const y = table.bad;
  if (!y) throw new UserError("the data has no class column to score the artifacts on");
  if (rows.length < 2) throw new UserError(`the artifact check needs at least 2 rows, got ${rows.length}`);
  const frame = selectRows(table.frame, rows);
  const labels = takeValues(y, rows);
  const { falseNegative, falsePositive } = DEFAULT_COSTS;
  const costs = (model: CreditModel) => {
    const p = model.probabilities(model.encoder.transformFrame(frame));
    const cost = Array.from(labels, (label, i) => {
      const declined = p[i] >= model.threshold;
      return label === 1 ? (declined ? 0 : falseNegative) : (declined ? falsePositive : 0);
    });
    return { p, cost };
  };
  const a = costs(models.challenger);
  const b = costs(models.champion);
  const differences = a.cost.map((c, i) => c - b.cost[i]);
  const { mean: difference, sd } = meanAndSd(differences);
  return {
    rows: rows.length,
    challenger_cost: meanAndSd(a.cost).mean,
    champion_cost: meanAndSd(b.cost).mean,
    difference,
    se: sd / Math.sqrt(rows.length),
    challenger_auc: rocAuc(labels, a.p),
    champion_auc: rocAuc(labels, b.p),
    rows_from: rowsFrom,
  };
}
