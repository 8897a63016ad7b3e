/**
 * Evidence for how reasons become score points (pipeline/model/points.ts): does a calibration
 * linear in the forest's output calibrate as well as Platt on logit(p)? Out-of-fold P(bad) of the
 * production configuration on all 1,000 rows (5-fold, seed 42), then each calibrator cross-fitted
 * on those (10-fold: fitted on nine folds, scored on the tenth); Brier score and log loss.
 *
 * `deno run --allow-read=. --allow-env --allow-ffi --allow-sys bench/points_calibration.ts`
 */
import { loadCreditTable } from "../pipeline/data/etl.ts";
import { stratifiedKFold } from "../pipeline/data/split.ts";
import { FeatureEncoder } from "../pipeline/features/encoder.ts";
import { outOfFoldProbabilities } from "../pipeline/model/objective.ts";
import { PlattCalibrator } from "../pipeline/model/calibration.ts";

const run = JSON.parse(await Deno.readTextFile("models/runs/20261126-185337-9124a5/run.json"));
const { engineered_features: engineered, threshold: _t, ...forest } = run.params.model;
const table = await loadCreditTable("data/german.data");
const y = table.bad!;
const X = FeatureEncoder.fit(table.frame, { engineered }).transformFrame(table.frame);
const oof = await outOfFoldProbabilities(X, y, stratifiedKFold(y, { k: 5, seed: 42 }), {
  ...forest,
  seed: 42,
});

/** Least squares PD = α + β·p, clipped into (0, 1). */
function fitLinear(labels: number[], p: number[]) {
  const n = p.length;
  const mp = p.reduce((a, b) => a + b, 0) / n, my = labels.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) sxy += (p[i] - mp) * (labels[i] - my), sxx += (p[i] - mp) ** 2;
  const beta = sxy / sxx, alpha = my - beta * mp;
  return (x: number) => Math.min(1 - 1e-6, Math.max(1e-6, alpha + beta * x));
}

const pd = { platt: new Float64Array(y.length), linear: new Float64Array(y.length), raw: oof };
for (const { train, test } of stratifiedKFold(y, { k: 10, seed: 7 })) {
  const labels = Array.from(train, (i) => y[i]), scores = Array.from(train, (i) => oof[i]);
  const platt = PlattCalibrator.fit(labels, scores), linear = fitLinear(labels, scores);
  for (const i of test) pd.platt[i] = platt.transform(oof[i]), pd.linear[i] = linear(oof[i]);
}
for (const [name, values] of Object.entries(pd)) {
  let brier = 0, logLoss = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-6, Math.max(1e-6, values[i]));
    brier += (q - y[i]) ** 2;
    logLoss -= y[i] ? Math.log(q) : Math.log(1 - q);
  }
  console.log(
    `${name.padEnd(7)} Brier ${(brier / y.length).toFixed(4)}  log loss ${(logLoss / y.length).toFixed(4)}`,
  );
}
