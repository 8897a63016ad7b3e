/**
 * Which split a tree chooses, pinned against hand-worked cases and an in-test brute force over
 * every threshold of every feature, for both splitters (exact and histogram). The brute force
 * recomputes impurities from the definitions (Gini `1 − Σp²`, entropy in bits) and knows nothing
 * of the project's proxy, codes or partitioning.
 */
import assert from "node:assert/strict";
import { DecisionTreeClassifier, type FlatTree, TREE_LEAF } from "../../pipeline/forest/mod.ts";
import { Random } from "../../pipeline/random.ts";

const SPLITTERS = ["exact", "histogram"] as const;

/** Gini or entropy (bits) of class weights, from the textbook definitions. */
function impurityOf(criterion: "gini" | "entropy", w0: number, w1: number): number {
  const w = w0 + w1;
  if (w === 0) return 0;
  const p = [w0 / w, w1 / w];
  if (criterion === "gini") return 1 - p[0] ** 2 - p[1] ** 2;
  return -p.filter((q) => q > 0).reduce((s, q) => s + q * Math.log2(q), 0);
}

interface Node {
  rows: number[];
  depth: number;
}

interface Candidate {
  feature: number;
  threshold: number;
  nLeft: number;
  decrease: number;
}

interface BruteOptions {
  criterion: "gini" | "entropy";
  minSamplesLeaf: number;
  minSamplesSplit: number;
  maxDepth: number;
  /** scikit-learn's rule: split only if (W_node / W_total)·decrease ≥ this (default 0). */
  minImpurityDecrease?: number;
}

/** Every admissible split of a node's rows, with its weighted impurity decrease. */
function candidates(X: number[][], y: number[], w: number[], rows: number[], o: BruteOptions): Candidate[] {
  const out: Candidate[] = [];
  const weightOf = (rs: number[], label: number) => rs.reduce((s, r) => s + (y[r] === label ? w[r] : 0), 0);
  const node0 = weightOf(rows, 0), node1 = weightOf(rows, 1), W = node0 + node1;
  const parent = impurityOf(o.criterion, node0, node1);
  for (let f = 0; f < X[0].length; f++) {
    const values = [...new Set(rows.map((r) => X[r][f]))].sort((a, b) => a - b);
    for (let k = 0; k + 1 < values.length; k++) {
      const threshold = (values[k] + values[k + 1]) / 2;
      const left = rows.filter((r) => X[r][f] <= threshold);
      const right = rows.filter((r) => X[r][f] > threshold);
      if (left.length < o.minSamplesLeaf || right.length < o.minSamplesLeaf) continue;
      const l0 = weightOf(left, 0), l1 = weightOf(left, 1);
      const r0 = weightOf(right, 0), r1 = weightOf(right, 1);
      const decrease = parent - ((l0 + l1) / W) * impurityOf(o.criterion, l0, l1) -
        ((r0 + r1) / W) * impurityOf(o.criterion, r0, r1);
      out.push({ feature: f, threshold, nLeft: left.length, decrease });
    }
  }
  return out;
}

/**
 * Walks the fitted tree and checks every node against the brute force: its rows, value and
 * impurity; that it is a leaf exactly when no admissible split exists or a stopping rule holds;
 * and that its split is one of the best admissible ones (the only one, when the best is unique).
 * Returns how many splits were pinned to a unique best.
 */
function checkAgainstBruteForce(
  tree: FlatTree,
  X: number[][],
  y: number[],
  w: number[],
  o: BruteOptions,
  label: string,
): number {
  let pinned = 0;
  const rowsAt = new Map<number, Node>([[0, { rows: X.map((_, r) => r).filter((r) => w[r] > 0), depth: 0 }]]);
  const totalWeight = w.reduce((s, v) => s + v, 0);
  for (let id = 0; id < tree.nodeCount; id++) {
    const node = rowsAt.get(id);
    assert.ok(node, `${label}: node ${id} is reachable`);
    const { rows, depth } = node;
    const w0 = rows.reduce((s, r) => s + (y[r] === 0 ? w[r] : 0), 0);
    const w1 = rows.reduce((s, r) => s + (y[r] === 1 ? w[r] : 0), 0);
    const where = `${label}: node ${id} (rows ${rows.join(",")})`;
    assert.equal(tree.nNodeSamples[id], rows.length, `${where}: sample count`);
    assert.ok(Math.abs(tree.value[id] - w1 / (w0 + w1)) < 1e-12, `${where}: value`);
    assert.ok(Math.abs(tree.impurity[id] - impurityOf(o.criterion, w0, w1)) < 1e-12, `${where}: impurity`);
    const stops = depth >= o.maxDepth || rows.length < o.minSamplesSplit ||
      rows.length < 2 * o.minSamplesLeaf || impurityOf(o.criterion, w0, w1) <= 1e-10;
    const all = stops ? [] : candidates(X, y, w, rows, o);
    // The best split's weighted improvement must reach minImpurityDecrease (none is needed at 0).
    const weightedGain = ((w0 + w1) / totalWeight) * Math.max(-Infinity, ...all.map((c) => c.decrease));
    const required = o.minImpurityDecrease ?? 0;
    if (all.length > 0 && required > 0 && Math.abs(weightedGain - required) < 1e-9) continue; // on the edge
    const splits = all.length > 0 && weightedGain + 1e-10 >= required;
    if (tree.childrenLeft[id] === TREE_LEAF) {
      assert.ok(!splits, `${where}: left a leaf although ${JSON.stringify(all[0])} gains ${weightedGain}`);
      continue;
    }
    assert.ok(
      splits,
      `${where}: split although no admissible split gains ${required} (best ${weightedGain})`,
    );
    const f = tree.feature[id], t = tree.threshold[id];
    const chosen = all.find((c) => c.feature === f && c.threshold === t);
    assert.ok(chosen, `${where}: split x${f} <= ${t} is not an admissible midpoint split`);
    const best = Math.max(...all.map((c) => c.decrease));
    assert.ok(chosen.decrease >= best - 1e-12, `${where}: decrease ${chosen.decrease} < best ${best}`);
    const winners = all.filter((c) => c.decrease >= best - 1e-9);
    if (winners.length === 1) pinned++;
    const left = rows.filter((r) => X[r][f] <= t);
    const right = rows.filter((r) => X[r][f] > t);
    rowsAt.set(tree.childrenLeft[id], { rows: left, depth: depth + 1 });
    rowsAt.set(tree.childrenRight[id], { rows: right, depth: depth + 1 });
  }
  return pinned;
}

function shape(tree: FlatTree) {
  return Array.from({ length: tree.nodeCount }, (_, i) => ({
    feature: tree.feature[i],
    threshold: tree.threshold[i],
    n: tree.nNodeSamples[i],
    value: tree.value[i],
  }));
}

Deno.test("x = 1…4, y = 0,0,0,1: the pure 3|1 split at 3.5, not the impure 2|2 (both splitters)", () => {
  // Root Gini 0.375. 3|1 leaves two pure children (decrease 0.375); 2|2 leaves {0,0} and {0,1}
  // (decrease 0.125); 1|3 leaves {0} and {0,0,1} (decrease 0.0417).
  for (const splitter of SPLITTERS) {
    const tree = new DecisionTreeClassifier({ splitter }).fit([[1], [2], [3], [4]], [0, 0, 0, 1]).tree!;
    assert.deepEqual(shape(tree), [
      { feature: 0, threshold: 3.5, n: 4, value: 0.25 },
      { feature: -2, threshold: -2, n: 3, value: 0 },
      { feature: -2, threshold: -2, n: 1, value: 1 },
    ], splitter);
  }
});

Deno.test("x = 1…4, y = 1,0,0,0: the pure 1|3 split at 1.5 (the leaf-size check on the left side)", () => {
  for (const splitter of SPLITTERS) {
    const tree = new DecisionTreeClassifier({ splitter }).fit([[1], [2], [3], [4]], [1, 0, 0, 0]).tree!;
    assert.deepEqual(shape(tree), [
      { feature: 0, threshold: 1.5, n: 4, value: 0.25 },
      { feature: -2, threshold: -2, n: 1, value: 1 },
      { feature: -2, threshold: -2, n: 3, value: 0 },
    ], splitter);
  }
});

Deno.test("minSamplesLeaf 2 allows only the 2|2 split, which is exactly at the leaf-size bound", () => {
  for (const splitter of SPLITTERS) {
    for (const y of [[0, 0, 0, 1], [1, 0, 0, 0]]) {
      const tree = new DecisionTreeClassifier({ splitter, minSamplesLeaf: 2 }).fit([[1], [2], [3], [4]], y)
        .tree!;
      assert.deepEqual(
        shape(tree).map((n) => [n.threshold, n.n]),
        [[2.5, 4], [-2, 2], [-2, 2]],
        `${splitter} ${y}`,
      );
    }
    // Five rows cannot give two leaves of three; six rows give exactly 3|3.
    const five = new DecisionTreeClassifier({ splitter, minSamplesLeaf: 3 }).fit([[1], [2], [3], [4], [5]], [
      0,
      0,
      0,
      1,
      1,
    ]).tree!;
    assert.equal(five.nodeCount, 1, `${splitter}: 5 rows, minSamplesLeaf 3`);
    const six = new DecisionTreeClassifier({ splitter, minSamplesLeaf: 3 }).fit(
      [[1], [2], [3], [4], [5], [6]],
      [0, 1, 0, 1, 1, 1],
    ).tree!;
    assert.deepEqual(shape(six).map((n) => [n.threshold, n.n]), [[3.5, 6], [-2, 3], [-2, 3]], splitter);
  }
});

Deno.test("tied values are never split apart: the boundary is between distinct values", () => {
  // x = 1,1,2,2,3 with y = 0,0,1,1,1: the only pure split is 2|3 at 1.5.
  for (const splitter of SPLITTERS) {
    const tree = new DecisionTreeClassifier({ splitter }).fit([[1], [1], [2], [2], [3]], [0, 0, 1, 1, 1])
      .tree!;
    assert.deepEqual(shape(tree).map((n) => [n.threshold, n.n]), [[1.5, 5], [-2, 2], [-2, 3]], splitter);
  }
});

Deno.test("the best feature wins, by the impurity decrease worked out by hand", () => {
  // Feature 0 separates 5|1 with one error on the left; feature 1 separates 3|3 perfectly.
  const X = [[1, 10], [2, 20], [3, 30], [4, 40], [5, 50], [6, 60]];
  const y = [0, 0, 0, 1, 1, 1];
  X[4][0] = 0.5; // row 4 (bad) now sits at the low end of feature 0
  for (const splitter of SPLITTERS) {
    const tree = new DecisionTreeClassifier({ splitter }).fit(X, y).tree!;
    assert.equal(tree.feature[0], 1, splitter);
    assert.equal(tree.threshold[0], 35, splitter);
  }
});

Deno.test("sample weights move the split: a heavy row outweighs two light ones", () => {
  // Unweighted, x = 1…4 with y = 0,1,1,0, the splits 1|3 and 3|1 tie. Weights 5,1,1,1 (6 good, 2 bad):
  // parent Gini 0.375; 1|3 leaves (3/8)·(4/9) = 0.1667 (decrease 0.2083); 2|2 leaves
  // (6/8)·(10/36) + (2/8)·0.5 = 0.3333 (0.0417); 3|1 leaves (7/8)·(20/49) = 0.357 (0.018).
  const X = [[1], [2], [3], [4]];
  const y = [0, 1, 1, 0];
  const w = [5, 1, 1, 1];
  const o = { criterion: "gini" as const, minSamplesLeaf: 1, minSamplesSplit: 2, maxDepth: Infinity };
  const root = candidates(X, y, w, [0, 1, 2, 3], o).sort((a, b) => b.decrease - a.decrease);
  assert.deepEqual([root[0].threshold, root[0].nLeft], [1.5, 1]);
  assert.ok(root[0].decrease > root[1].decrease + 0.01);
  for (const splitter of SPLITTERS) {
    const tree = new DecisionTreeClassifier({ splitter }).fit(X, y, w).tree!;
    assert.equal(tree.threshold[0], 1.5, splitter);
    assert.equal(tree.weightedNNodeSamples[0], 8);
    assert.equal(tree.value[0], 2 / 8);
  }
});

Deno.test("gini and entropy disagree on a hand-worked node, and each splitter follows its criterion", () => {
  // 2 good, 6 bad. Feature 0 isolates one good: {1 good} | {1 good, 6 bad}.
  // Feature 1 isolates four bads: {4 bad} | {2 good, 2 bad}.
  // Gini: parent 0.375; feature 0 leaves (7/8)·(12/49) = 0.2143 (decrease 0.1607), feature 1 leaves
  // (4/8)·0.5 = 0.25 (decrease 0.125). Entropy: parent 0.8113; feature 0 leaves (7/8)·H(1/7) = 0.5177
  // (decrease 0.2936), feature 1 leaves (4/8)·1 = 0.5 (decrease 0.3113).
  const X = [[0, 1], [1, 1], [1, 0], [1, 0], [1, 0], [1, 0], [1, 1], [1, 1]];
  const y = [0, 0, 1, 1, 1, 1, 1, 1];
  for (const splitter of SPLITTERS) {
    for (const [criterion, feature] of [["gini", 0], ["entropy", 1]] as const) {
      const tree = new DecisionTreeClassifier({ splitter, criterion, maxDepth: 1 }).fit(X, y).tree!;
      assert.deepEqual([tree.feature[0], tree.threshold[0]], [feature, 0.5], `${splitter} ${criterion}`);
    }
  }
});

Deno.test("every node of random small trees matches the brute force (both splitters, both criteria, weights, all limits)", () => {
  const rng = new Random(2024);
  let pinned = 0;
  for (let dataset = 0; dataset < 60; dataset++) {
    const rows = 6 + rng.int(14);
    const cols = 1 + rng.int(3);
    const X = Array.from(
      { length: rows },
      () => Array.from({ length: cols }, () => rng.int(8) + rng.int(3) / 4),
    );
    const y: number[] = Array.from({ length: rows }, (_, r) => (X[r][0] + rng.normal() > 4 ? 1 : 0));
    if (y.every((v) => v === y[0])) y[0] = 1 - y[0];
    const weighted = dataset % 3 === 0;
    const w = X.map(() => (weighted ? [0, 1, 2, 3][rng.int(4)] : 1));
    if (!w.some((v, r) => v > 0 && y[r] === 1)) w[y.indexOf(1)] = 1;
    const criterion = dataset % 2 === 0 ? "gini" as const : "entropy" as const;
    const minSamplesLeaf = 1 + (dataset % 4 === 1 ? rng.int(3) : 0);
    const minSamplesSplit = dataset % 5 === 2 ? 2 + rng.int(6) : 2;
    const maxDepth = dataset % 7 === 3 ? 1 + rng.int(3) : Infinity;
    const minImpurityDecrease = dataset % 3 === 0 && dataset % 2 === 0 ? 0.005 + rng.next() * 0.03 : 0;
    const o = { criterion, minSamplesLeaf, minSamplesSplit, maxDepth, minImpurityDecrease };
    for (const splitter of SPLITTERS) {
      const tree = new DecisionTreeClassifier({
        splitter,
        criterion,
        minSamplesLeaf,
        minSamplesSplit,
        maxDepth: Number.isFinite(maxDepth) ? maxDepth : null,
        minImpurityDecrease,
        seed: dataset,
      }).fit(X, y, weighted ? w : undefined).tree!;
      pinned += checkAgainstBruteForce(
        tree,
        X,
        y,
        w,
        o,
        `dataset ${dataset} ${splitter} ${JSON.stringify(o)}`,
      );
    }
  }
  assert.ok(pinned >= 120, `only ${pinned} splits had a unique best`);
});

Deno.test("histogram bins coarser than the data: the split is the best bin boundary", () => {
  // 12 distinct values in 3 bins of four values: only the two bin boundaries are candidates.
  const X = Array.from({ length: 12 }, (_, i) => [i + 1]);
  const y = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1];
  const tree = new DecisionTreeClassifier({ splitter: "histogram", maxBins: 3, maxDepth: 1 }).fit(X, y).tree!;
  // Boundaries: between 4 and 5 (left 4 good) or between 8 and 9 (left 5 good + 3 bad).
  // Gini decrease: 4|8 → 0.486 − (8/12)·(1 − (1/8)² − (7/8)²) = 0.340; 8|4 → 0.486 − (8/12)·0.469 = 0.174.
  assert.equal(tree.threshold[0], 4.5);
  assert.deepEqual([tree.nNodeSamples[1], tree.nNodeSamples[2]], [4, 8]);
  const exact = new DecisionTreeClassifier({ splitter: "exact", maxDepth: 1 }).fit(X, y).tree!;
  assert.equal(exact.threshold[0], 5.5, "the exact splitter finds the pure boundary the bins hide");
});
