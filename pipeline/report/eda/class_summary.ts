/**
 * How a variable differs between good and bad applicants: summary statistics per class, the
 * standardised mean difference, the riskiest and safest groups, and the by-class pairs the
 * distribution charts draw.
 * @module
 */

import { meanAndSd, quantile } from "../../stats.ts";
import { type GroupBadRate, sameLength } from "./groups.ts";

/** Summary statistics of a numeric variable within one class (or all rows). */
export interface NumericSummary {
  group: "good" | "bad" | "all";
  n: number;
  mean: number;
  sd: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/** Count, mean, sample sd, min, quartiles and max of a numeric variable for good, bad and all rows. */
export function numericSummaryByClass(values: ArrayLike<number>, bad: ArrayLike<number>): NumericSummary[] {
  sameLength(values, bad);
  const groups = { good: [] as number[], bad: [] as number[], all: [] as number[] };
  for (let i = 0; i < values.length; i++) {
    groups[bad[i] === 1 ? "bad" : "good"].push(values[i]);
    groups.all.push(values[i]);
  }
  return (["good", "bad", "all"] as const).map((group) => {
    const sorted = Float64Array.from(groups[group]).sort();
    const n = sorted.length;
    const { mean, sd } = meanAndSd(sorted);
    return {
      group,
      n,
      mean,
      sd,
      min: sorted[0],
      q1: quantile(sorted, 0.25),
      median: quantile(sorted, 0.5),
      q3: quantile(sorted, 0.75),
      max: sorted[n - 1],
    };
  });
}

/** Difference of the class means in units of the overall sample sd: `(mean bad − mean good) / sd`. */
export function standardisedMeanDifference(values: ArrayLike<number>, bad: ArrayLike<number>): number {
  const [good, badSummary, all] = numericSummaryByClass(values, bad);
  return all.sd === 0 ? 0 : (badSummary.mean - good.mean) / all.sd;
}

/** The riskiest and the safest group by bad rate among groups of at least `minCount` applicants. */
export function extremeGroups(
  groups: readonly GroupBadRate[],
  minCount = 20,
): { riskiest: GroupBadRate; safest: GroupBadRate } | null {
  const large = groups.filter((g) => g.count >= minCount);
  if (large.length < 2) return null;
  const byRate = [...large].sort((a, b) => b.badRate - a.badRate || b.count - a.count);
  return { riskiest: byRate[0], safest: byRate[byRate.length - 1] };
}

/** Pairs each value with its class name, the input of the by-class distribution charts. */
export function classValues(
  values: ArrayLike<number>,
  bad: ArrayLike<number>,
): { value: number; label: "good" | "bad" }[] {
  sameLength(values, bad);
  return Array.from({ length: values.length }, (_, i) => ({
    value: values[i],
    label: bad[i] === 1 ? "bad" as const : "good" as const,
  }));
}
