/**
 * TreeSHAP (pipeline/forest/explain.ts) against brute-force Shapley values, its axioms on real
 * forests, and the attribute-level reasons (pipeline/model/reasons.ts).
 */
import assert from "node:assert/strict";
import {
  AttributeExplainer,
  DEFAULT_REASON_COUNT,
  formatContribution,
  reason,
  topContributions,
  valueLabel,
} from "../../pipeline/model/reasons.ts";
import { FeatureEncoder } from "../../pipeline/features/encoder.ts";
import {
  BalancedRandomForest,
  expectedValue,
  type FlatTree,
  type Matrix,
  TREE_LEAF,
  TREE_UNDEFINED,
  TreeShapExplainer,
} from "../../pipeline/forest/mod.ts";
import { Random } from "../../pipeline/random.ts";
import {
  type Applicant,
  type Attribute,
  ATTRIBUTE_NAMES,
  ATTRIBUTES,
  codeLabel,
} from "../../pipeline/data/schema.ts";
import { germanApplicants, germanCredit } from "../fixtures.ts";
import { flatTree } from "../forest/flat_tree.ts";

/** A random tree over `nFeatures` small-integer features, children's covers summing to the parent's. */
function randomTree(rng: Random, nFeatures: number, maxDepth: number, features = nFeatures): FlatTree {
  const left: number[] = [], right: number[] = [], feature: number[] = [], threshold: number[] = [];
  const value: number[] = [], cover: number[] = [];
  const grow = (depth: number, weight: number): number => {
    const id = left.length;
    left.push(TREE_LEAF), right.push(TREE_LEAF), feature.push(TREE_UNDEFINED), threshold.push(TREE_UNDEFINED);
    value.push(rng.next()), cover.push(weight);
    if (depth < maxDepth && (depth === 0 || rng.next() < 0.8)) {
      feature[id] = rng.int(features);
      threshold[id] = rng.int(3) + 0.5;
      const share = rng.uniform(0.1, 0.9);
      left[id] = grow(depth + 1, weight * share);
      right[id] = grow(depth + 1, weight * (1 - share));
    }
    return id;
  };
  grow(0, 100);
  return flatTree({ left, right, feature, threshold, value, cover });
}

/**
 * Shapley values by enumerating every coalition S of players, with v(S) the mean over trees of the
 * path-dependent E[f(x) | x_S]: a split follows x when all its column's players are in S, else
 * averages the children by cover.
 */
function bruteForce(
  trees: readonly FlatTree[],
  x: ArrayLike<number>,
  ofColumn: readonly number[][],
  n: number,
) {
  const v = (S: number) => {
    let total = 0;
    for (const t of trees) {
      const expect = (node: number): number => {
        const l = t.childrenLeft[node], r = t.childrenRight[node];
        if (l === TREE_LEAF) return t.value[node];
        const c = t.feature[node];
        if (ofColumn[c].every((p) => S & (1 << p))) return expect(x[c] <= t.threshold[node] ? l : r);
        const w = t.weightedNNodeSamples;
        return (w[l] * expect(l) + w[r] * expect(r)) / w[node];
      };
      total += expect(0);
    }
    return total / trees.length;
  };
  const factorial = (k: number): number => (k <= 1 ? 1 : k * factorial(k - 1));
  const values = new Float64Array(1 << n);
  for (let S = 0; S < 1 << n; S++) values[S] = v(S);
  const phi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let S = 0; S < 1 << n; S++) {
      if (S & (1 << i)) continue;
      let size = 0;
      for (let b = 0; b < n; b++) if (S & (1 << b)) size++;
      const weight = (factorial(size) * factorial(n - size - 1)) / factorial(n);
      phi[i] += weight * (values[S | (1 << i)] - values[S]);
    }
  }
  return { phi, base: values[0] };
}

const columnsAsPlayers = (n: number) => Array.from({ length: n }, (_, c) => [c]);

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
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

function rowOf(m: Matrix, r: number): Float64Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

Deno.test("TreeSHAP equals brute-force Shapley values on random trees (≤ 6 features, depth ≤ 4)", () => {
  const rng = new Random(11);
  for (let trial = 0; trial < 60; trial++) {
    const nFeatures = 2 + (trial % 5);
    const trees = Array.from({ length: 1 + (trial % 3) }, () => randomTree(rng, nFeatures, 1 + (trial % 4)));
    const explainer = new TreeShapExplainer({ trees, nFeaturesIn: nFeatures });
    for (let k = 0; k < 3; k++) {
      const x = Array.from({ length: nFeatures }, () => rng.int(4));
      const expected = bruteForce(trees, x, columnsAsPlayers(nFeatures), nFeatures);
      assertClose(explainer.shapValues(x), expected.phi, 1e-12, `trial ${trial} φ`);
      assert.ok(Math.abs(explainer.baseValue - expected.base) < 1e-12);
    }
  }
});

Deno.test("TreeSHAP equals brute force on deeper trees that split on a feature many times", () => {
  const rng = new Random(12);
  for (let trial = 0; trial < 20; trial++) {
    const trees = [randomTree(rng, 3, 8)];
    const explainer = new TreeShapExplainer({ trees, nFeaturesIn: 3 });
    const x = Array.from({ length: 3 }, () => rng.int(4));
    assertClose(explainer.shapValues(x), bruteForce(trees, x, columnsAsPlayers(3), 3).phi, 1e-12, "φ");
  }
});

Deno.test("grouped players: one-hot columns merge, multi-player columns are known once all their players are", () => {
  const rng = new Random(13);
  // Columns 0 and 5 belong to player 0 (like one-hot columns); 2 and 4 are engineered from players
  // {0, 2} and {2, 3, 4}, tying players 0, 2, 3 and 4 into one block.
  const ofColumn = [[0], [1], [0, 2], [3], [2, 3, 4], [0]];
  for (let trial = 0; trial < 60; trial++) {
    const trees = Array.from({ length: 1 + (trial % 3) }, () => randomTree(rng, 6, 1 + (trial % 4)));
    const explainer = new TreeShapExplainer({ trees, nFeaturesIn: 6 }, { count: 5, ofColumn });
    const x = Array.from({ length: 6 }, () => rng.int(4));
    const expected = bruteForce(trees, x, ofColumn, 5);
    assertClose(explainer.shapValues(x), expected.phi, 1e-12, `trial ${trial} φ`);
    assert.ok(Math.abs(explainer.baseValue - expected.base) < 1e-12);
  }
});

Deno.test("TreeSHAP equals brute force on real fitted trees (German Credit, 6 columns)", async () => {
  const table = await germanCredit();
  const encoder = FeatureEncoder.fit(table.frame);
  const full = encoder.transformFrame(table.frame);
  const picked = [
    "duration",
    "credit_amount",
    "age",
    "checking_status=A11",
    "checking_status=A14",
    "savings_status",
  ]
    .map((name) => encoder.featureNames.indexOf(name));
  const X: Matrix = {
    rows: full.rows,
    cols: picked.length,
    data: Float64Array.from(
      { length: full.rows * picked.length },
      (_, i) => full.data[Math.floor(i / picked.length) * full.cols + picked[i % picked.length]],
    ),
  };
  const forest = new BalancedRandomForest({ nEstimators: 4, maxDepth: 4, maxFeatures: 1.0, seed: 3 })
    .fit(X, table.bad!);
  const explainer = new TreeShapExplainer(forest);
  for (const r of [0, 1, 2, 100, 500, 999]) {
    const x = rowOf(X, r);
    const expected = bruteForce(forest.trees, x, columnsAsPlayers(6), 6);
    assertClose(explainer.shapValues(x), expected.phi, 1e-12, `row ${r}`);
    assert.ok(Math.abs(explainer.baseValue + sum(expected.phi) - forest.predictProbaOne(x)) < 1e-12);
  }
});

Deno.test("local accuracy on random rows of a real forest: base value + Σ φ = P(bad), columns and attributes", async () => {
  const table = await germanCredit();
  const encoder = FeatureEncoder.fit(table.frame);
  const X = encoder.transformFrame(table.frame);
  const forest = new BalancedRandomForest({ nEstimators: 60, maxDepth: null, seed: 5 }).fit(X, table.bad!);
  const columns = new TreeShapExplainer(forest);
  const attributes = new AttributeExplainer(encoder, forest);
  const base = sum(forest.trees.map(expectedValue)) / forest.trees.length;
  assert.ok(Math.abs(columns.baseValue - base) < 1e-15);
  assert.ok(Math.abs(attributes.baseValue - base) < 1e-15);
  const rng = new Random(7);
  for (let k = 0; k < 40; k++) {
    const r = rng.int(X.rows);
    const p = forest.predictProbaOne(rowOf(X, r));
    assert.ok(Math.abs(columns.baseValue + sum(columns.shapValues(rowOf(X, r))) - p) < 1e-9, `row ${r}`);
    const byAttribute = attributes.contributionsOfRow(rowOf(X, r));
    assert.equal(byAttribute.length, ATTRIBUTES.length);
    assert.ok(Math.abs(attributes.baseValue + sum(byAttribute) - p) < 1e-9, `row ${r} (attributes)`);
  }
});

Deno.test("symmetry: two features with identical roles get equal values", () => {
  // Root on feature 0, both children on feature 1, equal covers; the leaf value counts the
  // features x goes right on, so swapping 0 and 1 leaves the function unchanged.
  const tree = flatTree({
    left: [1, 2, TREE_LEAF, TREE_LEAF, 5, TREE_LEAF, TREE_LEAF],
    right: [4, 3, TREE_LEAF, TREE_LEAF, 6, TREE_LEAF, TREE_LEAF],
    feature: [0, 1, TREE_UNDEFINED, TREE_UNDEFINED, 1, TREE_UNDEFINED, TREE_UNDEFINED],
    threshold: [0.5, 0.5, TREE_UNDEFINED, TREE_UNDEFINED, 0.5, TREE_UNDEFINED, TREE_UNDEFINED],
    value: [0.5, 0.35, 0.2, 0.5, 0.65, 0.5, 0.8],
    cover: [100, 50, 25, 25, 50, 25, 25],
  });
  const explainer = new TreeShapExplainer({ trees: [tree], nFeaturesIn: 3 });
  for (const x of [[1, 1, 0], [0, 0, 7], [1, 0, 0], [0, 1, 3]]) {
    const phi = explainer.shapValues(x);
    if (x[0] === x[1]) assert.ok(Math.abs(phi[0] - phi[1]) < 1e-15, `x = ${x}: ${phi[0]} vs ${phi[1]}`);
    else assert.ok(Math.abs(phi[0] + phi[1]) < 1e-15, `x = ${x}: opposite roles, opposite values`);
    assert.equal(phi[2], 0);
  }
  // The same in a forest: a duplicated column the trees use interchangeably. Swapping the two
  // columns in every tree gives the same forest, so their values must be equal.
  const rng = new Random(21);
  const trees = Array.from({ length: 6 }, () => randomTree(rng, 3, 4));
  const swapped = trees.map((t) => ({
    ...t,
    feature: t.feature.map((f) => (f === 0 ? 1 : f === 1 ? 0 : f)),
  }));
  const both = new TreeShapExplainer({ trees: [...trees, ...swapped], nFeaturesIn: 3 });
  for (const v of [0, 1, 2, 3]) {
    const phi = both.shapValues([v, v, rng.int(4)]);
    assert.ok(Math.abs(phi[0] - phi[1]) < 1e-14, `${phi[0]} vs ${phi[1]}`);
  }
});

Deno.test("dummy: a feature no tree splits on gets exactly 0", async () => {
  const rng = new Random(31);
  const trees = Array.from({ length: 5 }, () => randomTree(rng, 6, 4, 5)); // feature 5 unused
  const explainer = new TreeShapExplainer({ trees, nFeaturesIn: 6 });
  for (let k = 0; k < 20; k++) {
    assert.equal(explainer.shapValues(Array.from({ length: 6 }, () => rng.int(4)))[5], 0);
  }
  // On a real forest: a constant column cannot be split on.
  const table = await germanCredit();
  const encoder = FeatureEncoder.fit(table.frame);
  const X = encoder.transformFrame(table.frame);
  const widened: Matrix = {
    rows: X.rows,
    cols: X.cols + 1,
    data: Float64Array.from({ length: X.rows * (X.cols + 1) }, (_, i) => {
      const r = Math.floor(i / (X.cols + 1)), c = i % (X.cols + 1);
      return c === X.cols ? 1 : X.data[r * X.cols + c];
    }),
  };
  const forest = new BalancedRandomForest({ nEstimators: 20, seed: 2 }).fit(widened, table.bad!);
  const real = new TreeShapExplainer(forest);
  for (const r of [0, 10, 500]) assert.equal(real.shapValues(rowOf(widened, r))[X.cols], 0);
});

Deno.test("attribute aggregation: on stumps, an attribute gets its columns' values and an equal share of each engineered one", async () => {
  // A forest of depth-1 trees is additive, and a stump on a column of k source attributes is a
  // unanimity game on them: each gets 1/k of the column's value.
  const table = await germanCredit();
  const encoder = FeatureEncoder.fit(table.frame);
  const X = encoder.transformFrame(table.frame);
  const forest = new BalancedRandomForest({ nEstimators: 80, maxDepth: 1, seed: 4 }).fit(X, table.bad!);
  const columns = new TreeShapExplainer(forest);
  const attributes = new AttributeExplainer(encoder, forest);
  const index = new Map<string, number>(ATTRIBUTE_NAMES.map((name, i) => [name, i]));
  const usedEngineered = forest.trees.some((t) => encoder.columns[t.feature[0]].sources.length > 1);
  assert.ok(usedEngineered, "the stumps should use an engineered feature");
  for (const r of [0, 1, 42, 999]) {
    const phi = columns.shapValues(rowOf(X, r));
    const expected = new Float64Array(ATTRIBUTES.length);
    encoder.columns.forEach((column, c) => {
      for (const source of column.sources) expected[index.get(source)!] += phi[c] / column.sources.length;
    });
    assertClose(attributes.contributionsOfRow(rowOf(X, r)), expected, 1e-12, `row ${r}`);
  }
});

Deno.test("attribute contributions equal brute-force Shapley values over attributes on a real forest", async () => {
  const table = await germanCredit();
  const encoder = FeatureEncoder.fit(table.frame);
  const X = encoder.transformFrame(table.frame);
  const forest = new BalancedRandomForest({ nEstimators: 3, maxDepth: 3, seed: 8 }).fit(X, table.bad!);
  const attributes = new AttributeExplainer(encoder, forest);
  const index = new Map<string, number>(ATTRIBUTE_NAMES.map((name, i) => [name, i]));
  // Brute force over the attributes the trees touch; the others are null players.
  const used = [
    ...new Set(
      forest.trees.flatMap((t) =>
        Array.from(t.feature).filter((f) => f >= 0).flatMap((f) => encoder.columns[f].sources)
      ),
    ),
  ];
  assert.ok(used.length <= 14, `${used.length} attributes are too many to enumerate`);
  const local = new Map(used.map((name, i) => [name, i]));
  const ofColumn = encoder.columns.map((c) => c.sources.map((s) => local.get(s) ?? used.length));
  for (const r of [3, 77, 640]) {
    const expected = bruteForce(forest.trees, rowOf(X, r), ofColumn, used.length);
    const got = attributes.contributionsOfRow(rowOf(X, r));
    used.forEach((name, i) => assert.ok(Math.abs(got[index.get(name)!] - expected.phi[i]) < 1e-12, name));
    ATTRIBUTE_NAMES.filter((name) => !local.has(name)).forEach((name) =>
      assert.equal(got[index.get(name)!], 0)
    );
  }
});

const PROTECTED: ReadonlySet<string> = new Set(["personal_status", "age", "foreign_worker"]);

Deno.test("reasons: the largest contributions by magnitude, signed, labelled, with sentences in both languages", async () => {
  const table = await germanCredit();
  const applicants = await germanApplicants();
  const encoder = FeatureEncoder.fit(table.frame);
  const forest = new BalancedRandomForest({ nEstimators: 40, seed: 9 }).fit(
    encoder.transformFrame(table.frame),
    table.bad!,
  );
  const explainer = new AttributeExplainer(encoder, forest);
  for (const applicant of applicants.slice(0, 25)) {
    const e = explainer.explain(applicant);
    const p = forest.predictProbaOne(encoder.transformOne(applicant));
    assert.ok(Math.abs(e.baseValue + sum(e.contributions) - p) < 1e-9);
    assert.equal(e.reasons.length, DEFAULT_REASON_COUNT);
    const magnitudes = e.reasons.map((r) => Math.abs(r.contribution));
    assert.deepEqual(magnitudes, [...magnitudes].sort((a, b) => b - a));
    // Protected attributes are never cited: the reasons are the largest of the other attributes.
    const citable = Array.from(e.contributions).filter((_, i) => !PROTECTED.has(ATTRIBUTE_NAMES[i]));
    const largest = Math.max(...citable.map(Math.abs));
    assert.equal(magnitudes[0], largest);
    const fifth = magnitudes[DEFAULT_REASON_COUNT - 1];
    assert.equal(citable.filter((c) => Math.abs(c) > fifth).length, DEFAULT_REASON_COUNT - 1);
    assert.ok(e.reasons.every((r) => !PROTECTED.has(r.attribute)));
    for (const r of e.reasons) {
      const a = ATTRIBUTES.find((x) => x.name === r.attribute) as Attribute;
      assert.equal(r.contribution, e.contributions[ATTRIBUTE_NAMES.indexOf(r.attribute)]);
      assert.equal(r.direction, r.contribution > 0 ? "raises" : "lowers");
      assert.equal(r.value, applicant[r.attribute]);
      assert.deepEqual(r.label, a.label);
      if (a.kind !== "numeric") {
        assert.equal(r.value_label.en, codeLabel(a.name, String(r.value), "en"));
        assert.equal(r.value_label.es, codeLabel(a.name, String(r.value), "es"));
      }
      assert.ok(r.sentence.en.startsWith(`${a.label.en} (${r.value_label.en}) `), r.sentence.en);
      assert.match(r.sentence.en, r.contribution > 0 ? /raises? the risk$/ : /lowers? the risk$/);
      assert.match(r.sentence.es, r.contribution > 0 ? /aumentan? el riesgo$/ : /reducen? el riesgo$/);
    }
  }
  assert.equal(explainer.explain(applicants[0], 2).reasons.length, 2);
  const all = explainer.explain(applicants[0], ATTRIBUTES.length);
  assert.equal(
    all.reasons.length,
    Array.from(all.contributions).filter((c, i) => c !== 0 && !PROTECTED.has(ATTRIBUTE_NAMES[i])).length,
  );
});

Deno.test("reason wording: code labels, numbers with units, plural attributes, compact batch form", () => {
  const applicant = {
    checking_status: "A14",
    duration: 1,
    savings_status: "A61",
    credit_amount: 1169,
  } as Applicant;
  const checking = reason(applicant, { attribute: "checking_status", contribution: -0.081 });
  assert.deepEqual(checking.sentence, {
    en: "Checking account (No checking account) lowers the risk",
    es: "Cuenta corriente (Sin cuenta corriente) reduce el riesgo",
  });
  assert.equal(checking.direction, "lowers");
  assert.deepEqual(reason(applicant, { attribute: "savings_status", contribution: 0.02 }).sentence, {
    en: "Savings (< 100 DM) raise the risk",
    es: "Ahorros (< 100 DM) aumentan el riesgo",
  });
  const attribute = (name: string) => ATTRIBUTES.find((a) => a.name === name) as Attribute;
  assert.equal(valueLabel(attribute("duration"), 1, "en"), "1 month");
  assert.equal(valueLabel(attribute("duration"), 36, "es"), "36 meses");
  assert.equal(valueLabel(attribute("credit_amount"), 1169, "en"), "1,169 DM");
  assert.equal(valueLabel(attribute("installment_commitment"), 4, "en"), "band 4");
  assert.equal(valueLabel(attribute("residence_since"), 2, "es"), "tramo 2");
  assert.equal(valueLabel(attribute("num_dependents"), 1, "en"), "1 person");
  assert.equal(formatContribution({ attribute: "duration", contribution: 0.0312 }), "duration:+0.031");
  assert.equal(formatContribution({ attribute: "age", contribution: -0.0004 }), "age:-0.000");
});

Deno.test("topContributions: skips zeros, ties keep schema order, at most `count`", () => {
  const contributions = new Float64Array(ATTRIBUTES.length);
  contributions[3] = 0.1;
  contributions[1] = -0.1;
  contributions[7] = 0.3;
  assert.deepEqual(topContributions(contributions, 5).map((c) => c.attribute), [
    ATTRIBUTE_NAMES[7],
    ATTRIBUTE_NAMES[1],
    ATTRIBUTE_NAMES[3],
  ]);
  assert.equal(topContributions(contributions, 1).length, 1);
  assert.throws(() => topContributions([0.1], 1), RangeError);
  // The largest contribution of all is age's: it is never a reason (nor sex, nor nationality).
  const age = ATTRIBUTE_NAMES.indexOf("age");
  contributions[age] = 0.9;
  contributions[ATTRIBUTE_NAMES.indexOf("personal_status")] = -0.8;
  contributions[ATTRIBUTE_NAMES.indexOf("foreign_worker")] = 0.7;
  assert.deepEqual(topContributions(contributions, 5).map((c) => c.attribute), [
    ATTRIBUTE_NAMES[7],
    ATTRIBUTE_NAMES[1],
    ATTRIBUTE_NAMES[3],
  ]);
  assert.equal(topContributions(contributions, 1, new Set())[0].attribute, "age");
});

Deno.test("the explainer refuses rows it cannot explain", () => {
  const rng = new Random(1);
  const explainer = new TreeShapExplainer({ trees: [randomTree(rng, 3, 2)], nFeaturesIn: 3 });
  assert.throws(() => explainer.shapValues([1, 2]), RangeError);
  assert.throws(() => explainer.shapValues([1, NaN, 2]), RangeError);
  assert.throws(() => new TreeShapExplainer({ trees: [], nFeaturesIn: 3 }), Error);
  assert.throws(
    () =>
      new TreeShapExplainer({ trees: [randomTree(rng, 3, 2)], nFeaturesIn: 3 }, {
        count: 2,
        ofColumn: [[0], [1], [2]],
      }),
    RangeError,
  );
});
