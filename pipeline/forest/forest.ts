/**
 * The balanced random forest: an ordinary random forest whose only difference is the per-tree
 * sampler (see sampler.ts). Options are validated on construction and kept apart from the
 * fitted state (`nFeaturesIn`, `trees`).
 * @module
 */

import { checkWidth } from "./decision_tree.ts";
import { impurityImportances } from "./importance.ts";
import { checkLabels, checkWeights, type Matrix, type MatrixLike, toMatrix } from "./matrix.ts";
import { type ForestOptions, validateForestOptions } from "./options.ts";
import { type PackedForest, packForest, predictPackedRow } from "./packed.ts";
import { PackedPredictor } from "./packed_predictor.ts";
import { growTreesParallel } from "./parallel.ts";
import { deserializeTrees, type SerializedTrees, serializeTrees } from "./serialize.ts";
import { checkSampling, growTrees } from "./trainer.ts";
import type { FlatTree } from "./tree.ts";

/** Version of the JSON written by {@link BalancedRandomForest.toJSON}. */
export const FORMAT_VERSION = 1;

/** A saved forest. */
export interface ForestJSON {
  /** Layout version; {@link BalancedRandomForest.fromJSON} rejects others. */
  formatVersion: number;
  /** Always "BalancedRandomForest". */
  model: "BalancedRandomForest";
  /** The options it was fitted with. */
  options: ForestOptions;
  /** Number of features. */
  nFeaturesIn: number;
  /** The trees, base64-packed. */
  trees: SerializedTrees;
}

/** Balanced (or, with `balanced: false`, plain) random forest for 0/1 labels. */
export class BalancedRandomForest {
  /** Validated options (plain data). */
  readonly options: ForestOptions;
  /** Number of features seen by `fit` (0 before). */
  nFeaturesIn = 0;
  /** The fitted trees in tree-index order (empty before `fit`). */
  trees: FlatTree[] = [];
  #predictor: PackedPredictor | null = null;

  /** Validates `options` over the forest defaults; bad options throw naming the option. */
  constructor(options: Partial<ForestOptions> = {}) {
    this.options = validateForestOptions(options);
  }

  /** Fits single-threaded on `X` and 0/1 labels `y` (1 = bad risk); returns this. */
  fit(X: MatrixLike, y: ArrayLike<number>, sampleWeight?: ArrayLike<number>): this {
    const { m, labels, weights } = this.#prepare(X, y, sampleWeight);
    this.#setTrees(growTrees(m, labels, weights, this.options, 0, this.options.nEstimators), m.cols);
    return this;
  }

  /** Fits on `options.nJobs` Web Workers; the result equals `fit` on the same input. */
  async fitAsync(X: MatrixLike, y: ArrayLike<number>, sampleWeight?: ArrayLike<number>): Promise<this> {
    if (this.options.nJobs <= 1) return this.fit(X, y, sampleWeight);
    const { m, labels, weights } = this.#prepare(X, y, sampleWeight);
    this.#setTrees(await growTreesParallel(m, labels, weights, this.options, this.options.nJobs), m.cols);
    return this;
  }

  /** P(class 1) per row: the mean of the trees' leaf values. */
  predictProba(X: MatrixLike): Float64Array {
    const predictor = this.#fitted();
    const m = toMatrix(X);
    checkWidth(m.cols, this.nFeaturesIn);
    const out = new Float64Array(m.rows);
    predictor.predictInto(m.data, m.rows, out);
    return out;
  }

  /** P(class 1) of one row, allocation-free. */
  predictProbaOne(row: ArrayLike<number>): number {
    const packed = this.#fitted().forest;
    checkWidth(row.length, this.nFeaturesIn);
    for (let c = 0; c < row.length; c++) {
      if (row[c] - row[c] !== 0) throw new RangeError(`row[${c}] must be a finite number, got ${row[c]}`);
    }
    return predictPackedRow(packed, row, 0);
  }

  /**
   * The fitted trees as one {@link PackedForest}: plain typed arrays, so it can be posted to a
   * worker, where a {@link PackedPredictor} scores exactly as {@link predictProba} does.
   */
  get packed(): PackedForest {
    return this.#fitted().forest;
  }

  /** Impurity-based importances averaged over trees, summing to 1. */
  featureImportances(): Float64Array {
    this.#fitted();
    return impurityImportances(this.trees, this.nFeaturesIn);
  }

  /** Compact JSON (typed arrays as base64); `fromJSON` restores identical probabilities. */
  toJSON(): ForestJSON {
    this.#fitted();
    return {
      formatVersion: FORMAT_VERSION,
      model: "BalancedRandomForest",
      options: { ...this.options },
      nFeaturesIn: this.nFeaturesIn,
      trees: serializeTrees(this.trees),
    };
  }

  /** Restores a forest saved by `toJSON` (the object or its JSON text). */
  static fromJSON(json: ForestJSON | string): BalancedRandomForest {
    const parsed: ForestJSON = typeof json === "string" ? JSON.parse(json) : json;
    if (parsed === null || typeof parsed !== "object" || parsed.model !== "BalancedRandomForest") {
      throw new TypeError("not a saved BalancedRandomForest");
    }
    if (parsed.formatVersion !== FORMAT_VERSION) {
      throw new RangeError(`unsupported formatVersion ${parsed.formatVersion}, expected ${FORMAT_VERSION}`);
    }
    if (!Number.isInteger(parsed.nFeaturesIn) || parsed.nFeaturesIn < 1) {
      throw new RangeError(`nFeaturesIn must be an integer ≥ 1, got ${parsed.nFeaturesIn}`);
    }
    const forest = new BalancedRandomForest(parsed.options);
    forest.#setTrees(deserializeTrees(parsed.trees, parsed.nFeaturesIn), parsed.nFeaturesIn);
    return forest;
  }

  #prepare(X: MatrixLike, y: ArrayLike<number>, sampleWeight?: ArrayLike<number>) {
    const m: Matrix = toMatrix(X);
    const labels = checkLabels(y, m.rows);
    const weights = checkWeights(sampleWeight, m.rows);
    checkSampling(labels, this.options);
    return { m, labels, weights };
  }

  #setTrees(trees: FlatTree[], nFeatures: number): void {
    this.trees = trees;
    this.nFeaturesIn = nFeatures;
    this.#predictor = new PackedPredictor(packForest(trees, nFeatures));
  }

  #fitted(): PackedPredictor {
    if (this.#predictor === null) throw new Error("BalancedRandomForest is not fitted; call fit first");
    return this.#predictor;
  }
}
