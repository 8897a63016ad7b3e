/**
 * Stratified resampling: train/test splits and (repeated) k-fold cross-validation that keep each
 * class's share in every part, so a 30 % bad rate stays 30 % in every fold.
 *
 * Indices are returned as sorted `Int32Array`s into the label array. Labels may be any finite
 * numbers; each distinct value is a class.
 * @module
 */

import { Random } from "../random.ts";

/** One train/test partition of row indices. */
export interface Fold {
  /** Sorted indices of the rows to fit on. */
  train: Int32Array;
  /** Sorted indices of the rows to evaluate on. */
  test: Int32Array;
}

/** A fold of a repeated k-fold, tagged with which repeat and which fold it is. */
export interface RepeatedFold extends Fold {
  /** Zero-based repeat number. */
  repeat: number;
  /** Zero-based fold number within its repeat. */
  fold: number;
}

/** Options of {@link stratifiedTrainTestSplit}. */
export interface TrainTestSplitOptions {
  /** Share of rows in the test part, strictly between 0 and 1 (default 0.2). */
  testSize?: number;
  /** Seed of the shuffle; equal seeds give equal splits. */
  seed: number;
}

/** Options of {@link stratifiedKFold}. */
export interface KFoldOptions {
  /** Number of folds, at least 2 and at most the smallest class count (default 5). */
  k?: number;
  /** Seed of the shuffle; required when `shuffle` is true. */
  seed?: number;
  /** Shuffle rows within each class before dealing them to folds (default true). */
  shuffle?: boolean;
}

/** Options of {@link repeatedStratifiedKFold}. */
export interface RepeatedKFoldOptions {
  /** Number of folds per repeat (default 5). */
  k?: number;
  /** Number of independently shuffled repeats (default 1). */
  repeats?: number;
  /** Seed from which every repeat's shuffle is derived. */
  seed: number;
}

/**
 * Splits rows into train and test so that each class is represented in proportion.
 *
 * Count rule (as scikit-learn's `StratifiedShuffleSplit`): the test part holds
 * `ceil(testSize · n)` rows; each class first gets `floor` of its proportional share, and the
 * rows left over go to the classes with the largest fractional remainders (ties: larger class,
 * then smaller label). Every class must end up with at least one row on each side.
 */
export function stratifiedTrainTestSplit(y: ArrayLike<number>, options: TrainTestSplitOptions): Fold {
  const { testSize = 0.2, seed } = options;
  if (!(testSize > 0 && testSize < 1)) {
    throw new RangeError(`testSize must lie strictly between 0 and 1, got ${testSize}`);
  }
  requireSeed(seed);
  const groups = groupByClass(y);
  const n = y.length;
  const nTest = Math.ceil(testSize * n);
  if (nTest >= n) throw new RangeError(`testSize ${testSize} leaves no training rows out of ${n}`);

  const testCounts = apportion(groups.map((g) => g.indices.length), nTest);
  const rng = new Random(seed);
  const test: number[] = [];
  const train: number[] = [];
  groups.forEach((group, c) => {
    const count = testCounts[c];
    if (count === 0 || count === group.indices.length) {
      throw new RangeError(
        `testSize ${testSize} puts ${count} of the ${group.indices.length} rows of class ${group.label} ` +
          `in the test part; each class needs rows on both sides`,
      );
    }
    const shuffled = rng.shuffle(group.indices.slice());
    for (let i = 0; i < shuffled.length; i++) (i < count ? test : train).push(shuffled[i]);
  });
  return { train: sortedIndices(train), test: sortedIndices(test) };
}

/**
 * Deals rows into `k` folds class by class, so per-class counts of any two folds differ by at
 * most one and fold sizes differ by at most one (scikit-learn's `StratifiedKFold` layout).
 */
export function stratifiedKFold(y: ArrayLike<number>, options: KFoldOptions = {}): Fold[] {
  const { k = 5, seed, shuffle = true } = options;
  const groups = groupByClass(y);
  validateK(k, groups);
  let rng: Random | undefined;
  if (shuffle) {
    requireSeed(seed);
    rng = new Random(seed as number);
  }

  const foldOf = new Int32Array(y.length);
  // Dealing continues from where the previous class stopped, so extra rows of one class
  // land in different folds than extra rows of the next and fold sizes stay balanced.
  let position = 0;
  for (const group of groups) {
    const order = rng ? rng.shuffle(group.indices.slice()) : group.indices;
    for (const index of order) foldOf[index] = position++ % k;
  }

  const folds: Fold[] = [];
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < foldOf.length; i++) (foldOf[i] === f ? test : train).push(i);
    folds.push({ train: Int32Array.from(train), test: Int32Array.from(test) });
  }
  return folds;
}

/** Runs {@link stratifiedKFold} `repeats` times with independent shuffles derived from `seed`. */
export function repeatedStratifiedKFold(y: ArrayLike<number>, options: RepeatedKFoldOptions): RepeatedFold[] {
  const { k = 5, repeats = 1, seed } = options;
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new RangeError(`repeats must be an integer of at least 1, got ${repeats}`);
  }
  requireSeed(seed);
  const rng = new Random(seed);
  const all: RepeatedFold[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const folds = stratifiedKFold(y, { k, seed: rng.nextUint32(), shuffle: true });
    folds.forEach((fold, f) => all.push({ ...fold, repeat, fold: f }));
  }
  return all;
}

interface ClassGroup {
  label: number;
  indices: number[];
}

function groupByClass(y: ArrayLike<number>): ClassGroup[] {
  if (y.length === 0) throw new RangeError("y must not be empty");
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < y.length; i++) {
    const label = y[i];
    if (!Number.isFinite(label)) throw new RangeError(`y[${i}] must be a finite class label, got ${label}`);
    let indices = byLabel.get(label);
    if (!indices) byLabel.set(label, indices = []);
    indices.push(i);
  }
  return [...byLabel.entries()].sort((a, b) => a[0] - b[0]).map(([label, indices]) => ({ label, indices }));
}

function validateK(k: number, groups: ClassGroup[]): void {
  if (!Number.isInteger(k) || k < 2) throw new RangeError(`k must be an integer of at least 2, got ${k}`);
  const smallest = groups.reduce((a, b) => (b.indices.length < a.indices.length ? b : a));
  if (k > smallest.indices.length) {
    throw new RangeError(
      `k = ${k} exceeds the ${smallest.indices.length} rows of class ${smallest.label}; ` +
        `every fold needs every class`,
    );
  }
}

function requireSeed(seed: number | undefined): void {
  if (typeof seed !== "number" || !Number.isFinite(seed)) {
    throw new RangeError(`seed must be a finite number, got ${seed}`);
  }
}

/** Largest-remainder apportionment of `total` across classes in proportion to `sizes`. */
function apportion(sizes: number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / n);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = sizes.map((_, c) => c).sort((a, b) =>
    exact[b] - counts[b] - (exact[a] - counts[a]) || sizes[b] - sizes[a] || a - b
  );
  for (const c of order) {
    if (left === 0) break;
    counts[c]++;
    left--;
  }
  return counts;
}

function sortedIndices(indices: number[]): Int32Array {
  return Int32Array.from(indices).sort();
}
