/**
 * Balanced random forest for German Credit risk: our own CART on flat typed arrays, with
 * histogram or exact split search, per-tree class-balanced sampling, compact JSON, and
 * impurity and permutation importances.
 *
 * ```ts
 * import { BalancedRandomForest } from "./mod.ts";
 * const X = [[0, 1], [1, 0], [0, 0], [1, 1]];
 * const forest = new BalancedRandomForest({ nEstimators: 10, seed: 1 }).fit(X, [0, 1, 0, 1]);
 * const p = forest.predictProbaOne([1, 0]); // P(bad)
 * ```
 * @module
 */

export { BalancedRandomForest, type ForestJSON, FORMAT_VERSION } from "./forest.ts";
export { type SerializedTrees } from "./serialize.ts";
export { type PackedForest } from "./packed.ts";
export { PackedPredictor } from "./packed_predictor.ts";
export { DecisionTreeClassifier } from "./decision_tree.ts";
export { type Matrix, type MatrixLike, toMatrix } from "./matrix.ts";
export {
  type Criterion,
  type DecisionTreeOptions,
  DEFAULT_FOREST_OPTIONS,
  DEFAULT_TREE_OPTIONS,
  type ForestOptions,
  type MaxFeatures,
  type SplitterKind,
  type TreeOptions,
} from "./options.ts";
export { type FlatTree, predictTreeRow, TREE_LEAF, TREE_UNDEFINED, treeDepth } from "./tree.ts";
export {
  addBootstrap,
  type ClassIndex,
  drawTreeSample,
  indexClasses,
  type SamplerOptions,
  underSample,
} from "./sampler.ts";
export {
  impurityImportances,
  permutationImportance,
  type PermutationImportanceOptions,
  type PermutationImportanceResult,
  type ProbabilityModel,
  type Scorer,
} from "./importance.ts";
export { expectedValue, type ExplainableForest, type ShapPlayers, TreeShapExplainer } from "./explain.ts";
