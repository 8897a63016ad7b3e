/**
 * Impurity-based (MDI) importances recomputed from the data: every split's weighted impurity
 * decrease, W·imp(node) − W_left·imp(left) − W_right·imp(right), with impurities from the textbook
 * Gini of the rows routed to each node (not the tree's stored impurities), summed per feature and
 * normalised to 1 per tree, then averaged over trees and normalised again (scikit-learn's rule).
 */
import assert from "node:assert/strict";
import {
  BalancedRandomForest,
  DecisionTreeClassifier,
  type FlatTree,
  TREE_LEAF,
} from "../../pipeline/forest/mod.ts";
import { Random } from "../../pipeline/random.ts";

const gini = (
  w0: number,
  w1: number,
) => (w0 + w1 === 0 ? 0 : 1 - (w0 / (w0 + w1)) ** 2 - (w1 / (w0 + w1)) ** 2);

/** Per-feature weighted Gini decrease of one tree, from the rows (and weights) routed to its nodes. */
function decreases(tree: FlatTree, X: number[][], y: number[], w: number[], nFeatures: number): number[] {
  const out = new Array(nFeatures).fill(0);
  const rowsAt = new Map<number, number[]>([[0, X.map((_, r) => r).filter((r) => w[r] > 0)]]);
  const cover = (rows: number[]) => {
    const w0 = rows.reduce((s, r) => s + (y[r] === 0 ? w[r] : 0), 0);
    const w1 = rows.reduce((s, r) => s + (y[r] === 1 ? w[r] : 0), 0);
    return (w0 + w1) * gini(w0, w1);
  };
  for (let id = 0; id < tree.nodeCount; id++) {
    const l = tree.childrenLeft[id];
    if (l === TREE_LEAF) continue;
    const rows = rowsAt.get(id)!;
    const f = tree.feature[id], t = tree.threshold[id];
    const left = rows.filter((r) => X[r][f] <= t), right = rows.filter((r) => X[r][f] > t);
    rowsAt.set(l, left);
    rowsAt.set(tree.childrenRight[id], right);
    out[f] += cover(rows) - cover(left) - cover(right);
  }
  return out;
}

const normalised = (v: number[]) => {
  const sum = v.reduce((a, b) => a + b, 0);
  return sum > 0 ? v.map((x) => x / sum) : v;
};

function randomData(rng: Random, rows: number, cols: number) {
  const X = Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.int(10)));
  const y = X.map((row) => (row[0] + 0.5 * row[1] + 3 * rng.normal() > 7 ? 1 : 0));
  return { X, y };
}

Deno.test("a single tree's importances are its per-feature weighted impurity decreases, normalised", () => {
  const rng = new Random(9);
  for (let sample = 0; sample < 20; sample++) {
    const { X, y } = randomData(rng, 40, 3);
    const w = X.map(() => 1 + rng.int(3));
    const tree = new DecisionTreeClassifier({ maxDepth: 3, seed: sample }).fit(X, y, w);
    const expected = normalised(decreases(tree.tree!, X, y, w, 3));
    const actual = Array.from(tree.featureImportances());
    actual.forEach((v, f) =>
      assert.ok(Math.abs(v - expected[f]) < 1e-9, `sample ${sample}: ${actual} vs ${expected}`)
    );
  }
});

Deno.test("a forest's importances average the trees' normalised decreases (bootstrap counts as weights)", () => {
  const rng = new Random(10);
  const { X, y } = randomData(rng, 60, 4);
  const forest = new BalancedRandomForest({ nEstimators: 7, maxDepth: 3, seed: 3 }).fit(X, y);
  const perTree = forest.trees.map((tree) => {
    // A tree's row weights are its bootstrap draw, which the forest does not keep: the decrease is
    // taken from each node's cover and the textbook Gini of its P(bad), not its stored impurity.
    const out = new Array(4).fill(0);
    const coverOf = (i: number) => tree.weightedNNodeSamples[i] * gini(1 - tree.value[i], tree.value[i]);
    for (let i = 0; i < tree.nodeCount; i++) {
      const l = tree.childrenLeft[i];
      if (l === TREE_LEAF) continue;
      out[tree.feature[i]] += coverOf(i) - coverOf(l) - coverOf(tree.childrenRight[i]);
    }
    return normalised(out);
  }).filter((v) => v.some((x) => x > 0));
  const mean = normalised(perTree[0].map((_, f) => perTree.reduce((s, v) => s + v[f], 0) / perTree.length));
  Array.from(forest.featureImportances()).forEach((v, f) => assert.ok(Math.abs(v - mean[f]) < 1e-9, `${f}`));
});
