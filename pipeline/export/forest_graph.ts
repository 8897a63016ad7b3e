/**
 * The forest as one ONNX tree-ensemble operator. Our trees send a row left when
 * `x[feature] <= threshold`, which is ONNX's BRANCH_LEQ with the left child as the "true" branch,
 * and the forest's P(bad) is the mean of the trees' leaf values, which is aggregation AVERAGE.
 *
 * - `ai.onnx.ml` opset 5, `TreeEnsemble`: double thresholds and leaf values, double output.
 * - `ai.onnx.ml` opset 3, `TreeEnsembleRegressor` (for runtimes without opset 5): the classic
 *   float attributes, so thresholds and leaf values are rounded to single precision, and the
 *   output is float whatever the attributes (the operator's output type is fixed to float).
 * @module
 */

import type { FlatTree } from "../forest/mod.ts";
import { doubleTensor, uint8Tensor } from "./onnx_proto.ts";
import { attr, type GraphBuilder, ML_DOMAIN } from "./graph_builder.ts";

/** `TreeEnsemble` aggregate_function AVERAGE (onnx/defs/traditionalml: AVERAGE 0, SUM 1, MIN 2, MAX 3). */
const AGGREGATE_AVERAGE = 0;
/** `TreeEnsemble` nodes_modes BRANCH_LEQ (0 BRANCH_LEQ, 1 BRANCH_LT, … 6 BRANCH_MEMBER). */
const MODE_BRANCH_LEQ = 0;
/** `TreeEnsemble` post_transform NONE. */
const POST_TRANSFORM_NONE = 0;

/** Counts of what an exported forest holds. */
export interface ForestSize {
  readonly trees: number;
  readonly internalNodes: number;
  readonly leaves: number;
}

/** Internal nodes and leaves of the trees. */
export function forestSize(trees: readonly FlatTree[]): ForestSize {
  let internalNodes = 0, leaves = 0;
  for (const tree of trees) {
    for (let i = 0; i < tree.nodeCount; i++) {
      if (tree.feature[i] >= 0) internalNodes++;
      else leaves++;
    }
  }
  return { trees: trees.length, internalNodes, leaves };
}

/**
 * Adds an `ai.onnx.ml` opset-5 `TreeEnsemble` reading `features` (`[N, F]` double); returns its
 * output (`[N, 1]` double, the mean leaf value over the trees).
 */
export function addTreeEnsemble(g: GraphBuilder, trees: readonly FlatTree[], features: string): string {
  const featureIds: number[] = [], splits: number[] = [];
  const trueIds: number[] = [], trueLeafs: number[] = [], falseIds: number[] = [], falseLeafs: number[] = [];
  const leafWeights: number[] = [], roots: number[] = [];
  for (const tree of trees) {
    // Positions in the global nodes_* and leaf_* lists, assigned in node-id order.
    const position = new Int32Array(tree.nodeCount);
    let internal = featureIds.length, leaf = leafWeights.length;
    for (let i = 0; i < tree.nodeCount; i++) position[i] = tree.feature[i] >= 0 ? internal++ : leaf++;
    for (let i = 0; i < tree.nodeCount; i++) if (tree.feature[i] < 0) leafWeights.push(tree.value[i]);
    if (tree.feature[0] < 0) {
      // A lone leaf: one node whose both branches reach it (the operator's documented encoding).
      roots.push(featureIds.length);
      featureIds.push(0);
      splits.push(0);
      trueIds.push(position[0]);
      trueLeafs.push(1);
      falseIds.push(position[0]);
      falseLeafs.push(1);
      continue;
    }
    roots.push(position[0]);
    for (let i = 0; i < tree.nodeCount; i++) {
      if (tree.feature[i] < 0) continue;
      const left = tree.childrenLeft[i], right = tree.childrenRight[i];
      featureIds.push(tree.feature[i]);
      splits.push(tree.threshold[i]);
      trueIds.push(position[left]);
      trueLeafs.push(tree.feature[left] < 0 ? 1 : 0);
      falseIds.push(position[right]);
      falseLeafs.push(tree.feature[right] < 0 ? 1 : 0);
    }
  }
  return g.node("TreeEnsemble", [features], "forest_mean", [
    attr.int("aggregate_function", AGGREGATE_AVERAGE),
    attr.ints("leaf_targetids", new Array(leafWeights.length).fill(0)),
    attr.tensor("leaf_weights", doubleTensor(leafWeights, [leafWeights.length])),
    attr.int("n_targets", 1),
    attr.ints("nodes_falseleafs", falseLeafs),
    attr.ints("nodes_falsenodeids", falseIds),
    attr.ints("nodes_featureids", featureIds),
    attr.tensor(
      "nodes_modes",
      uint8Tensor(new Array(featureIds.length).fill(MODE_BRANCH_LEQ), [featureIds.length]),
    ),
    attr.tensor("nodes_splits", doubleTensor(splits, [splits.length])),
    attr.ints("nodes_trueleafs", trueLeafs),
    attr.ints("nodes_truenodeids", trueIds),
    attr.int("post_transform", POST_TRANSFORM_NONE),
    attr.ints("tree_roots", roots),
  ], ML_DOMAIN);
}

/**
 * Adds an `ai.onnx.ml` opset-3 `TreeEnsembleRegressor` reading `features`; returns its output
 * (`[N, 1]` float). Node ids restart at 0 in each tree, as the operator requires; ours already do.
 */
export function addTreeEnsembleRegressor(
  g: GraphBuilder,
  trees: readonly FlatTree[],
  features: string,
  precision: "double" | "float" = "double",
): string {
  const treeIds: number[] = [], nodeIds: number[] = [], featureIds: number[] = [], modes: string[] = [];
  const values: number[] = [], trueIds: number[] = [], falseIds: number[] = [];
  const targetTreeIds: number[] = [], targetNodeIds: number[] = [], targetWeights: number[] = [];
  trees.forEach((tree, t) => {
    for (let i = 0; i < tree.nodeCount; i++) {
      const isLeaf = tree.feature[i] < 0;
      treeIds.push(t);
      nodeIds.push(i);
      featureIds.push(isLeaf ? 0 : tree.feature[i]);
      modes.push(isLeaf ? "LEAF" : "BRANCH_LEQ");
      values.push(isLeaf ? 0 : tree.threshold[i]);
      trueIds.push(isLeaf ? 0 : tree.childrenLeft[i]);
      falseIds.push(isLeaf ? 0 : tree.childrenRight[i]);
      if (isLeaf) {
        targetTreeIds.push(t);
        targetNodeIds.push(i);
        targetWeights.push(tree.value[i]);
      }
    }
  });
  return g.node("TreeEnsembleRegressor", [features], "forest_mean_float", [
    attr.string("aggregate_function", "AVERAGE"),
    attr.int("n_targets", 1),
    attr.ints("nodes_falsenodeids", falseIds),
    attr.ints("nodes_featureids", featureIds),
    attr.strings("nodes_modes", modes),
    attr.ints("nodes_nodeids", nodeIds),
    attr.ints("nodes_treeids", treeIds),
    attr.ints("nodes_truenodeids", trueIds),
    precision === "double"
      ? attr.tensor("nodes_values_as_tensor", doubleTensor(values, [values.length]))
      : attr.floats("nodes_values", values),
    attr.string("post_transform", "NONE"),
    attr.ints("target_ids", new Array(targetWeights.length).fill(0)),
    attr.ints("target_nodeids", targetNodeIds),
    attr.ints("target_treeids", targetTreeIds),
    precision === "double"
      ? attr.tensor("target_weights_as_tensor", doubleTensor(targetWeights, [targetWeights.length]))
      : attr.floats("target_weights", targetWeights),
  ], ML_DOMAIN);
}
