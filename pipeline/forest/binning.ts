/**
 * Pre-binning of the feature matrix, done once per forest rather than once per tree or node.
 * Each feature's values become small integer codes ordered like the values, so a split search
 * works on codes and only turns the winning code boundary back into a real threshold.
 * @module
 */

import type { Matrix } from "./matrix.ts";

/** Features as ordered integer codes, column-major, with the value range behind every code. */
export interface BinnedFeatures<Codes extends Uint8Array | Int32Array> {
  /** Number of rows. */
  nRows: number;
  /** Number of features. */
  nCols: number;
  /** `codes[f * nRows + r]` is the bin of row `r` in feature `f`. */
  codes: Codes;
  /** Bins of feature `f` are `binStart[f] … binStart[f + 1] - 1` in `binLow`/`binHigh`. */
  binStart: Int32Array;
  /** Smallest training value in each bin. */
  binLow: Float64Array;
  /** Largest training value in each bin. */
  binHigh: Float64Array;
  /** Largest bin count over features. */
  maxBinCount: number;
}

/**
 * Histogram codes: one bin per distinct value while a feature has ≤ `maxBins` of them (then the
 * histogram search is exact), else quantile bins of about equal row counts, LightGBM-style.
 */
export function binFeatures(m: Matrix, maxBins: number): BinnedFeatures<Uint8Array> {
  if (maxBins > 256) throw new RangeError(`maxBins must be ≤ 256 for Uint8 codes, got ${maxBins}`);
  return encode(m, maxBins, new Uint8Array(m.rows * m.cols));
}

/** Rank codes: one bin per distinct value, for the exact (sorting) splitter. */
export function rankFeatures(m: Matrix): BinnedFeatures<Int32Array> {
  return encode(m, Infinity, new Int32Array(m.rows * m.cols));
}

function encode<Codes extends Uint8Array | Int32Array>(
  m: Matrix,
  maxBins: number,
  codes: Codes,
): BinnedFeatures<Codes> {
  const { rows, cols, data } = m;
  const binStart = new Int32Array(cols + 1);
  const lows: number[] = [];
  const highs: number[] = [];
  const column = new Float64Array(rows);
  const sorted = new Float64Array(rows);
  let maxBinCount = 0;
  for (let f = 0; f < cols; f++) {
    for (let r = 0; r < rows; r++) column[r] = data[r * cols + f];
    sorted.set(column);
    sorted.sort();
    const uppers = binUpperEdges(sorted, maxBins);
    binStart[f] = lows.length;
    const first = lows.length;
    for (let b = 0; b < uppers.length; b++) {
      lows.push(Infinity);
      highs.push(-Infinity);
    }
    const base = f * rows;
    for (let r = 0; r < rows; r++) {
      const v = column[r];
      const b = lowerBound(uppers, v);
      codes[base + r] = b;
      const k = first + b;
      if (v < lows[k]) lows[k] = v;
      if (v > highs[k]) highs[k] = v;
    }
    maxBinCount = Math.max(maxBinCount, uppers.length);
  }
  binStart[cols] = lows.length;
  return {
    nRows: rows,
    nCols: cols,
    codes,
    binStart,
    binLow: Float64Array.from(lows),
    binHigh: Float64Array.from(highs),
    maxBinCount,
  };
}

/** Inclusive upper edges of the bins of one sorted column; every bin holds at least one value. */
function binUpperEdges(sorted: Float64Array, maxBins: number): number[] {
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) {
      distinct.push(sorted[i]);
      counts.push(1);
    } else counts[counts.length - 1]++;
  }
  if (distinct.length <= maxBins) return distinct;
  // Greedy quantile bins: close a bin once it reaches its share of the rows still unbinned,
  // so one heavy value does not starve the bins after it.
  const edges: number[] = [];
  let remainingRows = sorted.length;
  let inBin = 0;
  for (let i = 0; i < distinct.length; i++) {
    inBin += counts[i];
    const binsLeft = maxBins - edges.length;
    const distinctLeft = distinct.length - i - 1;
    if (binsLeft === 1) continue;
    if (inBin >= remainingRows / binsLeft || distinctLeft < binsLeft) {
      edges.push(distinct[i]);
      remainingRows -= inBin;
      inBin = 0;
    }
  }
  if (edges[edges.length - 1] !== distinct[distinct.length - 1]) edges.push(distinct[distinct.length - 1]);
  return edges;
}

/** First index whose edge is ≥ `v`. */
function lowerBound(edges: number[], v: number): number {
  let lo = 0;
  let hi = edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
