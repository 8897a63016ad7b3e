/**
 * Small statistics shared by the report, monitoring and charts: quantiles, mean and standard
 * deviation, quantile cut points and the bin a value falls in; and the ROC AUC of 0/1 labels against
 * scores with its input checks, shared by the forest's permutation importance and `model/metrics.ts`.
 * A leaf module: it imports nothing.
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

/** Area under the ROC curve as the Mann–Whitney statistic; tied scores count one half. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkBinaryScores(labels, scores);
  const { positives, negatives } = requireBothClasses(labels, "rocAuc");
  const order = ascendingOrder(scores);
  let rankSumBad = 0;
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && scores[order[end]] === scores[order[start]]) end++;
    const averageRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) if (labels[order[i]] === 1) rankSumBad += averageRank;
    start = end;
  }
  return (rankSumBad - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Indices of `scores` in ascending score order, ties in index order. */
export function ascendingOrder(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[a] - scores[b] || a - b);
}

/** The number of 1s among 0/1 labels. */
export function countPositives(labels: ArrayLike<number>): number {
  let count = 0;
  for (let i = 0; i < labels.length; i++) count += labels[i];
  return count;
}

/** Both class counts; throws a RangeError naming `caller` when either class is absent. */
export function requireBothClasses(
  labels: ArrayLike<number>,
  caller: string,
): { positives: number; negatives: number } {
  const positives = countPositives(labels);
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) {
    throw new RangeError(
      `${caller} needs both classes in labels, got ${positives} bad and ${negatives} good`,
    );
  }
  return { positives, negatives };
}

/** Throws a RangeError unless `labels` are 0/1, `scores` finite, both non-empty and of one length. */
export function checkBinaryScores(labels: ArrayLike<number>, scores: ArrayLike<number>): void {
  if (labels.length !== scores.length) {
    throw new RangeError(`labels and scores differ in length: ${labels.length} vs ${scores.length}`);
  }
  if (labels.length === 0) throw new RangeError("labels and scores must not be empty");
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) {
      throw new RangeError(`labels[${i}] must be 0 or 1, got ${labels[i]}`);
    }
    if (!Number.isFinite(scores[i])) {
      throw new RangeError(`scores[${i}] must be a finite number, got ${scores[i]}`);
    }
  }
}
