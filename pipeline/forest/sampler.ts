/**
 * The per-tree sampler: the only thing that makes a balanced random forest balanced.
 * Follows imbalanced-learn: RandomUnderSampler(samplingStrategy, replacement), then an ordinary
 * bootstrap of the under-sampled rows. A tree sees the result as a count per original row.
 * @module
 */

import type { Random } from "../random.ts";

/** How a tree's training rows are drawn. */
export interface SamplerOptions {
  /** Under-sample the majority class to `minority / samplingStrategy` rows. */
  balanced: boolean;
  /** Desired minority/majority ratio after under-sampling, in (0, 1]. */
  samplingStrategy: number;
  /** Draw the majority with replacement while under-sampling. */
  replacement: boolean;
  /** Bootstrap the (under-sampled) rows. */
  bootstrap: boolean;
}

/** Row indices of each class, computed once per forest. */
export interface ClassIndex {
  /** Rows of the minority class. */
  minority: Int32Array;
  /** Rows of the majority class. */
  majority: Int32Array;
}

/** Splits rows by class; the rarer label is the minority (ties: label 1). */
export function indexClasses(y: Uint8Array): ClassIndex {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  const minorityLabel = positives <= y.length - positives ? 1 : 0;
  const minority = new Int32Array(minorityLabel === 1 ? positives : y.length - positives);
  const majority = new Int32Array(y.length - minority.length);
  let a = 0;
  let b = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === minorityLabel) minority[a++] = i;
    else majority[b++] = i;
  }
  return { minority, majority };
}

/** Majority rows kept by under-sampling; throws when the ratio asks for more rows than exist. */
export function majorityTarget(classes: ClassIndex, samplingStrategy: number): number {
  const target = Math.floor(classes.minority.length / samplingStrategy);
  if (target > classes.majority.length) {
    throw new RangeError(
      `samplingStrategy ${samplingStrategy} asks for ${target} majority rows, only ${classes.majority.length} exist`,
    );
  }
  return target;
}

/**
 * Random under-sampling: every minority row once, plus `minority / samplingStrategy` majority
 * rows drawn with or without replacement. Class counts are exact.
 */
export function underSample(
  classes: ClassIndex,
  rng: Random,
  samplingStrategy: number,
  replacement: boolean,
): Int32Array {
  const target = majorityTarget(classes, samplingStrategy);
  const { minority, majority } = classes;
  const out = new Int32Array(minority.length + target);
  out.set(minority);
  if (replacement) {
    for (let i = 0; i < target; i++) out[minority.length + i] = majority[rng.int(majority.length)];
  } else {
    // Partial Fisher–Yates on a copy: the first `target` slots become a uniform draw.
    const pool = majority.slice();
    for (let i = 0; i < target; i++) {
      const j = i + rng.int(pool.length - i);
      const chosen = pool[j];
      pool[j] = pool[i];
      pool[i] = chosen;
      out[minority.length + i] = chosen;
    }
  }
  return out;
}

/** Adds to `counts` a bootstrap (same size, with replacement) of `rows`. */
export function addBootstrap(rows: Int32Array, rng: Random, counts: Float64Array): void {
  for (let i = 0; i < rows.length; i++) counts[rows[rng.int(rows.length)]]++;
}

/** How many times each original row enters one tree, drawn according to `options`. */
export function drawTreeSample(
  nRows: number,
  classes: ClassIndex,
  rng: Random,
  options: SamplerOptions,
  counts: Float64Array = new Float64Array(nRows),
): Float64Array {
  counts.fill(0);
  let rows: Int32Array | null = null;
  if (options.balanced) rows = underSample(classes, rng, options.samplingStrategy, options.replacement);
  if (options.bootstrap) {
    if (rows === null) {
      for (let i = 0; i < nRows; i++) counts[rng.int(nRows)]++;
    } else addBootstrap(rows, rng, counts);
  } else if (rows === null) counts.fill(1);
  else for (let i = 0; i < rows.length; i++) counts[rows[i]]++;
  return counts;
}
