/**
 * A single CART classifier, the building block of the forest, usable on its own (all rows, no
 * bootstrap; by default every feature is tried at every split).
 * @module
 */

import { Random } from "../random.ts";
import { TreeBuilder } from "./builder.ts";
import { impurityImportances } from "./importance.ts";
import { checkLabels, checkWeights, type MatrixLike, toMatrix } from "./matrix.ts";
import { type DecisionTreeOptions, validateTreeOptions } from "./options.ts";
import { type FlatTree, predictTreeRow } from "./tree.ts";

/** One CART tree on flat typed arrays; `options` are validated, fitted state is apart. */
export class DecisionTreeClassifier {
  /** Validated options (plain data). */
  readonly options: DecisionTreeOptions;
  /** Number of features seen by `fit` (0 before). */
  nFeaturesIn = 0;
  /** The fitted tree, or null before `fit`. */
  tree: FlatTree | null = null;

  /** Validates `options` over scikit-learn-like defaults. */
  constructor(options: Partial<DecisionTreeOptions> = {}) {
    this.options = validateTreeOptions(options);
  }

  /** Fits on `X` and 0/1 labels `y`, optionally weighted; returns this. */
  fit(X: MatrixLike, y: ArrayLike<number>, sampleWeight?: ArrayLike<number>): this {
    const m = toMatrix(X);
    const labels = checkLabels(y, m.rows);
    const weights = checkWeights(sampleWeight, m.rows);
    const builder = new TreeBuilder(m, labels, this.options);
    this.tree = builder.build(weights, new Random(this.options.seed));
    this.nFeaturesIn = m.cols;
    return this;
  }

  /** P(class 1) per row. */
  predictProba(X: MatrixLike): Float64Array {
    const tree = this.#fitted();
    const m = toMatrix(X);
    checkWidth(m.cols, this.nFeaturesIn);
    const out = new Float64Array(m.rows);
    for (let r = 0; r < m.rows; r++) out[r] = predictTreeRow(tree, m.data, r * m.cols);
    return out;
  }

  /** P(class 1) of one row. */
  predictProbaOne(row: ArrayLike<number>): number {
    const tree = this.#fitted();
    checkWidth(row.length, this.nFeaturesIn);
    return predictTreeRow(tree, row, 0);
  }

  /** Impurity-based importances, summing to 1 (all 0 for a lone leaf). */
  featureImportances(): Float64Array {
    return impurityImportances([this.#fitted()], this.nFeaturesIn);
  }

  #fitted(): FlatTree {
    if (this.tree === null) throw new Error("DecisionTreeClassifier is not fitted; call fit first");
    return this.tree;
  }
}

/** Throws unless a row has the width the model was fitted on. */
export function checkWidth(cols: number, nFeaturesIn: number): void {
  if (cols !== nFeaturesIn) {
    throw new RangeError(`X has ${cols} features, the model was fitted on ${nFeaturesIn}`);
  }
}
