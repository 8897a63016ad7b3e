import assert from "node:assert/strict";
import {
  correctedResampledT,
  type FoldValue,
  pairFolds,
  studentTCdf,
  studentTQuantile,
  summariseFolds,
  testTrainRatio,
} from "../../pipeline/model/compare.ts";
import { UserError } from "../../pipeline/errors.ts";

function close(actual: number, expected: number, tolerance: number, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what} expected ${expected} ± ${tolerance}, got ${actual}`,
  );
}

/** Two models on a 2 × 3-fold repeated CV (J = 6), values chosen so the arithmetic is exact by hand. */
const modelA = [0.5, 0.6, 0.55, 0.45, 0.7, 0.5];
const modelB = [0.4, 0.3, 0.35, 0.45, 0.3, 0.3];
const keys = [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]];
const asFolds = (values: number[]): FoldValue[] =>
  values.map((value, i) => ({ repeat: keys[i][0], fold: keys[i][1], value }));

Deno.test("corrected resampled t: a hand-computed case", () => {
  const paired = pairFolds(asFolds(modelA), asFolds(modelB));
  // d = a − b = 0.1, 0.3, 0.2, 0.0, 0.4, 0.2
  const d = paired.map((p) => p.difference);
  [0.1, 0.3, 0.2, 0, 0.4, 0.2].forEach((v, i) => close(d[i], v, 1e-15, `d[${i}]`));
  // 3-fold CV: n_test/n_train = (n/3)/(2n/3) = 1/2.
  const ratio = testTrainRatio(keys.map(() => ({ n_test: 10, n_train: 20 })));
  assert.equal(ratio, 0.5);
  const r = correctedResampledT(d, ratio);
  // mean = 1.2 / 6 = 0.2
  close(r.mean, 0.2, 1e-15, "mean");
  // deviations −0.1, 0.1, 0, −0.2, 0.2, 0; squares sum to 0.01+0.01+0+0.04+0.04+0 = 0.10;
  // s² = 0.10 / (6 − 1) = 0.02, s = √0.02 = 0.1414213562
  close(r.sd, Math.sqrt(0.02), 1e-15, "sd");
  // naive SE = s/√J = √(0.02/6) = √0.0033333 = 0.0577350269
  close(r.naive_se, 0.0577350269189626, 1e-15, "naive SE");
  // corrected variance = (1/6 + 1/2) · 0.02 = (2/3) · 0.02 = 0.0133333; SE = 0.1154700538
  close(r.corrected_se, 0.1154700538379252, 1e-15, "corrected SE");
  // t = 0.2 / 0.1154700538 = √3 = 1.7320508076, with J − 1 = 5 degrees of freedom
  close(r.t, Math.sqrt(3), 1e-14, "t");
  assert.equal(r.df, 5);
  assert.equal(r.folds, 6);
  // t_{0.975, 5} = 2.5706 (tables: 2.571); half width 2.5705818 · 0.1154700538 = 0.2968252
  close(r.interval[0], 0.2 - 0.2968252, 1e-6, "interval low");
  close(r.interval[1], 0.2 + 0.2968252, 1e-6, "interval high");
  // two-sided p of t = √3 on 5 df, from the tables' neighbours: t_{0.9,5} = 1.476 < √3 < t_{0.95,5} = 2.015
  assert.ok(r.p_value > 0.1 && r.p_value < 0.2, `p ${r.p_value}`);
  close(r.p_value, 2 * (1 - studentTCdf(Math.sqrt(3), 5)), 1e-15, "p");
});

Deno.test("summariseFolds: one model's mean, SD (ddof 1), naive and corrected SE", () => {
  // 10-fold CV, once: n_test/n_train = 100/900 = 1/9; values 1..10: mean 5.5, s² = 82.5/9 = 9.1667
  const s = summariseFolds([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 1 / 9);
  close(s.mean, 5.5, 1e-15);
  close(s.sd, Math.sqrt(82.5 / 9), 1e-14);
  close(s.naive_se, Math.sqrt(82.5 / 9 / 10), 1e-14);
  // (1/10 + 1/9) · 82.5/9 = (19/90) · 9.16667 = 1.935185; √ = 1.391109
  close(s.corrected_se, Math.sqrt((19 / 90) * (82.5 / 9)), 1e-14);
  close(s.corrected_se, 1.391109, 1e-6);
});

Deno.test("Student-t quantiles agree with the printed tables and the closed forms", () => {
  // Tables (4 decimals): two-sided 95 % and others.
  const table: [number, number, number][] = [
    [0.975, 49, 2.0096],
    [0.975, 9, 2.2622],
    [0.975, 4, 2.7764],
    [0.975, 5, 2.5706],
    [0.975, 30, 2.0423],
    [0.95, 30, 1.6973],
    [0.995, 10, 3.1693],
    [0.999, 3, 10.2145],
    [0.9, 1, 3.0777],
  ];
  for (const [p, df, t] of table) close(studentTQuantile(p, df), t, 5e-5, `t(${p}, ${df})`);
  // df = 1 is Cauchy: t = tan(π(p − ½)); df = 2: t = (2p − 1) / √(2p(1 − p)).
  for (const p of [0.6, 0.9, 0.975, 0.999, 0.01]) {
    close(
      studentTQuantile(p, 1),
      Math.tan(Math.PI * (p - 0.5)),
      1e-12 * Math.max(1, Math.abs(Math.tan(Math.PI * (p - 0.5)))),
      `cauchy ${p}`,
    );
    close(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-12, `df 2, ${p}`);
  }
  // Large df tends to the normal quantile 1.959964; symmetry and the median.
  close(studentTQuantile(0.975, 1e7), 1.959964, 1e-6, "normal limit");
  assert.equal(studentTQuantile(0.5, 7), 0);
  close(studentTQuantile(0.025, 49), -studentTQuantile(0.975, 49), 1e-14, "symmetry");
  // The quantile inverts the CDF.
  for (const df of [1, 3, 9, 49, 200]) {
    for (const p of [0.001, 0.2, 0.8, 0.975]) close(studentTCdf(studentTQuantile(p, df), df), p, 1e-13);
  }
  // Closed-form CDFs: Cauchy ½ + atan(t)/π; df 2: ½ + t / (2√(2 + t²)).
  for (const t of [-3, -0.4, 0, 1.7, 12]) {
    close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-15, `cauchy cdf ${t}`);
    close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-15, `df 2 cdf ${t}`);
  }
  assert.throws(() => studentTQuantile(1, 5), RangeError);
  assert.throws(() => studentTQuantile(0.5, 0), RangeError);
});

Deno.test("zero variance: SE 0, a point interval, t and p say what they can", () => {
  const same = correctedResampledT([0.02, 0.02, 0.02, 0.02], 1 / 9);
  assert.equal(same.sd, 0);
  assert.equal(same.corrected_se, 0);
  assert.equal(same.naive_se, 0);
  close(same.mean, 0.02, 1e-17);
  assert.deepEqual(same.interval, [same.mean, same.mean]);
  assert.equal(same.t, Infinity);
  assert.equal(same.p_value, 0);
  const negative = correctedResampledT([-0.5, -0.5], 0.25);
  assert.equal(negative.t, -Infinity);
  const none = correctedResampledT([0, 0, 0], 0.5);
  assert.equal(none.t, 0);
  assert.equal(none.p_value, 1);
  assert.deepEqual(none.interval, [0, 0]);
});

Deno.test("pairFolds refuses mismatched folds and says which", () => {
  const a = asFolds(modelA);
  const missing = a.slice(0, 5);
  assert.throws(
    () => pairFolds(a, missing, { a: "ours", b: "logistic regression" }),
    (e: Error) =>
      e instanceof UserError && /not scored on the same folds/.test(e.message) &&
      /1 fold\(s\) only in ours \(repeat 1 fold 2\)/.test(e.message),
  );
  const shifted = a.map((f) => ({ ...f, repeat: f.repeat + 1 }));
  assert.throws(
    () => pairFolds(a, shifted, { a: "ours", b: "peer" }),
    /3 fold\(s\) only in ours \(repeat 0 fold 0, repeat 0 fold 1, repeat 0 fold 2\); 3 fold\(s\) only in peer \(repeat 2 fold 0/,
  );
  assert.throws(() => pairFolds(a, [...a, a[0]]), /b: repeat 0 fold 0 appears more than once/);
  assert.throws(
    () => pairFolds(a, a.map((f, i) => (i === 2 ? { ...f, value: Number.NaN } : f))),
    /b: repeat 0 fold 2 has a non-finite value NaN/,
  );
  assert.throws(() => pairFolds(a, [{ repeat: -1, fold: 0, value: 1 }]), /whole numbers/);
  assert.throws(() => pairFolds([], a), /a has no folds/);
  // Order of the inputs does not matter; the pairing follows (repeat, fold).
  const reversed = pairFolds([...a].reverse(), asFolds(modelB));
  assert.deepEqual(reversed.map((p) => [p.repeat, p.fold]), keys);
});

Deno.test("summaries refuse what they cannot estimate", () => {
  assert.throws(() => summariseFolds([0.5], 1 / 9), /at least 2 folds, got 1/);
  assert.throws(() => summariseFolds([0.5, Infinity], 1 / 9), /fold value 1 is not a finite number/);
  assert.throws(() => summariseFolds([0.5, 0.6], 0), /n_test\/n_train must be a positive/);
  assert.throws(() => correctedResampledT([0.5, 0.6], 1 / 9, 1), /confidence/);
  assert.throws(() => testTrainRatio([]), /no folds/);
  assert.throws(() => testTrainRatio([{ n_test: 0, n_train: 10 }]), /fold sizes must be positive/);
  close(testTrainRatio([{ n_test: 100, n_train: 900 }, { n_test: 101, n_train: 899 }]), 201 / 1799, 1e-15);
});
