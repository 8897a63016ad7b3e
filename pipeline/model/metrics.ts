/**
 * Evaluation metrics for the good (0) / bad (1) credit-risk classifier.
 *
 * Conventions used by every function here:
 * - the positive class is bad = 1, and `scores` are probabilities (or any monotone score) of bad;
 * - a row is predicted bad when `score >= threshold`; `threshold = Infinity` declines nobody;
 * - a ratio whose denominator is zero is 0 (scikit-learn's `zero_division=0`);
 * - tied scores are never split: curves and sweeps move from one distinct score to the next.
 * @module
 */

import { ascendingOrder, checkBinaryScores, countPositives, requireBothClasses, rocAuc } from "../stats.ts";

/** Re-exported from the statistics leaf, where the forest's permutation importance also finds it. */
export { rocAuc };

/** Misclassification costs; a missed bad customer usually costs far more than a refused good one. */
export interface Costs {
  /** Cost of predicting good for a bad customer (a loan that defaults). */
  falseNegative: number;
  /** Cost of predicting bad for a good customer (business turned away). */
  falsePositive: number;
}

/** The German Credit cost matrix: bad predicted good costs 5, good predicted bad costs 1. */
export const DEFAULT_COSTS: Readonly<Costs> = Object.freeze({ falseNegative: 5, falsePositive: 1 });

/** Counts of a binary confusion matrix with bad = positive. */
export interface ConfusionMatrix {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Threshold-dependent metrics; snake_case so they can be logged as they are. */
export interface ClassificationMetrics {
  recall_bad: number;
  specificity: number;
  precision: number;
  accuracy: number;
  balanced_accuracy: number;
  f1: number;
  f2: number;
  cost: number;
}

/** One point of a ROC curve: rows with `score >= threshold` are predicted bad. */
export interface RocPoint {
  threshold: number;
  fpr: number;
  tpr: number;
}

/** One point of a precision–recall curve: rows with `score >= threshold` are predicted bad. */
export interface PrPoint {
  threshold: number;
  precision: number;
  recall: number;
}

/** Metrics of one candidate threshold in {@link thresholdSweep}. */
export interface SweepPoint extends ConfusionMatrix {
  threshold: number;
  cost: number;
  recall_bad: number;
  specificity: number;
  accuracy: number;
}

/** Everything {@link metricsReport} measures, as one plain, loggable object. */
export interface MetricsReport extends ClassificationMetrics {
  roc_auc: number;
  pr_auc: number;
  ks: number;
  gini: number;
  brier: number;
  threshold: number;
  confusion: ConfusionMatrix;
}

/** Counts predictions at `threshold` (bad when `score >= threshold`). */
export function confusionMatrix(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
): ConfusionMatrix {
  checkBinaryScores(labels, scores);
  validateThreshold(threshold);
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const predictedBad = scores[i] >= threshold;
    if (labels[i] === 1) predictedBad ? tp++ : fn++;
    else predictedBad ? fp++ : tn++;
  }
  return { tp, fp, tn, fn };
}

/** Recall of bad, specificity, precision, accuracy, balanced accuracy, F1, F2 and cost at `threshold`. */
export function classificationMetrics(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  costs: Costs = DEFAULT_COSTS,
): ClassificationMetrics {
  validateCosts(costs);
  return metricsFromConfusion(confusionMatrix(labels, scores, threshold), costs);
}

/** Mean cost per row, `(costs.falseNegative·FN + costs.falsePositive·FP) / N`. */
export function expectedCost(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  costs: Costs = DEFAULT_COSTS,
): number {
  validateCosts(costs);
  return costOf(confusionMatrix(labels, scores, threshold), costs);
}

/** Gini coefficient, `2·AUC − 1`. */
export function gini(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  return 2 * rocAuc(labels, scores) - 1;
}

/** ROC points from the strictest cut (`Infinity`, nobody bad) down to the lowest distinct score. */
export function rocCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): RocPoint[] {
  checkBinaryScores(labels, scores);
  const { positives, negatives } = requireBothClasses(labels, "rocCurve");
  const points: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  for (const cut of descendingCuts(labels, scores)) {
    points.push({ threshold: cut.threshold, fpr: cut.fp / negatives, tpr: cut.tp / positives });
  }
  return points;
}

/** Kolmogorov–Smirnov statistic, the largest `TPR − FPR` over all cuts. */
export function ksStatistic(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  let best = 0;
  for (const point of rocCurve(labels, scores)) best = Math.max(best, point.tpr - point.fpr);
  return best;
}

/**
 * Precision–recall points from the strictest cut down to the lowest distinct score; the first
 * point is scikit-learn's anchor (threshold `Infinity`, precision 1, recall 0).
 */
export function prCurve(labels: ArrayLike<number>, scores: ArrayLike<number>): PrPoint[] {
  checkBinaryScores(labels, scores);
  const positives = countPositives(labels);
  if (positives === 0) throw new RangeError("prCurve needs at least one bad (label 1) row");
  const points: PrPoint[] = [{ threshold: Infinity, precision: 1, recall: 0 }];
  for (const cut of descendingCuts(labels, scores)) {
    points.push({
      threshold: cut.threshold,
      precision: cut.tp / (cut.tp + cut.fp),
      recall: cut.tp / positives,
    });
  }
  return points;
}

/** Average precision as scikit-learn computes it: `Σ (Rₙ − Rₙ₋₁)·Pₙ`, no interpolation. */
export function prAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const points = prCurve(labels, scores);
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    area += (points[i].recall - points[i - 1].recall) * points[i].precision;
  }
  return area;
}

/** Mean squared difference between the score and the 0/1 label. */
export function brierScore(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkBinaryScores(labels, scores);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum += (scores[i] - labels[i]) ** 2;
  return sum / labels.length;
}

/**
 * Metrics at every distinct score used as threshold, ascending, followed by `Infinity` (declines
 * nobody). Sorts once, so O(n log n).
 */
export function thresholdSweep(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  costs: Costs = DEFAULT_COSTS,
): SweepPoint[] {
  checkBinaryScores(labels, scores);
  validateCosts(costs);
  const positives = countPositives(labels);
  const negatives = labels.length - positives;
  const cuts = descendingCuts(labels, scores);
  const points: SweepPoint[] = [];
  const push = (threshold: number, tp: number, fp: number) => {
    const cm = { tp, fp, tn: negatives - fp, fn: positives - tp };
    const m = metricsFromConfusion(cm, costs);
    points.push({
      threshold,
      cost: m.cost,
      recall_bad: m.recall_bad,
      specificity: m.specificity,
      accuracy: m.accuracy,
      ...cm,
    });
  };
  for (let i = cuts.length - 1; i >= 0; i--) push(cuts[i].threshold, cuts[i].tp, cuts[i].fp);
  push(Infinity, 0, 0);
  return points;
}

/**
 * The threshold of least expected cost.
 *
 * A cut at distinct score `sᵢ` classifies exactly like any threshold in `(sᵢ₋₁, sᵢ]`, so the
 * returned threshold is the midpoint of that interval rather than its edge, which generalises
 * better to unseen scores. When consecutive cuts `sᵢ … sⱼ` tie at the minimum, the midpoint of
 * `(sᵢ₋₁, sⱼ]` is returned; among separate tied runs, the one with most cuts wins, then the lowest.
 * Below the lowest score there is no data, so a run starting there uses that score as its lower
 * edge; a run reaching "decline nobody" returns `Infinity`.
 */
export function costOptimalThreshold(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  costs: Costs = DEFAULT_COSTS,
): { threshold: number; cost: number } {
  const sweep = thresholdSweep(labels, scores, costs);
  let minCost = Infinity;
  for (const point of sweep) minCost = Math.min(minCost, point.cost);
  const tolerance = 1e-12 * Math.max(1, Math.abs(minCost));
  const isMinimal = (i: number) => sweep[i].cost <= minCost + tolerance;

  let bestStart = -1, bestEnd = -1;
  for (let i = 0; i < sweep.length; i++) {
    if (!isMinimal(i)) continue;
    let j = i;
    while (j + 1 < sweep.length && isMinimal(j + 1)) j++;
    if (bestStart < 0 || j - i > bestEnd - bestStart) [bestStart, bestEnd] = [i, j];
    i = j;
  }
  return { threshold: midpointThreshold(sweep, bestStart, bestEnd), cost: minCost };
}

/**
 * The threshold that catches the most bad customers while keeping accuracy at least `minAccuracy`;
 * ties in recall go to the higher accuracy. The threshold is the midpoint of the chosen cut's
 * interval, as in {@link costOptimalThreshold}. `null` when no threshold reaches `minAccuracy`.
 */
export function bestRecallThreshold(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: { minAccuracy: number },
): { threshold: number; recall_bad: number; accuracy: number } | null {
  const { minAccuracy } = options;
  if (!(minAccuracy >= 0 && minAccuracy <= 1)) {
    throw new RangeError(`minAccuracy must lie in [0, 1], got ${minAccuracy}`);
  }
  const sweep = thresholdSweep(labels, scores);
  let best = -1;
  for (let i = 0; i < sweep.length; i++) {
    const point = sweep[i];
    if (point.accuracy < minAccuracy - 1e-12) continue;
    if (
      best < 0 || point.recall_bad > sweep[best].recall_bad ||
      (point.recall_bad === sweep[best].recall_bad && point.accuracy > sweep[best].accuracy)
    ) best = i;
  }
  if (best < 0) return null;
  return {
    threshold: midpointThreshold(sweep, best, best),
    recall_bad: sweep[best].recall_bad,
    accuracy: sweep[best].accuracy,
  };
}

/** Every metric of this module at `threshold`, in one snake_case object. */
export function metricsReport(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  costs: Costs = DEFAULT_COSTS,
): MetricsReport {
  const auc = rocAuc(labels, scores);
  const confusion = confusionMatrix(labels, scores, threshold);
  validateCosts(costs);
  return {
    roc_auc: auc,
    pr_auc: prAuc(labels, scores),
    ks: ksStatistic(labels, scores),
    gini: 2 * auc - 1,
    brier: brierScore(labels, scores),
    ...metricsFromConfusion(confusion, costs),
    threshold,
    confusion,
  };
}

interface Cut {
  threshold: number;
  tp: number;
  fp: number;
}

/** Cumulative counts at each distinct score, descending: rows with `score >= threshold` are bad. */
function descendingCuts(labels: ArrayLike<number>, scores: ArrayLike<number>): Cut[] {
  const order = ascendingOrder(scores).reverse();
  const cuts: Cut[] = [];
  let tp = 0, fp = 0;
  for (let i = 0; i < order.length; i++) {
    const index = order[i];
    if (labels[index] === 1) tp++;
    else fp++;
    const isLastOfTie = i + 1 === order.length || scores[order[i + 1]] !== scores[index];
    if (isLastOfTie) cuts.push({ threshold: scores[index], tp, fp });
  }
  return cuts;
}

function midpointThreshold(sweep: SweepPoint[], start: number, end: number): number {
  const upper = sweep[end].threshold;
  const lower = start === 0 ? sweep[0].threshold : sweep[start - 1].threshold;
  return upper === Infinity ? Infinity : (lower + upper) / 2;
}

function metricsFromConfusion(cm: ConfusionMatrix, costs: Costs): ClassificationMetrics {
  const { tp, fp, tn, fn } = cm;
  const recall = ratio(tp, tp + fn);
  const specificity = ratio(tn, tn + fp);
  const precision = ratio(tp, tp + fp);
  return {
    recall_bad: recall,
    specificity,
    precision,
    accuracy: ratio(tp + tn, tp + fp + tn + fn),
    balanced_accuracy: (recall + specificity) / 2,
    f1: fBeta(precision, recall, 1),
    f2: fBeta(precision, recall, 2),
    cost: costOf(cm, costs),
  };
}

function fBeta(precision: number, recall: number, beta: number): number {
  const b2 = beta * beta;
  return ratio((1 + b2) * precision * recall, b2 * precision + recall);
}

function costOf(cm: ConfusionMatrix, costs: Costs): number {
  return (costs.falseNegative * cm.fn + costs.falsePositive * cm.fp) / (cm.tp + cm.fp + cm.tn + cm.fn);
}

function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function validateThreshold(threshold: number): void {
  if (typeof threshold !== "number" || Number.isNaN(threshold)) {
    throw new RangeError(`threshold must be a number, got ${threshold}`);
  }
}

function validateCosts(costs: Costs): void {
  for (const key of ["falseNegative", "falsePositive"] as const) {
    const value = costs[key];
    if (!(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`costs.${key} must be a finite non-negative number, got ${value}`);
    }
  }
}
