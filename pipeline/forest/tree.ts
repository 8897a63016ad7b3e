/**
 * A fitted CART tree as scikit-learn stores one: parallel flat arrays indexed by node id, no node
 * objects. Nodes are numbered depth-first, so an internal node's left child is always the next id.
 * @module
 */

/** `childrenLeft`/`childrenRight` value of a leaf (scikit-learn's TREE_LEAF). */
export const TREE_LEAF: -1 = -1;
/** `feature`/`threshold` value of a leaf (scikit-learn's TREE_UNDEFINED). */
export const TREE_UNDEFINED: -2 = -2;

/** One fitted tree; node 0 is the root. */
export interface FlatTree {
  /** Number of nodes. */
  nodeCount: number;
  /** Left child id, or {@link TREE_LEAF}. */
  childrenLeft: Int32Array;
  /** Right child id, or {@link TREE_LEAF}. */
  childrenRight: Int32Array;
  /** Feature tested at the node, or {@link TREE_UNDEFINED} at a leaf. */
  feature: Int32Array;
  /** Rows with `x[feature] <= threshold` go left. */
  threshold: Float64Array;
  /** Fraction of class-1 weight among the node's training rows: P(bad) at a leaf. */
  value: Float64Array;
  /** Impurity of the node under the tree's criterion. */
  impurity: Float64Array;
  /** Distinct training rows reaching the node. */
  nNodeSamples: Int32Array;
  /** Training weight reaching the node (its cover, which TreeSHAP needs). */
  weightedNNodeSamples: Float64Array;
}

/** P(class 1) of one tree for the row starting at `offset` in `data`. */
export function predictTreeRow(tree: FlatTree, data: ArrayLike<number>, offset: number): number {
  const left = tree.childrenLeft;
  const right = tree.childrenRight;
  const feature = tree.feature;
  const threshold = tree.threshold;
  let node = 0;
  let f = feature[0];
  while (f >= 0) {
    node = data[offset + f] <= threshold[node] ? left[node] : right[node];
    f = feature[node];
  }
  return tree.value[node];
}

/** Depth of the deepest leaf (a lone root has depth 0). */
export function treeDepth(tree: FlatTree): number {
  const depth = new Int32Array(tree.nodeCount);
  let max = 0;
  for (let i = 0; i < tree.nodeCount; i++) {
    const l = tree.childrenLeft[i];
    if (l === TREE_LEAF) continue;
    depth[l] = depth[tree.childrenRight[i]] = depth[i] + 1;
    if (depth[i] + 1 > max) max = depth[i] + 1;
  }
  return max;
}
