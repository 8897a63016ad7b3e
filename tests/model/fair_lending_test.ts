import assert from "node:assert/strict";
import { decide, fairLendingReport, type VariantFigures } from "../../pipeline/model/fair_lending.ts";
import { writeNestedPredictions, writeNestedRecord } from "../../pipeline/tracking/mod.ts";
import { germanApplicants } from "../fixtures.ts";
import { withTempDir } from "../temp.ts";

const DATA = new URL("../../data/german.data", import.meta.url).pathname;
const RUN = "20261128-000000-abcdef";

/** Four outer folds (2 repeats × 2), full and fair, with hand-chosen costs and decisions. */
async function writeVariants(modelsDir: string, labels: number[]) {
  const costs = { "": [0.50, 0.52, 0.48, 0.54], fair: [0.53, 0.52, 0.50, 0.59] };
  const declineFull = (row: number) => row % 3 === 0;
  const declineFair = (row: number) => row % 4 === 0;
  for (const [variant, values] of Object.entries(costs)) {
    const folds = values.map((cost, i) => ({
      repeat: Math.floor(i / 2),
      fold: i % 2,
      n_train: 500,
      n_test: 500,
      cost,
      roc_auc: 0.8 - (variant ? 0.01 : 0),
      recall_bad: 0.9 - (variant ? 0.02 * i : 0),
    }));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const summary = Object.fromEntries(
      (["cost", "roc_auc", "recall_bad"] as const).map((
        k,
      ) => [k, { mean: mean(folds.map((f) => f[k])), corrected_se: 0 }]),
    );
    await writeNestedRecord(
      { format_version: 1, complete: true, run_id: RUN, protocol: "synthetic", folds, summary },
      modelsDir,
      variant,
    );
    const decline = variant ? declineFair : declineFull;
    await writeNestedPredictions(
      RUN,
      [0, 1].flatMap((repeat) =>
        labels.map((label, row) => ({
          repeat,
          fold: row % 2,
          row,
          label,
          probability: 0.3,
          pd: 0.2,
          threshold: 0.3,
          decision: decline(row) ? "decline" as const : "approve" as const,
        }))
      ),
      modelsDir,
      variant,
    );
  }
  return { costs, declineFull, declineFair };
}

Deno.test("fair-lending report: paired corrected-t cost difference, fairness from nested decisions, the rule", async () => {
  const applicants = await germanApplicants();
  const labels = (await Deno.readTextFile(DATA)).trim().split("\n").map((l) =>
    Number(l.trim().split(/\s+/)[20]) - 1
  );
  await withTempDir("fair-lending-", async (modelsDir) => {
    const { costs, declineFair } = await writeVariants(modelsDir, labels);
    const report = await fairLendingReport(RUN, {
      modelsDir,
      dataPath: DATA,
      intervals: { resamples: 200, seed: 1 },
    });
    assert.deepEqual(report.variants.map((v) => v.name), ["full", "fair"]);
    // full − fair per fold: −0.03, 0, −0.02, −0.05 → mean −0.025, s² = 0.00043333…, J = 4,
    // n_test/n_train = 1: corrected SE = √((1/4 + 1) · s²) = √(0.00054166…) ≈ 0.023274.
    const d = costs[""].map((c, i) => c - costs.fair[i]);
    const m = d.reduce((a, b) => a + b, 0) / 4;
    const s2 = d.reduce((a, b) => a + (b - m) ** 2, 0) / 3;
    const paired = report.paired[0];
    assert.equal(paired.b, "fair");
    assert.ok(Math.abs(paired.cost.mean - -0.025) < 1e-12);
    assert.ok(Math.abs(paired.cost.corrected_se - Math.sqrt(1.25 * s2)) < 1e-12);
    assert.ok(Math.abs(paired.cost.corrected_se - 0.023274) < 1e-6);
    // The rule: fair costs 0.025 more, more than one SE (0.0233): serve full.
    assert.equal(report.decision!.fair_within_one_se, false);
    assert.equal(report.decision!.chosen, "full");
    // Disparate impact for age, counted here by hand from the fair variant's decisions.
    const young = applicants.map((a) => a.age < 25);
    const rate = (want: boolean) => {
      let n = 0, approved = 0;
      young.forEach((y, row) => {
        if (y === want) n++, approved += declineFair(row) ? 0 : 1;
      });
      return approved / n;
    };
    const di = report.variants[1].fairness.groupings[0].disparate_impact;
    assert.ok(Math.abs(di.estimate! - rate(true) / rate(false)) < 1e-12);
    assert.ok(di.low! <= di.estimate! && di.estimate! <= di.high!);
    // Each applicant was scored twice (two repeats): counted once as an applicant.
    assert.equal(report.variants[1].fairness.groupings[0].protected.applicants, young.filter(Boolean).length);
    assert.equal(
      report.variants[1].fairness.groupings[0].protected.predictions,
      2 * young.filter(Boolean).length,
    );
    const target = report.targets[0];
    assert.ok(Math.abs(target.cost_increase.value - 0.025) < 1e-12);
    assert.equal(target.cost_increase.met, false);
    assert.ok(Math.abs(target.cost_increase.over_by - 0.005) < 1e-12);
  });
});

Deno.test("the production rule: within one corrected SE serves fair; beyond it the cheaper", () => {
  const v = (name: string, cost: number) => ({ name, cost: { mean: cost } }) as unknown as VariantFigures;
  const paired = (se: number) => ({ cost: { corrected_se: se } }) as Parameters<typeof decide>[2];
  assert.equal(decide(v("full", 0.525), v("fair", 0.550), paired(0.026)).chosen, "fair");
  assert.equal(decide(v("full", 0.525), v("fair", 0.550), paired(0.024)).chosen, "full");
  // A fair profile cheaper than full is served whatever the SE.
  assert.equal(decide(v("full", 0.55), v("fair", 0.52), paired(0.001)).chosen, "fair");
  // Exactly one SE above is still within.
  assert.equal(decide(v("full", 0.5), v("fair", 0.52), paired(0.02)).fair_within_one_se, true);
});

Deno.test("a run without a complete full nested evaluation is a clear error", async () => {
  await withTempDir("fair-lending-", async (modelsDir) => {
    await assert.rejects(
      () => fairLendingReport(RUN, { modelsDir, dataPath: DATA }),
      /has no complete nested evaluation/,
    );
  });
});
