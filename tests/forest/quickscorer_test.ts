import assert from "node:assert/strict";
import { BalancedRandomForest, type FlatTree, type Matrix, TREE_LEAF } from "../../pipeline/forest/mod.ts";
import { type PackedForest, packForest, predictPackedInto } from "../../pipeline/forest/packed.ts";
import { QuickScorer, quickScorerPays } from "../../pipeline/forest/quickscorer.ts";
import { Random } from "../../pipeline/random.ts";

/**
 * Rows of a two-class problem whose label follows features 0 and 1. Column 2 is spread over
 * millions and column 3 holds integers (counts, amounts), so that the kernel ranks columns by
 * each of its means: one threshold, a table of integers, a binary search.
 */
function synthetic(rows: number, cols: number, seed: number): { X: Matrix; y: Uint8Array } {
  const rng = new Random(seed);
  const data = new Float64Array(rows * cols);
  const y = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const x = rng.normal();
      data[r * cols + c] = c === 2 ? 1e6 * x : c === 3 ? Math.round(10 * x) : x;
    }
    y[r] = data[r * cols] + 0.5 * data[r * cols + 1] + 0.7 * rng.normal() > 0.4 ? 1 : 0;
  }
  return { X: { data, rows, cols }, y };
}

/**
 * Rows that probe the comparisons where a rank could go wrong: each cell is, at random, one of the
 * forest's thresholds for that column (a tie must go left), its next double up or down, an integer
 * next to it, NaN (goes left), ±Infinity, ±0 or a plain draw.
 */
function probingRows(forest: PackedForest, rows: number, seed: number): Float64Array {
  const rng = new Random(seed);
  const cols = forest.nFeatures;
  const thresholds: number[][] = Array.from({ length: cols }, () => []);
  for (let k = 0; k < forest.feature.length; k++) {
    if (forest.children[2 * k] !== k) thresholds[forest.feature[k]].push(forest.threshold[k]);
  }
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    const own = thresholds[i % cols];
    const pick = own.length ? own[rng.int(own.length)] : 0;
    const choice = rng.int(11);
    data[i] = choice === 0
      ? pick
      : choice === 1
      ? nextDouble(pick, 1)
      : choice === 2
      ? nextDouble(pick, -1)
      : choice === 3
      ? NaN
      : choice === 4
      ? (rng.int(2) ? Infinity : -Infinity)
      : choice === 5
      ? (rng.int(2) ? 0 : -0)
      : choice === 6
      ? Math.round(pick) // an integer within the column's table
      : choice === 7
      ? Math.round(pick) + (rng.int(2) ? 1 : -1)
      : rng.normal();
  }
  return data;
}

/** The double next to `x` towards +∞ (`direction` 1) or −∞ (−1). */
function nextDouble(x: number, direction: 1 | -1): number {
  if (x === 0) return direction * Number.MIN_VALUE;
  const bits = new BigInt64Array(Float64Array.of(x).buffer);
  bits[0] += (x > 0) === (direction > 0) ? 1n : -1n;
  return new Float64Array(bits.buffer)[0];
}

function walk(forest: PackedForest, data: Float64Array, rows: number): Float64Array {
  const out = new Float64Array(rows);
  predictPackedInto(forest, data, rows, out);
  return out;
}

Deno.test("QuickScorer gives the walk's probabilities bit for bit, ties, NaN and infinities included", () => {
  const train = synthetic(400, 6, 3);
  for (const maxDepth of [1, 3, 5]) {
    const forest = new BalancedRandomForest({ nEstimators: 41, seed: maxDepth, maxDepth }).fit(
      train.X,
      train.y,
    );
    const packed = packForest(forest.trees, 6);
    const scorer = QuickScorer.for(packed);
    assert.ok(scorer, `depth ${maxDepth}: trees of at most 32 leaves are taken`);
    // 4,133 rows: three blocks of the kernel (2,048 rows), the last partial, its last group too.
    const rows = 4133;
    for (const data of [probingRows(packed, rows, maxDepth), synthetic(rows, 6, 9).X.data]) {
      const out = new Float64Array(rows);
      scorer.predictInto(data, rows, out);
      assert.deepEqual(out, walk(packed, data, rows), `depth ${maxDepth}`);
    }
  }
});

/** A flat tree from (feature, threshold, left, right, value) rows, node 0 the root. */
function tree(nodes: [number, number, number, number, number][]): FlatTree {
  const column = (i: number) => nodes.map((n) => n[i]);
  return {
    nodeCount: nodes.length,
    feature: Int32Array.from(column(0)),
    threshold: Float64Array.from(column(1)),
    childrenLeft: Int32Array.from(column(2)),
    childrenRight: Int32Array.from(column(3)),
    value: Float64Array.from(column(4)),
    impurity: new Float64Array(nodes.length),
    nNodeSamples: new Int32Array(nodes.length),
    weightedNNodeSamples: new Float64Array(nodes.length),
  };
}

Deno.test("QuickScorer on hand-built trees: a lone leaf, and the leftmost leaf a row can reach", () => {
  const L = TREE_LEAF;
  // Tree 1: x1 <= 5 ? (x0 <= 1 ? 0.1 : 0.2) : 0.4. Tree 2: a lone leaf of 0.5.
  const trees = [
    tree([[1, 5, 1, 4, 0], [0, 1, 2, 3, 0], [-2, -2, L, L, 0.1], [-2, -2, L, L, 0.2], [-2, -2, L, L, 0.4]]),
    tree([[-2, -2, L, L, 0.5]]),
  ];
  const packed = packForest(trees, 2);
  const rows = [[1, 5], [1.5, 5], [0, 6], [NaN, NaN], [Infinity, -Infinity]];
  const expected = [(0.1 + 0.5) / 2, (0.2 + 0.5) / 2, (0.4 + 0.5) / 2, (0.1 + 0.5) / 2, (0.2 + 0.5) / 2];
  const data = Float64Array.from(rows.flat());
  const out = new Float64Array(rows.length);
  QuickScorer.for(packed)!.predictInto(data, rows.length, out);
  assert.deepEqual(Array.from(out), expected);
  // A forest of lone leaves tests no feature at all.
  const leavesOnly = packForest([tree([[-2, -2, L, L, 0.25]]), tree([[-2, -2, L, L, 0.75]])], 2);
  QuickScorer.for(leavesOnly)!.predictInto(data, rows.length, out);
  assert.deepEqual(Array.from(out), rows.map(() => 0.5));
});

Deno.test("QuickScorer declines trees of more than 128 leaves and non-finite thresholds", () => {
  const { X, y } = synthetic(3000, 4, 5);
  const deep = new BalancedRandomForest({ nEstimators: 3, seed: 1, maxDepth: null, minSamplesLeaf: 1 }).fit(
    X,
    y,
  );
  assert.ok(deep.trees.some((t) => t.childrenLeft.filter((c) => c === TREE_LEAF).length > 128));
  assert.equal(QuickScorer.for(packForest(deep.trees, 4)), null);
  const L = TREE_LEAF;
  const infinite = packForest([tree([[0, Infinity, 1, 2, 0], [-2, -2, L, L, 0.1], [-2, -2, L, L, 0.9]])], 1);
  assert.equal(QuickScorer.for(infinite), null);
  // The forest still predicts through the walk.
  assert.ok(deep.predictProba(X).every((p) => p >= 0 && p <= 1));
});

/** A complete tree of `depth` levels of splits on feature 0 (thresholds 1, 2, …), leaves valued by position. */
function completeTree(depth: number): FlatTree {
  const nodes: [number, number, number, number, number][] = [];
  const grow = (level: number): number => {
    const id = nodes.length;
    nodes.push([-2, -2, TREE_LEAF, TREE_LEAF, id / 1000]);
    if (level < depth) {
      const left = grow(level + 1);
      const right = grow(level + 1);
      nodes[id] = [0, id + 1, left, right, 0];
    }
    return id;
  };
  grow(0);
  return tree(nodes);
}

Deno.test("QuickScorer is chosen for forests of few nodes per step of depth, the walk for bushy ones", () => {
  // Complete trees: depth 3 has 7 internal nodes for 3 steps (7 <= 4 × 3); depth 5 has 31 for 5.
  assert.equal(quickScorerPays(packForest([completeTree(3), completeTree(3)], 1)), true);
  assert.equal(quickScorerPays(packForest([completeTree(5), completeTree(5)], 1)), false);
  // Either way the kernel, when asked, scores as the walk does.
  const packed = packForest([completeTree(5), completeTree(2)], 1);
  const data = Float64Array.from({ length: 300 }, (_, i) => (i * 7) % 40 - 3 + (i % 3) / 2);
  const out = new Float64Array(300);
  QuickScorer.for(packed)!.predictInto(data, 300, out);
  assert.deepEqual(out, walk(packed, data, 300));
});
