import assert from "node:assert/strict";
import { PlattCalibrator, reliabilityCurve } from "../../pipeline/model/calibration.ts";
import { loadCreditTable } from "../../pipeline/data/etl.ts";
import { FeatureEncoder } from "../../pipeline/features/encoder.ts";
import { brierScore } from "../../pipeline/model/metrics.ts";
import { outOfFoldProbabilities, takeRows, takeValues } from "../../pipeline/model/objective.ts";
import { BalancedRandomForest } from "../../pipeline/forest/mod.ts";
import { Random } from "../../pipeline/random.ts";
import { stratifiedKFold } from "../../pipeline/data/split.ts";

Deno.test("Platt scaling recovers a known logistic distortion", () => {
  // Scores are a distorted probability; labels are drawn from the true one.
  const rng = new Random(3);
  const n = 20000, a = 0.6, b = -0.8;
  const labels = new Uint8Array(n), scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = 0.02 + 0.96 * rng.next();
    const logit = Math.log(s / (1 - s));
    const truth = 1 / (1 + Math.exp(-(a * logit + b)));
    scores[i] = s;
    labels[i] = rng.next() < truth ? 1 : 0;
  }
  const calibrator = PlattCalibrator.fit(labels, scores);
  assert.ok(Math.abs(calibrator.a - a) < 0.05, `a = ${calibrator.a}`);
  assert.ok(Math.abs(calibrator.b - b) < 0.05, `b = ${calibrator.b}`);
  assert.ok(brierScore(labels, calibrator.transformAll(scores)) < brierScore(labels, scores));
});

Deno.test("calibration is strictly increasing, so decisions at the mapped threshold are unchanged", () => {
  const calibrator = PlattCalibrator.fromJSON({ kind: "platt", a: 0.9, b: -1.2 });
  const threshold = 0.37;
  const mapped = calibrator.transform(threshold);
  for (let p = 0; p <= 1; p += 0.001) {
    assert.equal(p >= threshold, calibrator.transform(p) >= mapped, `p = ${p}`);
  }
  assert.throws(() => PlattCalibrator.fromJSON({ kind: "platt", a: -1, b: 0 }), /slope must be positive/);
  assert.throws(() => PlattCalibrator.fromJSON({ kind: "isotonic" } as never), /kind isotonic/);
  assert.throws(() => PlattCalibrator.fit([1, 1], [0.2, 0.4]), /both classes/);
});

Deno.test("calibration lowers the Brier score of the balanced forest on held-out folds", async () => {
  const table = await loadCreditTable();
  const y = table.bad!;
  const X = FeatureEncoder.fit(table.frame).transformFrame(table.frame);
  const outer = stratifiedKFold(y, { k: 4, seed: 11 });
  let raw = 0, calibrated = 0;
  for (const { train, test } of outer) {
    const XTrain = takeRows(X, train), yTrain = takeValues(y, train);
    const options = { nEstimators: 60, seed: 5 };
    const oof = await outOfFoldProbabilities(
      XTrain,
      yTrain,
      stratifiedKFold(yTrain, { k: 4, seed: 2 }),
      options,
    );
    const calibrator = PlattCalibrator.fit(yTrain, oof);
    const p = new BalancedRandomForest(options).fit(XTrain, yTrain).predictProba(takeRows(X, test));
    raw += brierScore(takeValues(y, test), p);
    calibrated += brierScore(takeValues(y, test), calibrator.transformAll(p));
  }
  assert.ok(calibrated < raw, `calibrated ${calibrated / 4} vs raw ${raw / 4}`);
});

Deno.test("reliability bins average predictions and outcomes per bin", () => {
  const bins = reliabilityCurve([0, 1, 1, 0], [0.05, 0.15, 0.95, 0.91], 10);
  assert.equal(bins.length, 10);
  assert.deepEqual(bins[0], { meanPredicted: 0.05, observed: 0, count: 1 });
  assert.deepEqual(bins[1], { meanPredicted: 0.15, observed: 1, count: 1 });
  assert.equal(bins[9].count, 2);
  assert.ok(Math.abs(bins[9].meanPredicted - 0.93) < 1e-12);
  assert.equal(bins[9].observed, 0.5);
});
