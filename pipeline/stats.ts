/**
 * Small statistics shared by the report, monitoring and charts: quantiles, mean and standard
 * deviation, quantile cut points and the bin a value falls in. A leaf module: it imports nothing.
 * @module
 */

/** Quantile by linear interpolation between order statistics (R-7, as numpy, d3 and vega compute it). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

/** Mean and sample standard deviation (ddof 1; 0 for fewer than two values). */
export function meanAndSd(values: ArrayLike<number>): { mean: number; sd: number } {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
  return { mean, sd: n > 1 ? Math.sqrt(squares / (n - 1)) : 0 };
}

/** Arithmetic mean (NaN for no values). */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
}

/** Cut points at the `bins`-quantiles of `values` (nearest rank), without repeats or the maximum itself. */
export function quantileEdges(values: ArrayLike<number>, bins: number): number[] {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return [];
  const max = sorted[sorted.length - 1];
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const edge = sorted[Math.max(0, Math.ceil((q / bins) * sorted.length) - 1)];
    if (edge < max && edge !== edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

/**
 * The bin a value falls in, given ascending cut points: the number of edges strictly below it, so
 * bin k holds values in `(edges[k−1], edges[k]]` and the last bin holds everything above.
 */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
