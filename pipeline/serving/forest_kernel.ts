/**
 * The forest laid out for scoring many rows at once. A row's walk down a tree is a chain of
 * unpredictable branches; here eight rows walk the same tree in lock-step, each step choosing the
 * child by arithmetic (no branch), siblings side by side so the step is `children + wentRight`,
 * and a leaf points to itself so a row that arrived early simply stays put. That keeps the CPU
 * busy instead of recovering from mispredictions: about 2.5 times the throughput of the one-row
 * walk on this data. Probabilities are bit-identical to
 * `BalancedRandomForest.predictProba`: the same comparisons (`x <= threshold` goes left), and
 * each row's leaf values summed in tree order, then divided by the tree count.
 *
 * Plain typed arrays only, so a {@link BatchForest} can be posted to a worker as it is.
 * @module
 */

import type { BalancedRandomForest } from "../forest/mod.ts";
import { TREE_LEAF } from "../forest/mod.ts";
import type { Matrix } from "../features.ts";

/** A forest flattened for lock-step scoring. */
export interface BatchForest {
  /** Columns a row must have. */
  readonly nFeatures: number;
  /** First node of each tree. */
  readonly roots: Int32Array;
  /** Deepest leaf of each tree: the most steps a walk can take. */
  readonly depths: Int32Array;
  /**
   * Per node, `children << 9 | leaf << 8 | feature`: an internal node's children sit side by side
   * (left at `children`, right at `children + 1`); a leaf's `children` is itself.
   */
  readonly links: Int32Array;
  /** Split threshold per node; +Infinity at a leaf, so every finite value stays there. */
  readonly thresholds: Float64Array;
  /** P(bad) per node; read at leaves. */
  readonly values: Float64Array;
}

const FEATURE_BITS = 8;
const LEAF_BIT = 1 << FEATURE_BITS;
const FEATURE_MASK = LEAF_BIT - 1;
const CHILD_SHIFT = FEATURE_BITS + 1;
const MAX_NODES = 2 ** (31 - CHILD_SHIFT);

/** Builds the lock-step layout from a fitted forest's trees (nodes renumbered breadth-first). */
export function compileForest(forest: BalancedRandomForest): BatchForest {
  const trees = forest.trees;
  if (trees.length === 0) throw new Error("the forest has no trees");
  if (forest.nFeaturesIn > FEATURE_MASK + 1) {
    throw new RangeError(
      `batch scoring supports up to ${FEATURE_MASK + 1} features, got ${forest.nFeaturesIn}`,
    );
  }
  let total = 0;
  for (const tree of trees) total += tree.nodeCount;
  if (total > MAX_NODES) {
    throw new RangeError(`batch scoring supports up to ${MAX_NODES} nodes, got ${total}`);
  }
  const roots = new Int32Array(trees.length);
  const depths = new Int32Array(trees.length);
  const links = new Int32Array(total);
  const thresholds = new Float64Array(total);
  const values = new Float64Array(total);
  let next = 0;
  for (let t = 0; t < trees.length; t++) {
    const tree = trees[t];
    const id = new Int32Array(tree.nodeCount);
    const depth = new Int32Array(tree.nodeCount);
    const queue = new Int32Array(tree.nodeCount);
    let head = 0, tail = 0, deepest = 0;
    roots[t] = id[0] = next++;
    queue[tail++] = 0;
    while (head < tail) {
      const i = queue[head++];
      const g = id[i];
      values[g] = tree.value[i];
      const left = tree.childrenLeft[i];
      if (left === TREE_LEAF) {
        links[g] = (g << CHILD_SHIFT) | LEAF_BIT;
        thresholds[g] = Infinity;
        continue;
      }
      const right = tree.childrenRight[i];
      id[left] = next;
      id[right] = next + 1;
      links[g] = (next << CHILD_SHIFT) | tree.feature[i];
      thresholds[g] = tree.threshold[i];
      next += 2;
      queue[tail++] = left;
      queue[tail++] = right;
      depth[left] = depth[right] = depth[i] + 1;
      if (depth[i] + 1 > deepest) deepest = depth[i] + 1;
    }
    depths[t] = deepest;
  }
  return { nFeatures: forest.nFeaturesIn, roots, depths, links, thresholds, values };
}

// Rows per block: the block's feature rows stay in cache while all trees walk them.
const BLOCK_ROWS = 512;

/** P(bad) of every row of `matrix` into `out` (allocated when not given). Values must be finite. */
export function predictBatch(forest: BatchForest, matrix: Matrix, out?: Float64Array): Float64Array {
  const { rows, cols, data } = matrix;
  if (cols !== forest.nFeatures) {
    throw new RangeError(`rows have ${cols} features, the model expects ${forest.nFeatures}`);
  }
  if (data.length !== rows * cols) {
    throw new RangeError(`matrix data has ${data.length} values, expected ${rows * cols}`);
  }
  for (let i = 0; i < data.length; i++) {
    // `x - x` is NaN exactly for NaN and ±Infinity, which a leaf's +Infinity threshold cannot hold.
    if (data[i] - data[i] !== 0) {
      throw new RangeError(`row ${Math.floor(i / cols)} has a non-finite feature ${data[i]}`);
    }
  }
  const result = out ?? new Float64Array(rows);
  if (result.length < rows) throw new RangeError(`out has room for ${result.length} rows, need ${rows}`);
  for (let start = 0; start < rows; start += BLOCK_ROWS) {
    predictBlock(forest, data, cols, start, Math.min(rows, start + BLOCK_ROWS), result);
  }
  return result;
}

function predictBlock(
  forest: BatchForest,
  data: Float64Array,
  cols: number,
  start: number,
  end: number,
  out: Float64Array,
): void {
  const { roots, depths, links: L, thresholds: T, values: V } = forest;
  const nTrees = roots.length;
  out.fill(0, start, end);
  for (let t = 0; t < nTrees; t++) {
    const root = roots[t];
    const depth = depths[t];
    let r = start;
    for (; r + 8 <= end; r += 8) {
      const b0 = r * cols, b1 = b0 + cols, b2 = b1 + cols, b3 = b2 + cols;
      const b4 = b3 + cols, b5 = b4 + cols, b6 = b5 + cols, b7 = b6 + cols;
      let n0 = root, n1 = root, n2 = root, n3 = root, n4 = root, n5 = root, n6 = root, n7 = root;
      for (let d = 0; d < depth; d++) {
        // `+!(x <= t)` is 1 exactly when the one-row walk goes right.
        let l = L[n0];
        n0 = (l >> CHILD_SHIFT) + +!(data[b0 + (l & FEATURE_MASK)] <= T[n0]);
        l = L[n1];
        n1 = (l >> CHILD_SHIFT) + +!(data[b1 + (l & FEATURE_MASK)] <= T[n1]);
        l = L[n2];
        n2 = (l >> CHILD_SHIFT) + +!(data[b2 + (l & FEATURE_MASK)] <= T[n2]);
        l = L[n3];
        n3 = (l >> CHILD_SHIFT) + +!(data[b3 + (l & FEATURE_MASK)] <= T[n3]);
        l = L[n4];
        n4 = (l >> CHILD_SHIFT) + +!(data[b4 + (l & FEATURE_MASK)] <= T[n4]);
        l = L[n5];
        n5 = (l >> CHILD_SHIFT) + +!(data[b5 + (l & FEATURE_MASK)] <= T[n5]);
        l = L[n6];
        n6 = (l >> CHILD_SHIFT) + +!(data[b6 + (l & FEATURE_MASK)] <= T[n6]);
        l = L[n7];
        n7 = (l >> CHILD_SHIFT) + +!(data[b7 + (l & FEATURE_MASK)] <= T[n7]);
        if (
          (d & 1) === 1 && (L[n0] & L[n1] & L[n2] & L[n3] & L[n4] & L[n5] & L[n6] & L[n7] & LEAF_BIT) !== 0
        ) break;
      }
      out[r] += V[n0];
      out[r + 1] += V[n1];
      out[r + 2] += V[n2];
      out[r + 3] += V[n3];
      out[r + 4] += V[n4];
      out[r + 5] += V[n5];
      out[r + 6] += V[n6];
      out[r + 7] += V[n7];
    }
    for (; r < end; r++) {
      const base = r * cols;
      let n = root;
      for (let l = L[n]; (l & LEAF_BIT) === 0; l = L[n]) {
        n = (l >> CHILD_SHIFT) + +!(data[base + (l & FEATURE_MASK)] <= T[n]);
      }
      out[r] += V[n];
    }
  }
  for (let r = start; r < end; r++) out[r] /= nTrees;
}
