/**
 * The quadrature TreeSHAP (pipeline/forest/explain.ts) against two independent oracles: the
 * previous algorithm (explain_reference.ts, Lundberg et al.'s Algorithm 2) on the production model
 * and on random forests from fast-check, and Shapley values by enumerating every coalition on
 * small trees. Plus local accuracy, and the quadrature rule itself.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  expectedValue,
  type FlatTree,
  predictTreeRow,
  type ShapPlayers,
  TREE_LEAF,
  TREE_UNDEFINED,
  TreeShapExplainer,
} from "../../pipeline/forest/mod.ts";
import { ReferenceTreeShapExplainer } from "../../pipeline/forest/explain_reference.ts";
import { gaussLegendre } from "../../pipeline/forest/explain_quadrature.ts";
import { attributePlayers } from "../../pipeline/model/reasons.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { ATTRIBUTES } from "../../pipeline/data/schema.ts";
import { Random } from "../../pipeline/random.ts";
import { germanCredit } from "../fixtures.ts";
import { slow } from "../scope.ts";
import { flatTree } from "./flat_tree.ts";

const AGREEMENT = 1e-10;
/** Both ways of computing: the WebAssembly kernel (production) and its TypeScript twin (the fallback). */
const KERNELS = ["wasm", "typescript"] as const;

/** Knobs of one random tree; the tree itself follows from `seed`. */
interface TreeSpec {
  seed: number;
  /** Depth of the deepest leaf (a spine reaches it). */
  depth: number;
  nColumns: number;
  /** Chance that a node off the spine splits. */
  bushiness: number;
  /** Chance that a split gives one child no cover at all. */
  emptyChild: number;
}

/**
 * A random tree: one spine of splits down to `depth`, other nodes splitting with probability
 * `bushiness` while the node budget lasts; thresholds at integers and half-integers so that rows of
 * small integers go both ways and sometimes land exactly on a threshold.
 */
function randomTree(spec: TreeSpec, budget = 400): FlatTree {
  const rng = new Random(spec.seed);
  const left: number[] = [], right: number[] = [], feature: number[] = [], threshold: number[] = [];
  const value: number[] = [], cover: number[] = [];
  const grow = (depth: number, weight: number, spine: boolean): number => {
    const id = left.length;
    left.push(TREE_LEAF), right.push(TREE_LEAF), feature.push(TREE_UNDEFINED), threshold.push(TREE_UNDEFINED);
    value.push(rng.next()), cover.push(weight);
    const splits = depth < spec.depth && (spine || (left.length < budget && rng.next() < spec.bushiness));
    if (!splits) return id;
    feature[id] = rng.int(spec.nColumns);
    threshold[id] = rng.int(4) + (rng.next() < 0.7 ? 0.5 : 0);
    const share = rng.next() < spec.emptyChild ? (rng.next() < 0.5 ? 0 : 1) : rng.uniform(0.05, 0.95);
    const spineLeft = rng.next() < 0.5;
    left[id] = grow(depth + 1, weight * share, spine && spineLeft);
    right[id] = grow(depth + 1, weight * (1 - share), spine && !spineLeft);
    return id;
  };
  grow(0, 50 + rng.next() * 100, true);
  return flatTree({ left, right, feature, threshold, value, cover });
}

/** Mean prediction of `trees` for row `x`. */
function predict(trees: readonly FlatTree[], x: ArrayLike<number>): number {
  let sum = 0;
  for (const tree of trees) sum += predictTreeRow(tree, x, 0);
  return sum / trees.length;
}

/**
 * Shapley values by enumerating every coalition S of the players, with v(S) the mean over trees of
 * the path-dependent E[f(x) | x_S]: a split follows x when all its column's players are in S, else
 * averages its children by cover.
 */
function bruteForce(trees: readonly FlatTree[], x: ArrayLike<number>, players: ShapPlayers): Float64Array {
  const n = players.count;
  const v = (S: number) => {
    let total = 0;
    for (const t of trees) {
      const expect = (node: number): number => {
        const l = t.childrenLeft[node], r = t.childrenRight[node];
        if (l === TREE_LEAF) return t.value[node];
        const c = t.feature[node];
        if (players.ofColumn[c].every((p) => S & (1 << p))) return expect(x[c] <= t.threshold[node] ? l : r);
        const w = t.weightedNNodeSamples;
        return w[node] > 0 ? (w[l] * expect(l) + w[r] * expect(r)) / w[node] : 0;
      };
      total += expect(0);
    }
    return total / trees.length;
  };
  const values = Float64Array.from({ length: 1 << n }, (_, S) => v(S));
  const factorial = (k: number): number => (k <= 1 ? 1 : k * factorial(k - 1));
  const phi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let S = 0; S < 1 << n; S++) {
      if (S & (1 << i)) continue;
      let size = 0;
      for (let b = 0; b < n; b++) if (S & (1 << b)) size++;
      phi[i] += (factorial(size) * factorial(n - size - 1)) / factorial(n) *
        (values[S | (1 << i)] - values[S]);
    }
  }
  return phi;
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: number,
  what: string,
) {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance,
      `${what}, player ${i}: ${actual[i]} vs ${expected[i]} (off by ${Math.abs(actual[i] - expected[i])})`,
    );
  }
}

const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

const columnsAsPlayers = (nColumns: number): ShapPlayers => ({
  count: nColumns,
  ofColumn: Array.from({ length: nColumns }, (_, c) => [c]),
});

// ---------------------------------------------------------------------------------------------
// Arbitraries

const treeSpec = (maxDepth: number, nColumns: number): fc.Arbitrary<TreeSpec> =>
  fc.record({
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    depth: fc.integer({ min: 1, max: maxDepth }),
    nColumns: fc.constant(nColumns),
    bushiness: fc.double({ min: 0, max: 0.9, noNaN: true }),
    emptyChild: fc.constantFrom(0, 0, 0.05, 0.3),
  });

/** One player per column; columns grouped into players (one-hot); or columns of 1–3 players (engineered). */
const playersFor = (nColumns: number, maxPlayers: number): fc.Arbitrary<ShapPlayers | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    fc.integer({ min: 1, max: maxPlayers }).chain((count) =>
      fc.array(fc.integer({ min: 0, max: count - 1 }).map((p) => [p]), {
        minLength: nColumns,
        maxLength: nColumns,
      }).map((ofColumn) => ({ count, ofColumn }))
    ),
    fc.integer({ min: 2, max: maxPlayers }).chain((count) =>
      fc.array(fc.uniqueArray(fc.integer({ min: 0, max: count - 1 }), { minLength: 1, maxLength: 3 }), {
        minLength: nColumns,
        maxLength: nColumns,
      }).map((ofColumn) => ({ count, ofColumn }))
    ),
  );

/** A forest of 1–4 trees of depth ≤ maxDepth over 1–10 columns, players, and rows to explain. */
const forestCase = (maxDepth: number, maxPlayers: number, maxColumns = 10) =>
  fc.integer({ min: 1, max: maxColumns }).chain((nColumns) =>
    fc.record({
      specs: fc.array(treeSpec(maxDepth, nColumns), { minLength: 1, maxLength: 4 }),
      players: playersFor(nColumns, maxPlayers),
      rows: fc.array(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: nColumns, maxLength: nColumns }), {
        minLength: 1,
        maxLength: 4,
      }),
      nColumns: fc.constant(nColumns),
    })
  );

// ---------------------------------------------------------------------------------------------
// Properties

Deno.test("random forests (depth 1–16, columns, groups, engineered columns): equal to the reference algorithm and locally accurate", () => {
  fc.assert(
    fc.property(forestCase(16, 8), ({ specs, players, rows, nColumns }) => {
      const forest = { trees: specs.map((spec) => randomTree(spec)), nFeaturesIn: nColumns };
      const reference = new ReferenceTreeShapExplainer(forest, players);
      for (const kernel of KERNELS) {
        const fast = new TreeShapExplainer(forest, players, { kernel });
        assert.equal(fast.kernel, kernel);
        assert.ok(Math.abs(fast.baseValue - reference.baseValue) <= 1e-15);
        for (const x of rows) {
          const phi = fast.shapValues(x);
          assertClose(phi, reference.shapValues(x), AGREEMENT, `${kernel}, row ${x}`);
          const accuracy = fast.baseValue + sum(phi) - predict(forest.trees, x);
          assert.ok(Math.abs(accuracy) <= AGREEMENT, `${kernel}: local accuracy`);
        }
      }
    }),
    { numRuns: 400 },
  );
});

Deno.test("small random forests: equal to Shapley values by enumerating every coalition", () => {
  fc.assert(
    fc.property(forestCase(6, 7, 7), ({ specs, players, rows, nColumns }) => {
      const forest = { trees: specs.map((spec) => randomTree(spec, 60)), nFeaturesIn: nColumns };
      const explainers = KERNELS.map((kernel) => new TreeShapExplainer(forest, players, { kernel }));
      for (const x of rows) {
        const expected = bruteForce(forest.trees, x, players ?? columnsAsPlayers(nColumns));
        for (const e of explainers) assertClose(e.shapValues(x), expected, 1e-12, `${e.kernel}, row ${x}`);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("a block of several tied players: a column of all of them, pairs, and their own columns", () => {
  // Players 0–3 are tied by columns {0,1,2,3}, {0,1}, {1,2,3} and each has columns of its own, as
  // credit_amount, duration, installment_commitment and age are in German Credit; 4 and 5 are free.
  const ofColumn = [[0], [1], [2], [3], [0, 1], [1, 2, 3], [0, 1, 2, 3], [4], [5], [3]];
  const players = { count: 6, ofColumn };
  const rng = new Random(5);
  for (let trial = 0; trial < 40; trial++) {
    const trees = Array.from({ length: 3 }, () =>
      randomTree({
        seed: rng.int(2 ** 31),
        depth: 2 + (trial % 6),
        nColumns: ofColumn.length,
        bushiness: 0.7,
        emptyChild: trial % 5 === 0 ? 0.2 : 0,
      }, 80));
    const forest = { trees, nFeaturesIn: ofColumn.length };
    const explainers = KERNELS.map((kernel) => new TreeShapExplainer(forest, players, { kernel }));
    for (let k = 0; k < 3; k++) {
      const x = Array.from({ length: ofColumn.length }, () => rng.int(5));
      const expected = bruteForce(trees, x, players);
      for (const e of explainers) {
        assertClose(e.shapValues(x), expected, 1e-12, `${e.kernel}, trial ${trial}`);
      }
    }
  }
});

Deno.test("blocks of 1–7 tied players, on both sides of the kernel's unrolled block code (≤ 4 tied), equal brute force", () => {
  // The WebAssembly kernel unrolls a block state's sums and shares for every set of tied players
  // when at most 4 players are tied (German Credit ties 4) and loops otherwise: a wrong unrolled
  // subset, size or bit would show here on the first side, a broken loop on the second.
  for (let nTied = 1; nTied <= 7; nTied++) {
    const tied = Array.from({ length: nTied }, (_, p) => p);
    const ofColumn = [
      ...tied.map((p) => [p]),
      ...(nTied > 1 ? [tied, tied.slice(0, 2), tied.slice(1)] : []),
      [nTied],
      [nTied + 1],
    ];
    const players = { count: nTied + 2, ofColumn };
    const rng = new Random(100 + nTied);
    for (let trial = 0; trial < 12; trial++) {
      const trees = Array.from({ length: 2 }, () =>
        randomTree({
          seed: rng.int(2 ** 31),
          depth: 3 + (trial % 5),
          nColumns: ofColumn.length,
          bushiness: 0.7,
          emptyChild: trial % 4 === 0 ? 0.2 : 0,
        }, 80));
      const forest = { trees, nFeaturesIn: ofColumn.length };
      const explainers = KERNELS.map((kernel) => new TreeShapExplainer(forest, players, { kernel }));
      for (let k = 0; k < 2; k++) {
        const x = Array.from({ length: ofColumn.length }, () => rng.int(5));
        const expected = bruteForce(trees, x, players);
        for (const e of explainers) {
          assertClose(e.shapValues(x), expected, 1e-12, `${e.kernel}, ${nTied} tied, trial ${trial}`);
        }
      }
    }
  }
});

Deno.test(
  "the production model: every attribute of all 1,000 applicants equals the reference algorithm",
  slow,
  async () => {
    const holder = await ModelHolder.open({ modelsDir: new URL("../../models", import.meta.url).pathname });
    const model = holder.current!.model;
    const table = await germanCredit();
    const X = model.encoder.transformFrame(table.frame);
    assert.equal(X.rows, 1000);
    const reference = new ReferenceTreeShapExplainer(model.forest, attributePlayers(model.encoder));
    // Production explains through the model's AttributeExplainer, on the WebAssembly kernel.
    const explainer = model.explainer;
    assert.equal(new TreeShapExplainer(model.forest, attributePlayers(model.encoder)).kernel, "wasm");
    const twin = new TreeShapExplainer(model.forest, attributePlayers(model.encoder), {
      kernel: "typescript",
    });
    const other = new Float64Array(ATTRIBUTES.length);
    assert.ok(Math.abs(explainer.baseValue - reference.baseValue) <= 1e-15);
    const fast = new Float64Array(ATTRIBUTES.length), slow = new Float64Array(ATTRIBUTES.length);
    let worst = 0;
    for (let r = 0; r < X.rows; r++) {
      const row = X.data.subarray(r * X.cols, (r + 1) * X.cols);
      explainer.contributionsOfRow(row, fast);
      reference.shapValues(row, slow);
      for (let a = 0; a < fast.length; a++) worst = Math.max(worst, Math.abs(fast[a] - slow[a]));
      assertClose(fast, slow, AGREEMENT, `applicant ${r}`);
      if (r % 10 === 0) {
        assertClose(twin.shapValues(row, other), slow, AGREEMENT, `applicant ${r}, TypeScript`);
      }
      const p = model.forest.predictProbaOne(row);
      assert.ok(Math.abs(explainer.baseValue + sum(fast) - p) <= AGREEMENT, `applicant ${r}: local accuracy`);
    }
    assert.ok(worst <= AGREEMENT, `largest difference ${worst}`);
  },
);

Deno.test("edge cases: a lone leaf, splits without cover, a row on the threshold, one player split many times", () => {
  const leaf: FlatTree = {
    nodeCount: 1,
    childrenLeft: Int32Array.of(TREE_LEAF),
    childrenRight: Int32Array.of(TREE_LEAF),
    feature: Int32Array.of(TREE_UNDEFINED),
    threshold: Float64Array.of(TREE_UNDEFINED),
    value: Float64Array.of(0.3),
    impurity: new Float64Array(1),
    nNodeSamples: new Int32Array(1),
    weightedNNodeSamples: Float64Array.of(10),
  };
  for (const kernel of KERNELS) {
    const alone = new TreeShapExplainer({ trees: [leaf], nFeaturesIn: 2 }, undefined, { kernel });
    assert.deepEqual(Array.from(alone.shapValues([1, 2])), [0, 0]);
    assert.equal(alone.baseValue, 0.3);
  }

  // Every split on column 0, nested: the player's factor is replaced at each level.
  const deep = randomTree({ seed: 9, depth: 14, nColumns: 1, bushiness: 0.8, emptyChild: 0.1 });
  const both = [deep, randomTree({ seed: 10, depth: 3, nColumns: 2, bushiness: 1, emptyChild: 1 })];
  const forest = { trees: both, nFeaturesIn: 2 };
  for (const kernel of KERNELS) {
    const explainer = new TreeShapExplainer(forest, undefined, { kernel });
    for (const x of [[0, 0], [1.5, 2], [2, 2.5], [4, 4]]) {
      assertClose(
        explainer.shapValues(x),
        bruteForce(both, x, columnsAsPlayers(2)),
        1e-12,
        `${kernel}, row ${x}`,
      );
    }
  }
});

Deno.test("the explainer allocates nothing per row given `out`, and explains the same row the same way twice", () => {
  const trees = [1, 2, 3].map((seed) =>
    randomTree({ seed, depth: 8, nColumns: 5, bushiness: 0.6, emptyChild: 0 })
  );
  const explainer = new TreeShapExplainer({ trees, nFeaturesIn: 5 }, {
    count: 3,
    ofColumn: [[0], [1], [0, 1], [2], [1, 2]],
  });
  const out = new Float64Array(3);
  assert.equal(explainer.shapValues([1, 2, 3, 4, 0], out), out);
  const first = Array.from(out);
  explainer.shapValues([0, 0, 0, 0, 0], out);
  assert.deepEqual(Array.from(explainer.shapValues([1, 2, 3, 4, 0], out)), first);
  assert.ok(
    Math.abs(
      expectedValue(trees[0]) - new TreeShapExplainer({ trees: [trees[0]], nFeaturesIn: 5 }).baseValue,
    ) < 1e-15,
  );
});

Deno.test("Gauss–Legendre on [0, 1]: K points integrate every polynomial of degree ≤ 2K − 1 exactly", () => {
  for (let k = 1; k <= 24; k++) {
    const { points, weights } = gaussLegendre(k);
    for (let i = 0; i < k; i++) {
      assert.ok(points[i] > 0 && points[i] < 1 && weights[i] > 0, `K = ${k}, point ${i}`);
      if (i > 0) assert.ok(points[i] > points[i - 1]);
    }
    for (let degree = 0; degree <= 2 * k - 1; degree++) {
      let integral = 0;
      for (let i = 0; i < k; i++) integral += weights[i] * points[i] ** degree;
      assert.ok(Math.abs(integral - 1 / (degree + 1)) <= 1e-14, `K = ${k}, t^${degree}: ${integral}`);
    }
    // Degree 2K is one too many: the rule misses ∫ t^2K by exactly (K!)^4 / ((2K + 1) ((2K)!)^2).
    if (k <= 10) {
      let beyond = 0;
      for (let i = 0; i < k; i++) beyond += weights[i] * points[i] ** (2 * k);
      const f = (n: number): number => (n <= 1 ? 1 : n * f(n - 1));
      const error = f(k) ** 4 / ((2 * k + 1) * f(2 * k) ** 2);
      assert.ok(Math.abs(1 / (2 * k + 1) - beyond - error) <= 1e-15, `K = ${k}, t^${2 * k}`);
    }
  }
  assert.throws(() => gaussLegendre(0), RangeError);
});
