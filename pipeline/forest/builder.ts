/**
 * Grows CART trees depth-first into flat arrays. One builder serves a whole forest: it bins the
 * features once and reuses every scratch buffer across nodes and trees, so growing a tree
 * allocates little more than its final arrays.
 * @module
 */

import type { Random } from "../random.ts";
import { binFeatures, rankFeatures } from "./binning.ts";
import { ENTROPY, GINI, impurity } from "./criterion.ts";
import type { Matrix } from "./matrix.ts";
import { resolveMaxFeatures, type TreeOptions } from "./options.ts";
import { ExactSplitter, HistogramSplitter, SplitRecord, type Splitter } from "./splitter.ts";
import { type FlatTree, TREE_LEAF, TREE_UNDEFINED } from "./tree.ts";

// scikit-learn's tolerance for "pure node" and "no improvement".
const EPSILON = 1e-10;

/** Grows trees on one training matrix; not safe to share between concurrent fits. */
export class TreeBuilder {
  readonly #y: Uint8Array;
  readonly #nRows: number;
  readonly #nCols: number;
  readonly #criterion: number;
  readonly #maxDepth: number;
  readonly #minSamplesSplit: number;
  readonly #minSamplesLeaf: number;
  readonly #maxFeatures: number;
  readonly #minImpurityDecrease: number;
  readonly #splitter: Splitter;
  readonly #best = new SplitRecord();

  // Per-row class weights of the current tree: a row's weight sits in the array of its class.
  readonly #w0: Float64Array;
  readonly #w1: Float64Array;
  readonly #samples: Int32Array;
  // Feature order and inherited constant features, as in scikit-learn's splitter: features
  // found constant at a node are skipped in its whole subtree.
  readonly #features: Int32Array;
  readonly #constantFeatures: Int32Array;

  // Depth-first stack of pending nodes.
  readonly #stackStart: Int32Array;
  readonly #stackEnd: Int32Array;
  readonly #stackDepth: Int32Array;
  readonly #stackParent: Int32Array;
  readonly #stackConstants: Int32Array;

  // Node arrays at their largest possible size; each tree copies out its own prefix.
  readonly #left: Int32Array;
  readonly #right: Int32Array;
  readonly #feature: Int32Array;
  readonly #threshold: Float64Array;
  readonly #value: Float64Array;
  readonly #impurity: Float64Array;
  readonly #nNodeSamples: Int32Array;
  readonly #weighted: Float64Array;

  /** Bins `X` once for every tree this builder will grow. */
  constructor(X: Matrix, y: Uint8Array, options: TreeOptions) {
    const n = X.rows;
    this.#y = y;
    this.#nRows = n;
    this.#nCols = X.cols;
    this.#criterion = options.criterion === "entropy" ? ENTROPY : GINI;
    this.#maxDepth = options.maxDepth ?? Infinity;
    this.#minSamplesSplit = options.minSamplesSplit;
    this.#minSamplesLeaf = options.minSamplesLeaf;
    this.#maxFeatures = resolveMaxFeatures(options.maxFeatures, X.cols);
    this.#minImpurityDecrease = options.minImpurityDecrease;
    this.#splitter = options.splitter === "exact"
      ? new ExactSplitter(rankFeatures(X), this.#criterion, options.minSamplesLeaf)
      : new HistogramSplitter(binFeatures(X, options.maxBins), this.#criterion, options.minSamplesLeaf);
    this.#w0 = new Float64Array(n);
    this.#w1 = new Float64Array(n);
    this.#samples = new Int32Array(n);
    this.#features = new Int32Array(X.cols);
    this.#constantFeatures = new Int32Array(X.cols);
    const maxNodes = 2 * n + 1;
    this.#stackStart = new Int32Array(maxNodes);
    this.#stackEnd = new Int32Array(maxNodes);
    this.#stackDepth = new Int32Array(maxNodes);
    this.#stackParent = new Int32Array(maxNodes);
    this.#stackConstants = new Int32Array(maxNodes);
    this.#left = new Int32Array(maxNodes);
    this.#right = new Int32Array(maxNodes);
    this.#feature = new Int32Array(maxNodes);
    this.#threshold = new Float64Array(maxNodes);
    this.#value = new Float64Array(maxNodes);
    this.#impurity = new Float64Array(maxNodes);
    this.#nNodeSamples = new Int32Array(maxNodes);
    this.#weighted = new Float64Array(maxNodes);
  }

  /** Number of features of the training matrix. */
  get nFeatures(): number {
    return this.#nCols;
  }

  /**
   * Grows one tree. `rowWeight[r]` is row r's total weight in this tree (bootstrap count times
   * sample weight); rows of weight 0 are left out entirely. `rng` drives the feature draws.
   */
  build(rowWeight: Float64Array, rng: Random): FlatTree {
    const y = this.#y;
    const w0 = this.#w0;
    const w1 = this.#w1;
    const samples = this.#samples;
    let nSamples = 0;
    let totalWeight = 0;
    for (let r = 0; r < this.#nRows; r++) {
      const w = rowWeight[r];
      if (y[r] === 1) {
        w0[r] = 0;
        w1[r] = w;
      } else {
        w0[r] = w;
        w1[r] = 0;
      }
      if (w > 0) {
        samples[nSamples++] = r;
        totalWeight += w;
      }
    }
    if (nSamples === 0) throw new RangeError("a tree needs at least one row of positive weight");

    const features = this.#features;
    for (let f = 0; f < features.length; f++) features[f] = f;
    const constantFeatures = this.#constantFeatures;
    const criterion = this.#criterion;
    const splitter = this.#splitter;
    const best = this.#best;
    const nFeatures = this.#nCols;
    const maxFeatures = this.#maxFeatures;
    const minSamplesSplit = this.#minSamplesSplit;
    const minSamplesLeaf = this.#minSamplesLeaf;
    const maxDepth = this.#maxDepth;
    const minImpurityDecrease = this.#minImpurityDecrease;
    const stackStart = this.#stackStart;
    const stackEnd = this.#stackEnd;
    const stackDepth = this.#stackDepth;
    const stackParent = this.#stackParent;
    const stackConstants = this.#stackConstants;
    const left = this.#left;
    const right = this.#right;
    const feature = this.#feature;
    const threshold = this.#threshold;
    const value = this.#value;
    const impurityOut = this.#impurity;
    const nNodeSamples = this.#nNodeSamples;
    const weighted = this.#weighted;

    let nodeCount = 0;
    let top = 0;
    stackStart[0] = 0;
    stackEnd[0] = nSamples;
    stackDepth[0] = 0;
    stackParent[0] = -1;
    stackConstants[0] = 0;
    top = 1;
    while (top > 0) {
      top--;
      const start = stackStart[top];
      const end = stackEnd[top];
      const depth = stackDepth[top];
      const parent = stackParent[top];
      const nKnownConstants = stackConstants[top];

      let node0 = 0;
      let node1 = 0;
      for (let i = start; i < end; i++) {
        const r = samples[i];
        node0 += w0[r];
        node1 += w1[r];
      }
      const nodeWeight = node0 + node1;
      const n = end - start;
      const nodeImpurity = impurity(criterion, node0, node1);

      const id = nodeCount++;
      if (parent >= 0) {
        // The left child is pushed last, so it is popped first and takes id parent + 1.
        if (id === parent + 1) left[parent] = id;
        else right[parent] = id;
      }
      left[id] = TREE_LEAF;
      right[id] = TREE_LEAF;
      feature[id] = TREE_UNDEFINED;
      threshold[id] = TREE_UNDEFINED;
      value[id] = node1 / nodeWeight;
      impurityOut[id] = nodeImpurity;
      nNodeSamples[id] = n;
      weighted[id] = nodeWeight;

      if (
        depth >= maxDepth || n < minSamplesSplit || n < 2 * minSamplesLeaf || nodeImpurity <= EPSILON
      ) continue;

      // Feature draw without replacement, ported from scikit-learn's BestSplitter: known
      // constants are skipped for free, newly found ones are recorded for the subtree, and the
      // search goes on past maxFeatures until at least one non-constant feature was seen.
      best.reset();
      let nDrawnConstants = 0;
      let nFoundConstants = 0;
      let nTotalConstants = nKnownConstants;
      let nVisited = 0;
      let fi = nFeatures;
      while (
        fi > nTotalConstants &&
        (nVisited < maxFeatures || nVisited <= nFoundConstants + nDrawnConstants)
      ) {
        nVisited++;
        let fj = nDrawnConstants + rng.int(fi - nFoundConstants - nDrawnConstants);
        if (fj < nKnownConstants) {
          const tmp = features[nDrawnConstants];
          features[nDrawnConstants] = features[fj];
          features[fj] = tmp;
          nDrawnConstants++;
          continue;
        }
        fj += nFoundConstants;
        const f = features[fj];
        if (!splitter.evaluate(samples, start, end, f, w0, w1, node0, node1, best)) {
          features[fj] = features[nTotalConstants];
          features[nTotalConstants] = f;
          nFoundConstants++;
          nTotalConstants++;
          continue;
        }
        fi--;
        features[fj] = features[fi];
        features[fi] = f;
      }
      // Restore the inherited constants at the front and remember the new ones for children.
      for (let k = 0; k < nKnownConstants; k++) features[k] = constantFeatures[k];
      for (let k = 0; k < nFoundConstants; k++) {
        constantFeatures[nKnownConstants + k] = features[nKnownConstants + k];
      }

      if (best.feature < 0) continue;
      const left0 = best.left0;
      const left1 = best.left1;
      const leftWeight = left0 + left1;
      const rightWeight = nodeWeight - leftWeight;
      const improvement = (nodeWeight / totalWeight) *
        (nodeImpurity -
          (leftWeight / nodeWeight) * impurity(criterion, left0, left1) -
          (rightWeight / nodeWeight) * impurity(criterion, node0 - left0, node1 - left1));
      if (improvement + EPSILON < minImpurityDecrease) continue;

      feature[id] = best.feature;
      threshold[id] = splitter.threshold(best);
      const mid = splitter.partition(samples, start, end, best);
      stackStart[top] = mid;
      stackEnd[top] = end;
      stackDepth[top] = depth + 1;
      stackParent[top] = id;
      stackConstants[top] = nTotalConstants;
      top++;
      stackStart[top] = start;
      stackEnd[top] = mid;
      stackDepth[top] = depth + 1;
      stackParent[top] = id;
      stackConstants[top] = nTotalConstants;
      top++;
    }

    return {
      nodeCount,
      childrenLeft: left.slice(0, nodeCount),
      childrenRight: right.slice(0, nodeCount),
      feature: feature.slice(0, nodeCount),
      threshold: threshold.slice(0, nodeCount),
      value: value.slice(0, nodeCount),
      impurity: impurityOut.slice(0, nodeCount),
      nNodeSamples: nNodeSamples.slice(0, nodeCount),
      weightedNNodeSamples: weighted.slice(0, nodeCount),
    };
  }
}
