/**
 * Best-split search for one feature of one node, on pre-binned codes. The histogram splitter
 * makes one pass over the node's rows into per-bin class weights; the exact splitter sorts the
 * node's rank codes, as scikit-learn sorts values. Both leave the answer in a reusable
 * {@link SplitRecord} so the search allocates nothing.
 * @module
 */

import type { BinnedFeatures } from "./binning.ts";
import { proxyImprovement } from "./criterion.ts";

/** The best split seen so far at a node; reset per node, never reallocated. */
export class SplitRecord {
  /** Feature of the split, -1 while none was found. */
  feature = -1;
  /** Rows whose code is ≤ this go left. */
  leftCode = 0;
  /** Smallest code present on the right, for the threshold. */
  rightCode = 0;
  /** Proxy improvement of the split (higher is better). */
  proxy = -Infinity;
  /** Distinct rows going left. */
  nLeft = 0;
  /** Class-0 weight going left. */
  left0 = 0;
  /** Class-1 weight going left. */
  left1 = 0;

  /** Forgets the previous node's split. */
  reset(): void {
    this.feature = -1;
    this.proxy = -Infinity;
  }
}

/** Split search over one kind of codes. */
export interface Splitter {
  /**
   * Scores every threshold of feature `f` over `samples[start, end)` and keeps the best in
   * `best`; returns false when the feature is constant on those rows.
   */
  evaluate(
    samples: Int32Array,
    start: number,
    end: number,
    f: number,
    w0: Float64Array,
    w1: Float64Array,
    node0: number,
    node1: number,
    best: SplitRecord,
  ): boolean;
  /** Moves the rows going left to the front of the range; returns where the right part starts. */
  partition(samples: Int32Array, start: number, end: number, best: SplitRecord): number;
  /** The real-valued threshold of `best`: the midpoint between the values on either side. */
  threshold(best: SplitRecord): number;
}

/** LightGBM-style histogram search over Uint8 codes. */
export class HistogramSplitter implements Splitter {
  #binned: BinnedFeatures<Uint8Array>;
  #criterion: number;
  #minLeaf: number;
  // Three numbers per bin: class-0 weight, class-1 weight, distinct rows. Kept all-zero between
  // calls by clearing only the touched code range, so small nodes stay cheap with many bins.
  #hist: Float64Array;

  /** A splitter over `binned` codes with the given criterion code and leaf size. */
  constructor(binned: BinnedFeatures<Uint8Array>, criterion: number, minSamplesLeaf: number) {
    this.#binned = binned;
    this.#criterion = criterion;
    this.#minLeaf = minSamplesLeaf;
    this.#hist = new Float64Array(3 * Math.max(1, binned.maxBinCount));
  }

  evaluate(
    samples: Int32Array,
    start: number,
    end: number,
    f: number,
    w0: Float64Array,
    w1: Float64Array,
    node0: number,
    node1: number,
    best: SplitRecord,
  ): boolean {
    const hist = this.#hist;
    const codes = this.#binned.codes;
    const base = f * this.#binned.nRows;
    let lo = 255;
    let hi = 0;
    for (let i = start; i < end; i++) {
      const r = samples[i];
      const c = codes[base + r];
      const k = c * 3;
      hist[k] += w0[r];
      hist[k + 1] += w1[r];
      hist[k + 2]++;
      if (c < lo) lo = c;
      if (c > hi) hi = c;
    }
    if (lo === hi) {
      hist[lo * 3] = 0;
      hist[lo * 3 + 1] = 0;
      hist[lo * 3 + 2] = 0;
      return false;
    }
    const n = end - start;
    const minLeaf = this.#minLeaf;
    const criterion = this.#criterion;
    let nLeft = 0;
    let l0 = 0;
    let l1 = 0;
    let prev = -1;
    for (let c = lo; c <= hi; c++) {
      const k = c * 3;
      const count = hist[k + 2];
      if (count === 0) continue;
      if (prev >= 0 && nLeft >= minLeaf) {
        if (n - nLeft < minLeaf) break;
        const proxy = proxyImprovement(criterion, l0, l1, node0 - l0, node1 - l1);
        if (proxy > best.proxy) {
          best.proxy = proxy;
          best.feature = f;
          best.leftCode = prev;
          best.rightCode = c;
          best.nLeft = nLeft;
          best.left0 = l0;
          best.left1 = l1;
        }
      }
      nLeft += count;
      l0 += hist[k];
      l1 += hist[k + 1];
      prev = c;
    }
    hist.fill(0, lo * 3, hi * 3 + 3);
    return true;
  }

  partition(samples: Int32Array, start: number, end: number, best: SplitRecord): number {
    return partitionByCode(
      this.#binned.codes,
      best.feature * this.#binned.nRows,
      best.leftCode,
      samples,
      start,
      end,
    );
  }

  threshold(best: SplitRecord): number {
    return midpoint(this.#binned, best);
  }
}

/** scikit-learn-style exact search: sort the node's rank codes, scan every boundary. */
export class ExactSplitter implements Splitter {
  #binned: BinnedFeatures<Int32Array>;
  #criterion: number;
  #minLeaf: number;
  // Sort keys `rank * nRows + row`: one native numeric sort orders rows by value, with no
  // comparator callback, and each key still names its row.
  #keys: Float64Array;

  /** A splitter over `binned` rank codes with the given criterion code and leaf size. */
  constructor(binned: BinnedFeatures<Int32Array>, criterion: number, minSamplesLeaf: number) {
    this.#binned = binned;
    this.#criterion = criterion;
    this.#minLeaf = minSamplesLeaf;
    this.#keys = new Float64Array(binned.nRows);
  }

  evaluate(
    samples: Int32Array,
    start: number,
    end: number,
    f: number,
    w0: Float64Array,
    w1: Float64Array,
    node0: number,
    node1: number,
    best: SplitRecord,
  ): boolean {
    const keys = this.#keys;
    const codes = this.#binned.codes;
    const nRows = this.#binned.nRows;
    const base = f * nRows;
    const n = end - start;
    let lo = 0x7fffffff;
    let hi = -1;
    for (let i = 0; i < n; i++) {
      const r = samples[start + i];
      const c = codes[base + r];
      keys[i] = c * nRows + r;
      if (c < lo) lo = c;
      if (c > hi) hi = c;
    }
    if (lo === hi) return false;
    sortPrefix(keys, n);
    const minLeaf = this.#minLeaf;
    const criterion = this.#criterion;
    let l0 = 0;
    let l1 = 0;
    let prevCode = -1;
    for (let i = 0; i < n; i++) {
      const key = keys[i];
      const c = Math.floor(key / nRows);
      const r = key - c * nRows;
      if (c !== prevCode && i >= minLeaf) {
        if (n - i < minLeaf) break;
        const proxy = proxyImprovement(criterion, l0, l1, node0 - l0, node1 - l1);
        if (proxy > best.proxy) {
          best.proxy = proxy;
          best.feature = f;
          best.leftCode = prevCode;
          best.rightCode = c;
          best.nLeft = i;
          best.left0 = l0;
          best.left1 = l1;
        }
      }
      l0 += w0[r];
      l1 += w1[r];
      prevCode = c;
    }
    return true;
  }

  partition(samples: Int32Array, start: number, end: number, best: SplitRecord): number {
    return partitionByCode(
      this.#binned.codes,
      best.feature * this.#binned.nRows,
      best.leftCode,
      samples,
      start,
      end,
    );
  }

  threshold(best: SplitRecord): number {
    return midpoint(this.#binned, best);
  }
}

function partitionByCode(
  codes: Uint8Array | Int32Array,
  base: number,
  leftCode: number,
  samples: Int32Array,
  start: number,
  end: number,
): number {
  let i = start;
  let j = end - 1;
  while (i <= j) {
    if (codes[base + samples[i]] <= leftCode) i++;
    else {
      const tmp = samples[i];
      samples[i] = samples[j];
      samples[j] = tmp;
      j--;
    }
  }
  return i;
}

function midpoint(binned: BinnedFeatures<Uint8Array | Int32Array>, best: SplitRecord): number {
  const offset = binned.binStart[best.feature];
  const below = binned.binHigh[offset + best.leftCode];
  const above = binned.binLow[offset + best.rightCode];
  // Halving first cannot overflow; rounding up onto `above` would send it left, so fall back.
  const t = below / 2 + above / 2;
  return t >= above || !Number.isFinite(t) ? below : t;
}

/** Sorts `keys[0, n)`: insertion sort for the many tiny nodes, the native sort otherwise. */
function sortPrefix(keys: Float64Array, n: number): void {
  if (n > 32) {
    keys.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
}
