/** Builds the `FlatTree` of a hand-made or randomly grown tree from its node lists (tests only). */
import type { FlatTree } from "../../pipeline/forest/tree.ts";

/** Node lists of a tree, indexed by node id; `cover` defaults to zero (trees that are only walked). */
export interface TreeNodes {
  readonly left: readonly number[];
  readonly right: readonly number[];
  readonly feature: readonly number[];
  readonly threshold: readonly number[];
  readonly value: readonly number[];
  readonly cover?: readonly number[];
}

/** The tree as the forest stores it. */
export function flatTree({ left, right, feature, threshold, value, cover }: TreeNodes): FlatTree {
  const n = left.length;
  return {
    nodeCount: n,
    childrenLeft: Int32Array.from(left),
    childrenRight: Int32Array.from(right),
    feature: Int32Array.from(feature),
    threshold: Float64Array.from(threshold),
    value: Float64Array.from(value),
    impurity: new Float64Array(n),
    nNodeSamples: new Int32Array(n),
    weightedNNodeSamples: cover ? Float64Array.from(cover) : new Float64Array(n),
  };
}
