/**
 * All trees of a forest concatenated into three arrays for prediction. A leaf stores its value
 * in the threshold slot and feature -1, and the left child is implicit (the next node), so one
 * step of the walk reads one feature, one threshold and at most one child index.
 * @module
 */

import type { FlatTree } from "./tree.ts";

/** A forest flattened for fast prediction. */
export interface PackedForest {
  /** Number of features rows must have. */
  nFeatures: number;
  /** First node of each tree. */
  roots: Int32Array;
  /** Feature tested at each node, -1 at a leaf. */
  feature: Int32Array;
  /** Threshold at an internal node, P(class 1) at a leaf. */
  thresholdOrValue: Float64Array;
  /** Right child (global id) of each internal node. */
  right: Int32Array;
}

/** Concatenates `trees`; every tree must number its nodes depth-first (left child = id + 1). */
export function packForest(trees: readonly FlatTree[], nFeatures: number): PackedForest {
  let total = 0;
  for (const tree of trees) total += tree.nodeCount;
  const roots = new Int32Array(trees.length);
  const feature = new Int32Array(total);
  const thresholdOrValue = new Float64Array(total);
  const right = new Int32Array(total);
  let offset = 0;
  for (let t = 0; t < trees.length; t++) {
    const tree = trees[t];
    roots[t] = offset;
    for (let i = 0; i < tree.nodeCount; i++) {
      const g = offset + i;
      const l = tree.childrenLeft[i];
      if (l < 0) {
        feature[g] = -1;
        thresholdOrValue[g] = tree.value[i];
        right[g] = -1;
      } else {
        if (l !== i + 1) throw new RangeError(`tree ${t} is not in depth-first order at node ${i}`);
        feature[g] = tree.feature[i];
        thresholdOrValue[g] = tree.threshold[i];
        right[g] = offset + tree.childrenRight[i];
      }
    }
    offset += tree.nodeCount;
  }
  return { nFeatures, roots, feature, thresholdOrValue, right };
}

/** Mean P(class 1) over the trees for the row starting at `offset` of `data`. */
export function predictPackedRow(forest: PackedForest, data: ArrayLike<number>, offset: number): number {
  const { roots, feature, thresholdOrValue, right } = forest;
  let sum = 0;
  for (let t = 0; t < roots.length; t++) {
    let node = roots[t];
    let f = feature[node];
    while (f >= 0) {
      node = data[offset + f] <= thresholdOrValue[node] ? node + 1 : right[node];
      f = feature[node];
    }
    sum += thresholdOrValue[node];
  }
  return sum / roots.length;
}

// Rows per block: the block's rows (~60 features × 8 bytes each) stay in L1/L2 while every
// tree walks them, and each tree's nodes stay hot across the block's rows.
const BLOCK_ROWS = 256;

/** Writes mean P(class 1) of rows `[0, rows)` of row-major `data` into `out`. */
export function predictPackedInto(
  forest: PackedForest,
  data: Float64Array,
  rows: number,
  out: Float64Array,
): void {
  const { roots, feature, thresholdOrValue, right, nFeatures } = forest;
  const nTrees = roots.length;
  for (let blockStart = 0; blockStart < rows; blockStart += BLOCK_ROWS) {
    const blockEnd = Math.min(rows, blockStart + BLOCK_ROWS);
    out.fill(0, blockStart, blockEnd);
    for (let t = 0; t < nTrees; t++) {
      const root = roots[t];
      const rootFeature = feature[root];
      for (let r = blockStart; r < blockEnd; r++) {
        const base = r * nFeatures;
        let node = root;
        let f = rootFeature;
        while (f >= 0) {
          node = data[base + f] <= thresholdOrValue[node] ? node + 1 : right[node];
          f = feature[node];
        }
        out[r] += thresholdOrValue[node];
      }
    }
    for (let r = blockStart; r < blockEnd; r++) out[r] /= nTrees;
  }
}
