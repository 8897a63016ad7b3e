/**
 * Cutting a numeric variable into bins for the bad-rate and weight-of-evidence tables: one bin per
 * value for banded attributes, quantile bins at observed values otherwise.
 * @module
 */

import { binIndex } from "../../stats.ts";
import { type GroupCounts, sameLength } from "./groups.ts";

/** How a numeric variable is cut into bins. */
export interface NumericBinning {
  /** Inclusive upper edge of every bin but the last: bin k holds `edges[k-1] < v <= edges[k]`. */
  readonly edges: readonly number[];
  /** One label per bin: its observed range for whole numbers ("13–18"), else its edges ("≤ 80.2"). */
  readonly labels: readonly string[];
  /** "value" when each distinct value is its own bin, "quantile" when cut at quantiles. */
  readonly method: "value" | "quantile";
}

/** Options of {@link numericBinning}. */
export interface BinningOptions {
  /** At most this many quantile bins. Default 5 (quintiles). */
  quantiles?: number;
  /** Variables with at most this many distinct values get one bin per value. Default 6. */
  maxDistinct?: number;
  /** Formats a value in a label. Default: integers as they are, others to 3 significant digits. */
  format?: (value: number) => string;
}

/** Formats a number for a bin label: integers plainly, others to three significant digits. */
export function formatBinValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

/**
 * Bins for a numeric variable: one per value when it has few distinct values (banded attributes
 * such as the instalment rate), else up to `quantiles` bins cut at the data's quantiles. Edges are
 * observed values, so tied values never straddle two bins.
 */
export function numericBinning(values: ArrayLike<number>, options: BinningOptions = {}): NumericBinning {
  const { quantiles = 5, maxDistinct = 6, format = formatBinValue } = options;
  if (!Number.isInteger(quantiles) || quantiles < 1) {
    throw new RangeError(`quantiles must be a positive integer, got ${quantiles}`);
  }
  if (values.length === 0) throw new RangeError("numericBinning needs at least one value");
  const sorted = Float64Array.from(values).sort();
  if (!sorted.every(Number.isFinite)) throw new RangeError("numericBinning needs finite values");
  const distinct = [...new Set(sorted)];
  let edges: number[];
  let method: NumericBinning["method"];
  if (distinct.length <= maxDistinct) {
    edges = distinct.slice(0, -1);
    method = "value";
  } else {
    const cuts = new Set<number>();
    for (let k = 1; k < quantiles; k++) {
      const cut = sorted[Math.ceil((k * sorted.length) / quantiles) - 1];
      if (cut < sorted[sorted.length - 1]) cuts.add(cut);
    }
    edges = [...cuts].sort((a, b) => a - b);
    method = "quantile";
  }
  const lows = new Array<number>(edges.length + 1).fill(Infinity);
  const highs = new Array<number>(edges.length + 1).fill(-Infinity);
  for (const v of sorted) {
    const bin = binIndex(edges, v);
    lows[bin] = Math.min(lows[bin], v);
    highs[bin] = Math.max(highs[bin], v);
  }
  const labels = sorted.every(Number.isInteger)
    ? lows.map((low, i) => low === highs[i] ? format(low) : `${format(low)}–${format(highs[i])}`)
    : lows.map((_, i) =>
      edges.length === 0
        ? `${format(lows[0])}–${format(highs[0])}`
        : i === 0
        ? `≤ ${format(edges[0])}`
        : i === edges.length
        ? `> ${format(edges[i - 1])}`
        : `${format(edges[i - 1])} < x ≤ ${format(edges[i])}`
    );
  return { edges, labels, method };
}

/** Good/bad counts per bin of a numeric variable. */
export function countsByBin(
  values: ArrayLike<number>,
  bad: ArrayLike<number>,
  binning: NumericBinning,
): GroupCounts[] {
  sameLength(values, bad);
  const groups = binning.labels.map((label) => ({ key: label, label, good: 0, bad: 0 }));
  for (let i = 0; i < values.length; i++) {
    const g = groups[binIndex(binning.edges, values[i])];
    if (bad[i] === 1) g.bad++;
    else g.good++;
  }
  return groups;
}
