/**
 * Feature importances: scikit-learn's impurity-based (mean decrease in impurity) importances read
 * off the flat trees, and model-agnostic permutation importance on held-out data.
 * @module
 */

import { Random } from "../random.ts";
import { checkLabels, type Matrix, type MatrixLike, toMatrix } from "./matrix.ts";
import { rocAuc } from "../stats.ts";
import type { FlatTree } from "./tree.ts";

/**
 * Mean decrease in impurity per feature, as scikit-learn computes it: each tree's weighted
 * decreases normalised to sum 1, averaged over trees that split at all, normalised again.
 */
export function impurityImportances(trees: readonly FlatTree[], nFeatures: number): Float64Array {
  const total = new Float64Array(nFeatures);
  const perTree = new Float64Array(nFeatures);
  let used = 0;
  for (const tree of trees) {
    if (tree.nodeCount <= 1) continue;
    perTree.fill(0);
    const w = tree.weightedNNodeSamples;
    const imp = tree.impurity;
    for (let i = 0; i < tree.nodeCount; i++) {
      const l = tree.childrenLeft[i];
      if (l < 0) continue;
      const r = tree.childrenRight[i];
      perTree[tree.feature[i]] += w[i] * imp[i] - w[l] * imp[l] - w[r] * imp[r];
    }
    let sum = 0;
    for (let f = 0; f < nFeatures; f++) sum += perTree[f];
    if (sum > 0) { for (let f = 0; f < nFeatures; f++) total[f] += perTree[f] / sum; }
    used++;
  }
  let sum = 0;
  for (let f = 0; f < nFeatures; f++) sum += total[f];
  if (used > 0 && sum > 0) { for (let f = 0; f < nFeatures; f++) total[f] /= sum; }
  return total;
}

/** Anything that scores rows with P(class 1). */
export interface ProbabilityModel {
  /** P(class 1) per row. */
  predictProba(X: Matrix): Float64Array;
}

/** A score where higher is better, e.g. ROC AUC. */
export type Scorer = (yTrue: ArrayLike<number>, probabilities: Float64Array) => number;

/** Options of {@link permutationImportance}. */
export interface PermutationImportanceOptions {
  /** Score to degrade; default ROC AUC. */
  scorer?: Scorer;
  /** Shuffles per feature; default 5. */
  nRepeats?: number;
  /** Seed of the shuffles; default 0. */
  seed?: number;
}

/** Result of {@link permutationImportance}; importances are score drops (baseline − shuffled). */
export interface PermutationImportanceResult {
  /** Score on the unshuffled data. */
  baselineScore: number;
  /** Mean drop per feature. */
  importancesMean: Float64Array;
  /** Population standard deviation of the drop per feature. */
  importancesStd: Float64Array;
  /** `importances[f][k]`: drop of feature f in repeat k. */
  importances: Float64Array[];
}

/** How much the score drops when one feature's column is shuffled, per feature. */
export function permutationImportance(
  model: ProbabilityModel,
  X: MatrixLike,
  y: ArrayLike<number>,
  options: PermutationImportanceOptions = {},
): PermutationImportanceResult {
  const scorer = options.scorer ?? rocAuc;
  const nRepeats = options.nRepeats ?? 5;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(nRepeats) || nRepeats < 1) {
    throw new RangeError(`nRepeats must be an integer ≥ 1, got ${nRepeats}`);
  }
  if (typeof scorer !== "function") throw new TypeError("scorer must be a function");
  const m = toMatrix(X);
  checkLabels(y, m.rows);
  const baselineScore = scorer(y, model.predictProba(m));
  const work: Matrix = { data: m.data.slice(), rows: m.rows, cols: m.cols };
  const column = new Float64Array(m.rows);
  const order = new Int32Array(m.rows);
  const rng = new Random(seed);
  const importances: Float64Array[] = [];
  const importancesMean = new Float64Array(m.cols);
  const importancesStd = new Float64Array(m.cols);
  for (let f = 0; f < m.cols; f++) {
    const drops = new Float64Array(nRepeats);
    for (let r = 0; r < m.rows; r++) column[r] = m.data[r * m.cols + f];
    for (let k = 0; k < nRepeats; k++) {
      for (let r = 0; r < m.rows; r++) order[r] = r;
      rng.shuffle(order);
      for (let r = 0; r < m.rows; r++) work.data[r * m.cols + f] = column[order[r]];
      drops[k] = baselineScore - scorer(y, model.predictProba(work));
    }
    for (let r = 0; r < m.rows; r++) work.data[r * m.cols + f] = column[r];
    let mean = 0;
    for (let k = 0; k < nRepeats; k++) mean += drops[k];
    mean /= nRepeats;
    let variance = 0;
    for (let k = 0; k < nRepeats; k++) variance += (drops[k] - mean) ** 2;
    importancesMean[f] = mean;
    importancesStd[f] = Math.sqrt(variance / nRepeats);
    importances.push(drops);
  }
  return { baselineScore, importancesMean, importancesStd, importances };
}
