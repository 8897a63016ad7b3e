import assert from "node:assert/strict";
import { fairnessCell, reweighingWeights } from "../../pipeline/model/reweigh.ts";
import type { Applicant } from "../../pipeline/data/schema.ts";
import { BalancedRandomForest } from "../../pipeline/forest/mod.ts";

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12;

Deno.test("Kamiran–Calders weights on a hand-computed case", () => {
  // n = 5; group 0 has 3 rows (labels 1, 0, 0), group 1 has 2 (labels 1, 1); 3 bad, 2 good.
  // w(0, 1) = 3·3 / (5·1) = 1.8; w(0, 0) = 3·2 / (5·2) = 0.6; w(1, 1) = 2·3 / (5·2) = 0.6.
  const w = reweighingWeights([0, 0, 0, 1, 1], [1, 0, 0, 1, 1]);
  [1.8, 0.6, 0.6, 0.6, 0.6].forEach((expected, i) => assert.ok(close(w[i], expected), `row ${i}: ${w[i]}`));
});

Deno.test("weighted, the bad rate is the same in every group and each label keeps its count", () => {
  const groups = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3];
  const y = [1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0];
  const w = reweighingWeights(groups, y);
  const overall = y.reduce((a, b) => a + b, 0) / y.length;
  for (const g of [0, 1, 2, 3]) {
    let bad = 0, all = 0;
    groups.forEach((s, i) => {
      if (s === g) all += w[i], bad += w[i] * y[i];
    });
    assert.ok(close(bad / all, overall), `group ${g}: ${bad / all} vs ${overall}`);
  }
  for (const label of [0, 1]) {
    const sum = y.reduce((acc, v, i) => acc + (v === label ? w[i] : 0), 0);
    assert.ok(close(sum, y.filter((v) => v === label).length));
  }
  assert.throws(() => reweighingWeights([0, 1], [0]), /equally long/);
  assert.throws(() => reweighingWeights([0], [2]), /not 0 or 1/);
});

Deno.test("fairnessCell: one bit per grouping (under 25, female)", () => {
  const cell = (age: number, personal_status: string) => fairnessCell({ age, personal_status } as Applicant);
  assert.equal(cell(30, "A93"), 0);
  assert.equal(cell(22, "A93"), 1);
  assert.equal(cell(30, "A92"), 2);
  assert.equal(cell(22, "A92"), 3);
});

Deno.test("the balanced forest honours row weights: a weight of zero removes a row's influence", () => {
  // Two rows with the same feature value and opposite labels: weighting one of them to ~0 makes
  // every tree's leaf (and the forest's probability) follow the other.
  const X = { data: Float64Array.from([0, 0, 1, 1, 1, 1]), rows: 6, cols: 1 };
  const y = Uint8Array.from([1, 0, 1, 0, 1, 0]);
  const options = { nEstimators: 30, seed: 3, bootstrap: false, maxFeatures: 1 };
  const even = new BalancedRandomForest(options).fit(X, y);
  const tilted = new BalancedRandomForest(options).fit(X, y, [1e-9, 1, 1, 1, 1, 1]);
  const p = (f: BalancedRandomForest) =>
    f.predictProba({ data: Float64Array.from([0]), rows: 1, cols: 1 })[0];
  assert.ok(close(p(even), 0.5), `unweighted ${p(even)}`);
  assert.ok(p(tilted) < 1e-6, `weighted ${p(tilted)}`);
});
