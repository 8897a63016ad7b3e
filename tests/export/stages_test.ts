/**
 * Each stage of the exported graph on its own, run by onnxruntime against an independent oracle:
 * the encoder bit for bit against the project's encoder, the tree ensembles against hand-computed
 * leaf means, the calibration against the closed form.
 */

import assert from "node:assert/strict";
import { DataType, encodeModel, type Model } from "../../pipeline/export/onnx_proto.ts";
import { GraphBuilder } from "../../pipeline/export/graph_builder.ts";
import {
  addAttributeInputs,
  addEncoder,
  EXPORTABLE_ENGINEERED_FEATURES,
} from "../../pipeline/export/encoder_graph.ts";
import { addTreeEnsemble, addTreeEnsembleRegressor } from "../../pipeline/export/forest_graph.ts";
import { addPlattCalibration } from "../../pipeline/export/calibration_graph.ts";
import { feedColumns } from "../../pipeline/export/verify.ts";
import { sampleApplicants } from "../../pipeline/export/sample.ts";
import { type EncoderOptions, ENGINEERED_FEATURES, FeatureEncoder } from "../../pipeline/features/encoder.ts";
import { PlattCalibrator } from "../../pipeline/model/calibration.ts";
import { type FlatTree, TREE_LEAF, TREE_UNDEFINED } from "../../pipeline/forest/mod.ts";
import { germanApplicants } from "../fixtures.ts";
import { openSession, run } from "./runtime.ts";

function model(g: GraphBuilder, ml: 5 | 3): Model {
  return {
    irVersion: ml === 5 ? 10 : 8,
    opsetImports: [{ domain: "", version: ml === 5 ? 21 : 15 }, { domain: "ai.onnx.ml", version: ml }],
    producerName: "test",
    producerVersion: "0",
    graph: g.build("stage"),
  };
}

Deno.test("every engineered feature of the encoder has a graph", () => {
  assert.deepEqual([...EXPORTABLE_ENGINEERED_FEATURES].sort(), ENGINEERED_FEATURES.map((f) => f.name).sort());
});

for (
  const options of [
    { orderedAsOrdinal: true, engineered: true },
    { orderedAsOrdinal: false, engineered: false },
    // The fair profile: no protected attribute, no feature derived from one.
    { orderedAsOrdinal: true, engineered: true, excluded: ["personal_status", "age", "foreign_worker"] },
  ] as Partial<EncoderOptions>[]
) {
  Deno.test(`the encoder graph equals the encoder bit for bit (${JSON.stringify(options)})`, async () => {
    const german = await germanApplicants();
    // Fitted without purpose A410 and job A174, so those valid codes are unseen (all-zero one-hot columns).
    const training = german.filter((a) => a.purpose !== "A410" && a.job !== "A174");
    const encoder = FeatureEncoder.fit(training, options);
    assert.ok(german.some((a) => a.purpose === "A410"));
    const g = new GraphBuilder();
    const features = addEncoder(g, encoder, addAttributeInputs(g));
    g.output(features, DataType.DOUBLE, ["N", encoder.nFeatures]);
    const session = await openSession(encodeModel(model(g, 5)));
    const rows = [...german, ...sampleApplicants(5_000, 11)];
    const out = await run(session, feedColumns(rows));
    assert.deepEqual(out.features.dims, [rows.length, encoder.nFeatures]);
    const expected = encoder.transformRecords(rows).data;
    let mismatches = 0;
    for (let i = 0; i < expected.length; i++) if (!Object.is(out.features.data[i], expected[i])) mismatches++;
    assert.equal(mismatches, 0);
  });
}

function tree(
  nodes: { feature?: number; threshold?: number; left?: number; right?: number; value?: number }[],
): FlatTree {
  const n = nodes.length;
  return {
    nodeCount: n,
    childrenLeft: Int32Array.from(nodes, (x) => x.left ?? TREE_LEAF),
    childrenRight: Int32Array.from(nodes, (x) => x.right ?? TREE_LEAF),
    feature: Int32Array.from(nodes, (x) => x.feature ?? TREE_UNDEFINED),
    threshold: Float64Array.from(nodes, (x) => x.threshold ?? TREE_UNDEFINED),
    value: Float64Array.from(nodes, (x) => x.value ?? 0),
    impurity: new Float64Array(n),
    nNodeSamples: new Int32Array(n),
    weightedNNodeSamples: new Float64Array(n),
  };
}

// Tree A: x0 ≤ 1.5 → 0.2, else (x1 ≤ 0.5 → 0.6, else 1.0). Tree B: a lone leaf, 0.3.
// Tree C: x1 ≤ 0.1 → 0, else 0.9 (0.1 is not a float: the float form rounds it up).
const TREES = [
  tree([
    { feature: 0, threshold: 1.5, left: 1, right: 2 },
    { value: 0.2 },
    {
      feature: 1,
      threshold: 0.5,
      left: 3,
      right: 4,
    },
    { value: 0.6 },
    { value: 1 },
  ]),
  tree([{ value: 0.3 }]),
  tree([{ feature: 1, threshold: 0.1, left: 1, right: 2 }, { value: 0 }, { value: 0.9 }]),
];
const ROWS = [[1.5, 0.5], [2, 0.5], [2, 0.5000001], [-5, 0.1], [7, 0.1000000001]];
// Hand-computed means of the three trees' leaves, summed in tree order.
const MEANS = [
  (0.2 + 0.3 + 0.9) / 3,
  (0.6 + 0.3 + 0.9) / 3,
  (1 + 0.3 + 0.9) / 3,
  (0.2 + 0.3 + 0) / 3,
  (0.6 + 0.3 + 0.9) / 3,
];

async function runForest(ml: 5 | 3, precision: "double" | "float" = "double"): Promise<ArrayLike<number>> {
  const g = new GraphBuilder();
  const x = g.input("x", DataType.DOUBLE, ["N", 2]);
  const y = ml === 5 ? addTreeEnsemble(g, TREES, x) : addTreeEnsembleRegressor(g, TREES, x, precision);
  g.output(y, ml === 5 ? DataType.DOUBLE : DataType.FLOAT, ["N", 1]);
  const session = await openSession(encodeModel(model(g, ml)));
  const out = await run(session, {
    x: { type: "float64", data: Float64Array.from(ROWS.flat()), dims: [ROWS.length, 2] },
  });
  assert.deepEqual(out[y].dims, [ROWS.length, 1]);
  return out[y].data;
}

Deno.test("TreeEnsemble (opset 5): the mean of the leaves, ties go left, a lone-leaf tree counts", async () => {
  const y = await runForest(5);
  for (let i = 0; i < ROWS.length; i++) {
    assert.ok(Math.abs(y[i] - MEANS[i]) <= 1e-16, `row ${i}: ${y[i]} vs ${MEANS[i]}`);
  }
});

Deno.test("TreeEnsembleRegressor (opset 3): double thresholds route as ours, the output is rounded to float", async () => {
  const y = await runForest(3);
  for (let i = 0; i < ROWS.length; i++) assert.equal(y[i], Math.fround(MEANS[i]), `row ${i}`);
});

Deno.test("with float thresholds, a value between the threshold and its float rounding takes the other branch", async () => {
  const y = await runForest(3, "float");
  // x1 = 0.1000000001 > 0.1 goes right in double, but ≤ fround(0.1) = 0.10000000149…, so left in float.
  assert.equal(y[4], Math.fround((0.6 + 0.3 + 0) / 3));
  for (let i = 0; i < 4; i++) assert.equal(y[i], Math.fround(MEANS[i]), `row ${i}`);
});

Deno.test("the calibration graph is Platt's closed form, clipped at 1e-6 and 1 − 1e-6", async () => {
  const calibrator = PlattCalibrator.fromJSON({
    kind: "platt",
    a: 1.602268366154652,
    b: -0.7535194836801115,
  });
  const g = new GraphBuilder();
  const p = g.input("p", DataType.DOUBLE, ["N"]);
  g.output(addPlattCalibration(g, calibrator, p), DataType.DOUBLE, ["N"]);
  const session = await openSession(encodeModel(model(g, 5)));
  const values = [0, 1e-9, 1e-6, 0.3, 0.36953977720905923, 0.5, 0.999999, 1 - 1e-9, 1];
  for (let i = 0; i < 2000; i++) values.push(i / 1999);
  const out = await run(session, {
    p: { type: "float64", data: Float64Array.from(values), dims: [values.length] },
  });
  const closedForm = (x: number) => {
    const q = Math.min(1 - 1e-6, Math.max(1e-6, x));
    return 1 / (1 + Math.exp(-(calibrator.a * Math.log(q / (1 - q)) + calibrator.b)));
  };
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    worst = Math.max(worst, Math.abs(out.pd.data[i] - closedForm(values[i])));
  }
  assert.ok(worst <= 1e-15, `largest difference ${worst}`);
  assert.equal(out.pd.data[0], out.pd.data[2]);
  assert.equal(out.pd.data[1], out.pd.data[2]);
  assert.equal(out.pd.data[7], out.pd.data[8]);
  // The production model's threshold maps to PD 1/6, as the README says.
  assert.ok(Math.abs(out.pd.data[4] - 1 / 6) < 1e-12);
});
