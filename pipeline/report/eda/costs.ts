/**
 * What decisions cost under the cost matrix: the Bayes threshold, the trivial policies, the exact
 * cost-by-threshold staircase, and how far a measured cost could move on another sample.
 * @module
 */

import { type Costs, DEFAULT_COSTS, expectedCost } from "../../model/metrics.ts";
import { meanAndSd } from "../../stats.ts";
import { sameLength } from "./groups.ts";

/**
 * The Bayes-optimal threshold on a calibrated P(bad): declining costs `falsePositive·(1 − p)`,
 * approving costs `falseNegative·p`, so decline when `p > falsePositive / (falsePositive + falseNegative)`.
 */
export function bayesThreshold(costs: Costs = DEFAULT_COSTS): number {
  return costs.falsePositive / (costs.falsePositive + costs.falseNegative);
}

/** Each row's score is the bad rate of its group (e.g. its category): an in-sample, calibrated-by-construction score. */
export function groupBadRateScores(keys: ArrayLike<string>, bad: ArrayLike<number>): Float64Array {
  sameLength(keys, bad);
  const tally = new Map<string, { bad: number; count: number }>();
  for (let i = 0; i < keys.length; i++) {
    const t = tally.get(keys[i]) ?? { bad: 0, count: 0 };
    t.bad += bad[i] === 1 ? 1 : 0;
    t.count++;
    tally.set(keys[i], t);
  }
  return Float64Array.from({ length: keys.length }, (_, i) => {
    const t = tally.get(keys[i])!;
    return t.bad / t.count;
  });
}

/** Expected cost per applicant of the two trivial policies: approve everyone, decline everyone. */
export function trivialPolicyCosts(
  bad: ArrayLike<number>,
  costs: Costs = DEFAULT_COSTS,
): { approveAll: number; declineAll: number } {
  const scores = new Float64Array(bad.length);
  return {
    approveAll: expectedCost(bad, scores, Infinity, costs),
    declineAll: expectedCost(bad, scores, 0, costs),
  };
}

/**
 * The exact expected cost of every threshold in `range`, as points for a line chart. A sweep holds one
 * point per distinct score; any threshold between two consecutive scores classifies like the upper
 * one, so the curve is a staircase, which a line through the sweep's points alone would not show.
 */
export function costStaircase(
  sweep: readonly { threshold: number; cost: number }[],
  range: readonly [number, number] = [0, 1],
): { threshold: number; cost: number }[] {
  const [low, high] = range;
  const finite = sweep.filter((p) => Number.isFinite(p.threshold)).sort((a, b) => a.threshold - b.threshold);
  const beyond = sweep.find((p) => p.threshold === Infinity);
  const points: { threshold: number; cost: number }[] = [];
  let previous = low;
  for (const p of finite) {
    if (p.threshold < low || p.threshold > high) continue;
    points.push({ threshold: previous, cost: p.cost }, { threshold: p.threshold, cost: p.cost });
    previous = p.threshold;
  }
  if (beyond) points.push({ threshold: previous, cost: beyond.cost }, { threshold: high, cost: beyond.cost });
  return points;
}

/**
 * Standard error of the expected cost per applicant at `threshold`: the sample sd of the per-row
 * costs (0, `falsePositive` or `falseNegative`) over √n. A rough yardstick for how far a cost
 * measured on a small test part could move on another sample.
 */
export function expectedCostStandardError(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  costs: Costs = DEFAULT_COSTS,
): number {
  sameLength(labels, scores);
  const rowCosts = Float64Array.from(
    { length: labels.length },
    (_, i) =>
      scores[i] >= threshold
        ? (labels[i] === 1 ? 0 : costs.falsePositive)
        : (labels[i] === 1 ? costs.falseNegative : 0),
  );
  return meanAndSd(rowCosts).sd / Math.sqrt(labels.length);
}
