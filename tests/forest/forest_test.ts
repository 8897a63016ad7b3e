import assert from "node:assert/strict";
import {
  BalancedRandomForest,
  DecisionTreeClassifier,
  drawTreeSample,
  type FlatTree,
  indexClasses,
  type Matrix,
  permutationImportance,
  toMatrix,
  TREE_LEAF,
  treeDepth,
  underSample,
} from "../../pipeline/forest/mod.ts";
import { binFeatures } from "../../pipeline/forest/binning.ts";
import { packForest, predictPackedInto } from "../../pipeline/forest/packed.ts";
import { WasmPredictor } from "../../pipeline/forest/wasm.ts";
import { rocAuc } from "../../pipeline/model/metrics.ts";
import { Random } from "../../pipeline/random.ts";

/** A noisy two-class problem: feature 0 drives the label, feature 1 weakly, the rest are noise. */
function synthetic(
  rows: number,
  cols: number,
  seed: number,
  positiveRate = 0.3,
): { X: Matrix; y: Uint8Array } {
  const rng = new Random(seed);
  const data = new Float64Array(rows * cols);
  const scores = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) data[r * cols + c] = rng.normal();
    scores[r] = 1.5 * data[r * cols] + 0.5 * data[r * cols + 1] + 0.7 * rng.normal();
  }
  const cut = scores.slice().sort()[Math.floor(rows * (1 - positiveRate))];
  const y = Uint8Array.from(scores, (s) => (s >= cut ? 1 : 0));
  return { X: { data, rows, cols }, y };
}

function leaves(tree: FlatTree): number[] {
  const out: number[] = [];
  for (let i = 0; i < tree.nodeCount; i++) if (tree.childrenLeft[i] === TREE_LEAF) out.push(i);
  return out;
}

function assertConsistentTree(tree: FlatTree): void {
  for (let i = 0; i < tree.nodeCount; i++) {
    const l = tree.childrenLeft[i];
    const r = tree.childrenRight[i];
    if (l === TREE_LEAF) {
      assert.equal(r, TREE_LEAF);
      continue;
    }
    assert.equal(l, i + 1, "left child follows its parent (depth-first numbering)");
    assert.equal(tree.nNodeSamples[i], tree.nNodeSamples[l] + tree.nNodeSamples[r]);
    assert.ok(
      Math.abs(tree.weightedNNodeSamples[i] - tree.weightedNNodeSamples[l] - tree.weightedNNodeSamples[r]) <
        1e-9,
    );
  }
}

Deno.test("a single tree separates linearly separable data perfectly (both splitters)", () => {
  const rng = new Random(1);
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 300; i++) {
    const a = rng.uniform(-1, 1);
    const b = rng.uniform(-1, 1);
    rows.push([a, b, rng.normal()]);
    y.push(a + 2 * b > 0.1 ? 1 : 0);
  }
  for (const splitter of ["exact", "histogram"] as const) {
    const tree = new DecisionTreeClassifier({ splitter }).fit(rows, y);
    assert.deepEqual(Array.from(tree.predictProba(rows)), y, splitter);
    assertConsistentTree(tree.tree!);
  }
});

Deno.test("a single tree learns XOR, whose first split has zero impurity decrease", () => {
  const rng = new Random(2);
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 200; i++) {
    const a = i % 2;
    const b = (i >> 1) % 2;
    rows.push([a + 0.1 * rng.next(), b + 0.1 * rng.next()]);
    y.push(a ^ b);
  }
  for (const splitter of ["exact", "histogram"] as const) {
    const tree = new DecisionTreeClassifier({ splitter, seed: 3 }).fit(rows, y);
    assert.deepEqual(Array.from(tree.predictProba(rows)), y, splitter);
    assert.equal(tree.predictProbaOne([1.05, 0.02]), 1);
    assert.equal(tree.predictProbaOne([0.02, 0.03]), 0);
  }
});

Deno.test("under-sampling gives exact class counts and draws the majority uniformly", () => {
  const y = new Uint8Array(100);
  for (let i = 0; i < 30; i++) y[i * 3] = 1; // 30 minority (label 1), 70 majority
  const classes = indexClasses(y);
  assert.equal(classes.minority.length, 30);
  assert.equal(classes.majority.length, 70);
  const rng = new Random(4);
  const seen = new Float64Array(100);
  const draws = 400;
  for (let k = 0; k < draws; k++) {
    for (const [ratio, replacement] of [[1, false], [0.5, false], [1, true]] as const) {
      const rows = underSample(classes, rng, ratio, replacement);
      const positives = Array.from(rows).filter((r) => y[r] === 1).length;
      assert.equal(positives, 30, "every minority row is kept once");
      assert.equal(rows.length - positives, Math.floor(30 / ratio), "majority drawn to minority / ratio");
      if (!replacement) {
        assert.equal(new Set(rows).size, rows.length, "no duplicates without replacement");
        if (ratio === 1) { for (const r of rows) if (y[r] === 0) seen[r]++; }
      }
    }
  }
  // Each majority row should be drawn with probability 30/70 per draw.
  for (const r of classes.majority) {
    assert.ok(Math.abs(seen[r] / draws - 30 / 70) < 0.1, `row ${r} drawn ${seen[r]} times of ${draws}`);
  }
  assert.throws(
    () => underSample(classes, rng, 0.2, false),
    /samplingStrategy 0.2 asks for 150 majority rows/,
  );
});

Deno.test("the per-tree sample has the balanced (or plain bootstrap) total size", () => {
  const y = new Uint8Array(100);
  for (let i = 0; i < 25; i++) y[i] = 1;
  const classes = indexClasses(y);
  const rng = new Random(5);
  const balanced = drawTreeSample(100, classes, rng, {
    balanced: true,
    samplingStrategy: 1,
    replacement: false,
    bootstrap: true,
  });
  assert.equal(balanced.reduce((a, b) => a + b, 0), 50);
  const noBootstrap = drawTreeSample(100, classes, rng, {
    balanced: true,
    samplingStrategy: 1,
    replacement: false,
    bootstrap: false,
  });
  assert.equal(Array.from(noBootstrap).filter((c, i) => c === 1 && y[i] === 1).length, 25);
  assert.equal(Array.from(noBootstrap).filter((c, i) => c === 1 && y[i] === 0).length, 25);
  assert.ok(noBootstrap.every((c) => c === 0 || c === 1));
  const plain = drawTreeSample(100, classes, rng, {
    balanced: false,
    samplingStrategy: 1,
    replacement: false,
    bootstrap: true,
  });
  assert.equal(plain.reduce((a, b) => a + b, 0), 100);
});

Deno.test("depth, leaf-size and split-size limits hold in the flat arrays", () => {
  const { X, y } = synthetic(400, 6, 6);
  const shallow = new DecisionTreeClassifier({ maxDepth: 3 }).fit(X, y).tree!;
  assert.ok(treeDepth(shallow) <= 3);
  assert.ok(leaves(shallow).length <= 8);
  const full = new DecisionTreeClassifier().fit(X, y).tree!;
  assert.ok(treeDepth(full) > 3, "the limit is what stopped the shallow tree");

  for (const splitter of ["exact", "histogram"] as const) {
    const leafy = new DecisionTreeClassifier({ minSamplesLeaf: 7, splitter }).fit(X, y).tree!;
    assertConsistentTree(leafy);
    for (const leaf of leaves(leafy)) assert.ok(leafy.nNodeSamples[leaf] >= 7, `${splitter} leaf ${leaf}`);
    const splitty = new DecisionTreeClassifier({ minSamplesSplit: 40, splitter }).fit(X, y).tree!;
    for (let i = 0; i < splitty.nodeCount; i++) {
      if (splitty.childrenLeft[i] !== TREE_LEAF) assert.ok(splitty.nNodeSamples[i] >= 40);
    }
  }
  const stump = new DecisionTreeClassifier({ minImpurityDecrease: 0.5 }).fit(X, y).tree!;
  assert.equal(stump.nodeCount, 1, "no split lowers gini by 0.5");
  for (const forestTree of new BalancedRandomForest({ nEstimators: 5, maxDepth: 4 }).fit(X, y).trees) {
    assert.ok(treeDepth(forestTree) <= 4);
    assertConsistentTree(forestTree);
  }
});

Deno.test("same seed and data give byte-identical JSON; another seed differs", () => {
  const { X, y } = synthetic(300, 8, 7);
  const a = JSON.stringify(new BalancedRandomForest({ nEstimators: 20, seed: 11 }).fit(X, y));
  const b = JSON.stringify(new BalancedRandomForest({ nEstimators: 20, seed: 11 }).fit(X, y));
  const c = JSON.stringify(new BalancedRandomForest({ nEstimators: 20, seed: 12 }).fit(X, y));
  assert.equal(a, b);
  assert.notEqual(a, c);
});

Deno.test("parallel fit on Web Workers equals the single-threaded fit", async () => {
  const { X, y } = synthetic(300, 8, 8);
  const options = { nEstimators: 23, seed: 5, maxDepth: null };
  const single = new BalancedRandomForest(options).fit(X, y);
  const parallel = await new BalancedRandomForest({ ...options, nJobs: 3 }).fitAsync(X, y);
  assert.equal(parallel.trees.length, 23);
  assert.deepEqual(parallel.trees, single.trees);
  assert.deepEqual(parallel.predictProba(X), single.predictProba(X));
});

Deno.test("probabilities lie in [0, 1], batch equals one-by-one, and the forest learns", () => {
  const train = synthetic(600, 10, 9);
  const test = synthetic(400, 10, 10);
  const forest = new BalancedRandomForest({ nEstimators: 60, seed: 1 }).fit(train.X, train.y);
  const p = forest.predictProba(test.X);
  assert.equal(p.length, 400);
  for (let r = 0; r < test.X.rows; r++) {
    assert.ok(p[r] >= 0 && p[r] <= 1);
    assert.equal(forest.predictProbaOne(test.X.data.subarray(r * 10, (r + 1) * 10)), p[r]);
  }
  assert.ok(rocAuc(test.y, p) > 0.85, `AUC ${rocAuc(test.y, p)}`);
  const asRows = Array.from({ length: 5 }, (_, r) => Array.from(test.X.data.subarray(r * 10, (r + 1) * 10)));
  assert.deepEqual(forest.predictProba(asRows), p.slice(0, 5));
});

Deno.test("WebAssembly and JavaScript batch prediction agree bit for bit", () => {
  const train = synthetic(500, 7, 21);
  const test = synthetic(1037, 7, 22); // not a multiple of the kernel's 16 lanes or 256-row blocks
  for (const maxDepth of [3, null]) {
    const forest = new BalancedRandomForest({ nEstimators: 37, seed: 8, maxDepth }).fit(train.X, train.y);
    const packed = packForest(forest.trees, 7);
    const js = new Float64Array(test.X.rows);
    predictPackedInto(packed, test.X.data, test.X.rows, js);
    const wasm = new Float64Array(test.X.rows);
    new WasmPredictor(packed).predictInto(test.X.data, test.X.rows, wasm);
    assert.deepEqual(wasm, js);
    assert.deepEqual(forest.predictProba(test.X), js);
    assert.ok(js.some((p) => p > 0 && p < 1));
  }
});

Deno.test("WebAssembly kernels of different row widths in one process each read their own rows", () => {
  // The kernel is compiled per row width (lane offsets are immediates): a module cached for one
  // width and reused for another would read the wrong cells.
  for (const cols of [7, 3, 61, 7]) {
    const train = synthetic(300, cols, 30 + cols);
    const test = synthetic(300, cols, 40 + cols);
    const forest = new BalancedRandomForest({ nEstimators: 9, seed: cols }).fit(train.X, train.y);
    const packed = packForest(forest.trees, cols);
    const js = new Float64Array(test.X.rows);
    predictPackedInto(packed, test.X.data, test.X.rows, js);
    const wasm = new Float64Array(test.X.rows);
    new WasmPredictor(packed).predictInto(test.X.data, test.X.rows, wasm);
    assert.deepEqual(wasm, js, `${cols} columns`);
  }
});

Deno.test("the balanced forest flags more minority rows than the plain forest", () => {
  const train = synthetic(800, 8, 11, 0.15);
  const test = synthetic(800, 8, 12, 0.15);
  const count = (p: Float64Array) => p.filter((v) => v >= 0.5).length;
  const balanced = new BalancedRandomForest({ nEstimators: 40, seed: 2 }).fit(train.X, train.y);
  const plain = new BalancedRandomForest({ nEstimators: 40, seed: 2, balanced: false }).fit(train.X, train.y);
  assert.ok(count(balanced.predictProba(test.X)) > 1.5 * count(plain.predictProba(test.X)));
});

Deno.test("JSON round trip restores identical probabilities and stays compact", () => {
  const { X, y } = synthetic(1000, 61, 13);
  const forest = new BalancedRandomForest({ nEstimators: 500, seed: 3 }).fit(X, y);
  const text = JSON.stringify(forest);
  assert.ok(text.length < 4_000_000, `JSON is ${text.length} bytes`);
  const restored = BalancedRandomForest.fromJSON(text);
  assert.deepEqual(restored.predictProba(X), forest.predictProba(X));
  assert.deepEqual(restored.trees, forest.trees);
  assert.deepEqual(restored.options, forest.options);
  assert.equal(JSON.stringify(restored), text);
  const json = forest.toJSON();
  assert.equal(json.formatVersion, 1);
  assert.throws(() => BalancedRandomForest.fromJSON({ ...json, formatVersion: 99 }), /formatVersion 99/);
  assert.throws(
    () =>
      BalancedRandomForest.fromJSON({
        ...json,
        trees: { ...json.trees, value: json.trees.value.slice(0, 16) },
      }),
    /trees.value has/,
  );
});

Deno.test("invalid options are rejected naming the option", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ maxDepth: 0 }, /maxDepth must be an integer ≥ 1, got 0/],
    [{ maxDepth: 2.5 }, /maxDepth/],
    [{ minSamplesSplit: 1 }, /minSamplesSplit must be an integer ≥ 2/],
    [{ minSamplesLeaf: 0 }, /minSamplesLeaf/],
    [{ maxFeatures: 1.5 }, /maxFeatures/],
    [{ maxFeatures: "half" }, /maxFeatures/],
    [{ maxFeatures: 0 }, /maxFeatures/],
    [{ criterion: "mse" }, /criterion must be "gini" or "entropy", got "mse"/],
    [{ splitter: "random" }, /splitter/],
    [{ maxBins: 300 }, /maxBins must be an integer in \[2, 255\]/],
    [{ minImpurityDecrease: -1 }, /minImpurityDecrease/],
    [{ nEstimators: 0 }, /nEstimators/],
    [{ samplingStrategy: 1.5 }, /samplingStrategy must be in \(0, 1\]/],
    [{ replacement: "yes" }, /replacement must be a boolean/],
    [{ seed: -1 }, /seed/],
    [{ nJobs: 0 }, /nJobs/],
    [{ maxDepht: 3 }, /unknown option maxDepht/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new BalancedRandomForest(options),
      (e: unknown) =>
        (e instanceof RangeError || e instanceof TypeError) && message.test((e as Error).message),
      JSON.stringify(options),
    );
  }
  assert.throws(() => new DecisionTreeClassifier({ minSamplesLeaf: -2 }), /minSamplesLeaf/);
  const { X, y } = synthetic(50, 3, 14);
  assert.throws(
    () => new BalancedRandomForest({ maxFeatures: 5 }).fit(X, y),
    /maxFeatures must be ≤ the number/,
  );
  assert.throws(() => new BalancedRandomForest({ samplingStrategy: 0.05 }).fit(X, y), /samplingStrategy/);
});

Deno.test("invalid X and y are rejected with clear errors", () => {
  const forest = new BalancedRandomForest({ nEstimators: 2 });
  assert.throws(() => forest.fit([[1, 2], [3]], [0, 1]), /ragged: row 1 has 1 values, row 0 has 2/);
  assert.throws(() => forest.fit([[1, NaN], [3, 4]], [0, 1]), /X\[0\]\[1\] must be a finite number, got NaN/);
  assert.throws(() => forest.fit([[1, 2], [3, 4]], [0, 2]), /y\[1\] must be 0 or 1, got 2/);
  assert.throws(() => forest.fit([[1, 2], [3, 4]], [0, 1, 1]), /y has 3 labels but X has 2 rows/);
  assert.throws(() => forest.fit([[1, 2], [3, 4]], [1, 1]), /both classes/);
  assert.throws(
    () => forest.fit({ data: new Float64Array(5), rows: 2, cols: 3 }, [0, 1]),
    /X.data has 5 values/,
  );
  assert.throws(() => forest.fit([[1], [2]], [0, 1], [1, -1]), /sampleWeight\[1\]/);
  assert.throws(() => forest.predictProba([[1, 2]]), /not fitted/);
  forest.fit([[1, 2], [3, 4], [5, 6], [7, 8]], [0, 1, 0, 1]);
  assert.throws(() => forest.predictProba([[1, 2, 3]]), /X has 3 features, the model was fitted on 2/);
  assert.throws(() => forest.predictProbaOne([1, Infinity]), /row\[1\] must be a finite number/);
});

Deno.test("histogram (quantile-binned) and exact splitters both learn", () => {
  const train = synthetic(1500, 6, 15);
  const test = synthetic(500, 6, 16);
  const binned = binFeatures(train.X, 255);
  assert.equal(binned.binStart[1] - binned.binStart[0], 255, "continuous features use all 255 bins");
  const aucs: Record<string, number> = {};
  for (const splitter of ["histogram", "exact"] as const) {
    const forest = new BalancedRandomForest({ nEstimators: 40, splitter, seed: 4 }).fit(train.X, train.y);
    aucs[splitter] = rocAuc(test.y, forest.predictProba(test.X));
    assert.ok(aucs[splitter] > 0.85, `${splitter} AUC ${aucs[splitter]}`);
  }
  assert.ok(Math.abs(aucs.histogram - aucs.exact) < 0.03);
  const coarse = new BalancedRandomForest({ nEstimators: 10, maxBins: 4, seed: 4 }).fit(train.X, train.y);
  const bins = binFeatures(train.X, 4);
  const thresholds = new Set<number>();
  for (const t of coarse.trees) {
    for (let i = 0; i < t.nodeCount; i++) if (t.feature[i] === 0) thresholds.add(t.threshold[i]);
  }
  assert.ok(thresholds.size >= 1 && thresholds.size <= 6, "4 bins give at most 6 bin-pair boundaries");
  // A histogram split falls midway between the values of two bins present at the node.
  const candidates = new Set<number>();
  for (let b = bins.binStart[0]; b < bins.binStart[1]; b++) {
    for (let c = b + 1; c < bins.binStart[1]; c++) candidates.add(bins.binHigh[b] / 2 + bins.binLow[c] / 2);
  }
  for (const t of thresholds) assert.ok(candidates.has(t), `threshold ${t} is not between two bins`);
});

Deno.test("sample weights matter: zero-weight rows are ignored, weights shift probabilities", () => {
  const { X, y } = synthetic(200, 4, 17);
  // Append 50 garbage rows with flipped labels and zero weight.
  const garbage = synthetic(50, 4, 18);
  const data = new Float64Array((200 + 50) * 4);
  data.set(X.data);
  data.set(garbage.X.data, 200 * 4);
  const yAll = new Uint8Array(250);
  yAll.set(y);
  for (let i = 0; i < 50; i++) yAll[200 + i] = 1 - garbage.y[i];
  const weights = new Float64Array(250).fill(1).fill(0, 200);
  const clean = new DecisionTreeClassifier({ splitter: "exact", seed: 1 }).fit(X, y).tree!;
  const weighted = new DecisionTreeClassifier({ splitter: "exact", seed: 1 })
    .fit({ data, rows: 250, cols: 4 }, yAll, weights).tree!;
  assert.deepEqual(weighted, clean);
  const unweighted = new DecisionTreeClassifier({ splitter: "exact", seed: 1 }).fit({
    data,
    rows: 250,
    cols: 4,
  }, yAll)
    .tree!;
  assert.notDeepEqual(unweighted, clean);

  // Upweighting the positives raises every leaf's class-1 fraction on average.
  const up = Float64Array.from(y, (label) => (label === 1 ? 5 : 1));
  const light = new DecisionTreeClassifier({ maxDepth: 2 }).fit(X, y);
  const heavy = new DecisionTreeClassifier({ maxDepth: 2 }).fit(X, y, up);
  const meanP = (p: Float64Array) => p.reduce((a, b) => a + b, 0) / p.length;
  assert.ok(meanP(heavy.predictProba(X)) > meanP(light.predictProba(X)) + 0.1);
  assert.equal(heavy.tree!.weightedNNodeSamples[0], y.reduce((a, b) => a + (b === 1 ? 5 : 1), 0));
});

Deno.test("importances: impurity-based sum to 1 and permutation finds the driving feature", () => {
  const train = synthetic(600, 6, 19);
  const test = synthetic(300, 6, 20);
  const forest = new BalancedRandomForest({ nEstimators: 50, seed: 6 }).fit(train.X, train.y);
  const mdi = forest.featureImportances();
  assert.ok(Math.abs(mdi.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(mdi.every((v) => v >= 0));
  assert.equal(mdi.indexOf(Math.max(...mdi)), 0);
  const perm = permutationImportance(forest, test.X, test.y, { nRepeats: 3, seed: 1 });
  assert.equal(perm.importances.length, 6);
  assert.equal(perm.importancesMean.indexOf(Math.max(...perm.importancesMean)), 0);
  assert.ok(perm.importancesMean[0] > 0.1);
  for (let f = 2; f < 6; f++) assert.ok(Math.abs(perm.importancesMean[f]) < 0.03, `noise feature ${f}`);
  const again = permutationImportance(forest, test.X, test.y, { nRepeats: 3, seed: 1 });
  assert.deepEqual(again.importancesMean, perm.importancesMean);
});

Deno.test("toMatrix accepts rows or a Matrix and keeps row-major order", () => {
  const m = toMatrix([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(m, { data: new Float64Array([1, 2, 3, 4, 5, 6]), rows: 2, cols: 3 });
  assert.equal(toMatrix(m), m);
});
