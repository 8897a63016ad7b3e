import assert from "node:assert/strict";
import {
  attributeInformationValues,
  averageRanks,
  bayesThreshold,
  binIndex,
  chiSquared,
  contingencyTable,
  correlationMatrix,
  costStaircase,
  countsByBin,
  countsByCategory,
  cramersV,
  cramersVMatrix,
  escapeHtml,
  expectedCostStandardError,
  extremeGroups,
  featureLabel,
  groupBadRateScores,
  htmlTable,
  hyperparameterEffects,
  importanceByAttribute,
  ivStrength,
  numericBinning,
  parseCsv,
  parseTrials,
  pearson,
  qualityReport,
  spearman,
  trivialPolicyCosts,
  weightOfEvidence,
  withBadRates,
} from "../../pipeline/report/eda.ts";
import { loadCreditTable } from "../../pipeline/data/etl.ts";
import { ATTRIBUTES, type CategoricalAttribute } from "../../pipeline/data/schema.ts";
import { thresholdSweep } from "../../pipeline/model/metrics.ts";

const close = (actual: number, expected: number, tolerance = 1e-9, message = "") =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${message} expected ${expected}, got ${actual}`);

Deno.test("weightOfEvidence and the information value match a hand computation", () => {
  // 100 good and 40 bad. A: %good 0.4, %bad 0.25 → WoE ln 1.6; B: %good 0.6, %bad 0.75 → WoE ln 0.8.
  const table = weightOfEvidence([
    { key: "A", label: "A", good: 40, bad: 10 },
    { key: "B", label: "B", good: 60, bad: 30 },
  ]);
  assert.equal(table.smoothed, false);
  close(table.bins[0].woe, Math.log(1.6));
  close(table.bins[1].woe, Math.log(0.8));
  close(table.bins[0].iv, 0.15 * Math.log(1.6));
  close(table.bins[1].iv, -0.15 * Math.log(0.8));
  close(table.iv, 0.15 * Math.log(1.6) - 0.15 * Math.log(0.8)); // 0.10397…
  close(table.bins[0].badRate, 0.2);
  assert.equal(ivStrength(table.iv), "medium");
});

Deno.test("weightOfEvidence smooths every group when one lacks a class, and drops empty groups", () => {
  // A has no bad applicant: 0.5 is added to each count, totals grow by 2 · 0.5.
  // A: %good 10.5/21 = 0.5, %bad 0.5/11; B: %good 0.5, %bad 10.5/11.
  const table = weightOfEvidence([
    { key: "A", label: "A", good: 10, bad: 0 },
    { key: "empty", label: "empty", good: 0, bad: 0 },
    { key: "B", label: "B", good: 10, bad: 10 },
  ]);
  assert.equal(table.smoothed, true);
  assert.deepEqual(table.bins.map((b) => b.key), ["A", "B"]);
  close(table.bins[0].woe, Math.log(11));
  close(table.bins[1].woe, Math.log(0.5 / (10.5 / 11)));
  const expected = (0.5 - 0.5 / 11) * Math.log(11) + (0.5 - 10.5 / 11) * Math.log(0.5 / (10.5 / 11));
  close(table.iv, expected); // 1.38387…
  assert.ok(Number.isFinite(table.iv));
  assert.throws(() => weightOfEvidence([{ key: "A", label: "A", good: 3, bad: 0 }]), /both classes/);
});

Deno.test("ivStrength uses the usual bands", () => {
  assert.equal(ivStrength(0), "useless");
  assert.equal(ivStrength(0.0199), "useless");
  assert.equal(ivStrength(0.02), "weak");
  assert.equal(ivStrength(0.0999), "weak");
  assert.equal(ivStrength(0.1), "medium");
  assert.equal(ivStrength(0.3), "strong");
  assert.equal(ivStrength(2), "strong");
});

Deno.test("cramersV of a 2×2 table equals |φ| computed by hand", () => {
  // χ² = 4/12 + 4/18 + 4/28 + 4/42 = 0.793651; V = √(χ²/100) = |ad − bc| / √(30·70·40·60).
  const counts = [[10, 20], [30, 40]];
  close(chiSquared(counts), 4 / 12 + 4 / 18 + 4 / 28 + 4 / 42);
  close(cramersV(counts), 200 / Math.sqrt(30 * 70 * 40 * 60));
});

Deno.test("cramersV of a 2×3 table, of independence and of perfect association", () => {
  // Expected counts 25, 30, 45 in both rows; χ² = 2 · (25/25 + 0 + 25/45) = 3.1111; V = √(χ²/200).
  close(cramersV([[20, 30, 50], [30, 30, 40]]), Math.sqrt((2 * (1 + 25 / 45)) / 200));
  close(cramersV([[10, 20], [20, 40]]), 0);
  close(cramersV([[10, 0], [0, 20], [5, 0]]), 1);
  close(cramersV([[10, 0, 0], [0, 20, 0], [0, 0, 5]]), 1);
  assert.equal(cramersV([[10, 20]]), 0, "a variable with one level");
  close(cramersV([[10, 0, 20], [30, 0, 40]]), cramersV([[10, 20], [30, 40]]), 1e-12, "empty column ignored");
});

Deno.test("contingencyTable and cramersVMatrix cross-tabulate raw values", () => {
  const x = ["a", "a", "b", "b", "b"];
  const y = ["u", "v", "u", "u", "v"];
  assert.deepEqual(contingencyTable(x, y), { rows: ["a", "b"], cols: ["u", "v"], counts: [[1, 1], [2, 1]] });
  const cells = cramersVMatrix([{ name: "x", values: x }, { name: "y", values: y }]);
  assert.equal(cells.length, 4);
  assert.deepEqual(cells.filter((c) => c.x === c.y).map((c) => c.value), [1, 1]);
  close(cells[1].value, cells[2].value, 1e-12, "symmetric");
});

Deno.test("pearson, spearman and averageRanks", () => {
  close(pearson([1, 2, 3, 4], [2, 4, 6, 8]), 1);
  close(pearson([1, 2, 3, 4], [8, 6, 4, 2]), -1);
  close(pearson([1, 2, 3], [5, 5, 5]), 0, 0, "constant");
  // x = 1..5, y = 2, 1, 4, 3, 5: deviations' cross products sum to 8, squares to 10 each → r = 0.8.
  close(pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]), 0.8);
  assert.deepEqual(Array.from(averageRanks([10, 20, 20, 5])), [2, 3.5, 3.5, 1]);
  close(spearman([1, 2, 3, 4], [1, 8, 27, 64]), 1, 1e-12, "monotone");
  const cells = correlationMatrix([{ name: "a", values: [1, 2, 3] }, { name: "b", values: [3, 2, 1] }]);
  assert.deepEqual(cells.map((c) => Math.round(c.value)), [1, -1, -1, 1]);
});

Deno.test("numericBinning: one bin per value for bands, quantile bins at observed values otherwise", () => {
  const banded = numericBinning([1, 2, 2, 3, 4, 4]);
  assert.equal(banded.method, "value");
  assert.deepEqual(banded.labels, ["1", "2", "3", "4"]);
  const tenths = numericBinning([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { quantiles: 5 });
  assert.equal(tenths.method, "quantile");
  assert.deepEqual(tenths.edges, [2, 4, 6, 8]);
  assert.deepEqual(tenths.labels, ["1–2", "3–4", "5–6", "7–8", "9–10"]);
  // Ties: the quintile cuts 1, 1, 1, 3 collapse to two edges.
  const tied = numericBinning([1, 1, 1, 1, 1, 1, 2, 3, 4, 5], { quantiles: 5, maxDistinct: 2 });
  assert.deepEqual(tied.edges, [1, 3]);
  assert.deepEqual(tied.labels, ["1", "2–3", "4–5"]);
  const fractions = numericBinning([0.5, 1.5, 2.5, 3.5], { quantiles: 2, maxDistinct: 1 });
  assert.deepEqual(fractions.labels, ["≤ 1.5", "> 1.5"]);
  assert.equal(binIndex([2, 4], 2), 0);
  assert.equal(binIndex([2, 4], 2.5), 1);
  assert.equal(binIndex([2, 4], 9), 2);
  assert.deepEqual(
    countsByBin([1, 2, 3, 4], [0, 1, 1, 0], { edges: [2], labels: ["low", "high"], method: "quantile" }),
    [{ key: "low", label: "low", good: 1, bad: 1 }, { key: "high", label: "high", good: 1, bad: 1 }],
  );
});

Deno.test("countsByCategory follows the schema's code order and labels, and refuses unknown codes", () => {
  const housing = ATTRIBUTES.find((a) => a.name === "housing") as CategoricalAttribute;
  const groups = countsByCategory(housing, ["A152", "A151", "A152"], [0, 1, 1]);
  assert.deepEqual(groups, [
    { key: "A151", label: "Rent", good: 0, bad: 1 },
    { key: "A152", label: "Own", good: 1, bad: 1 },
    { key: "A153", label: "For free", good: 0, bad: 0 },
  ]);
  assert.deepEqual(withBadRates(groups).map((g) => g.badRate), [1, 0.5, 0]);
  assert.throws(() => countsByCategory(housing, ["A999"], [0]), /unknown code/);
});

Deno.test("extremeGroups ignores groups below the minimum size", () => {
  const rates = withBadRates([
    { key: "tiny", label: "tiny", good: 0, bad: 5 },
    { key: "a", label: "a", good: 30, bad: 20 },
    { key: "b", label: "b", good: 45, bad: 5 },
  ]);
  const { riskiest, safest } = extremeGroups(rates, 20)!;
  assert.equal(riskiest.key, "a");
  assert.equal(safest.key, "b");
  assert.equal(extremeGroups(rates, 100), null);
});

Deno.test("bayesThreshold is 1/6 for the German cost matrix; trivial policies cost 1.5 and 0.7", () => {
  close(bayesThreshold(), 1 / 6);
  close(bayesThreshold({ falseNegative: 1, falsePositive: 1 }), 0.5);
  const labels = Array.from({ length: 10 }, (_, i) => (i < 3 ? 1 : 0));
  const costs = trivialPolicyCosts(labels);
  close(costs.approveAll, 1.5);
  close(costs.declineAll, 0.7);
});

Deno.test("costStaircase draws the exact step function of a sweep", () => {
  const labels = [1, 0, 1, 0];
  const scores = [0.8, 0.6, 0.4, 0.2];
  const steps = costStaircase(thresholdSweep(labels, scores));
  // Declining from 0.2: cost 2/4; from 0.4: 1/4; from 0.6: (5 + 1)/4; from 0.8: 5/4; nobody: 10/4.
  assert.deepEqual(steps, [
    { threshold: 0, cost: 0.5 },
    { threshold: 0.2, cost: 0.5 },
    { threshold: 0.2, cost: 0.25 },
    { threshold: 0.4, cost: 0.25 },
    { threshold: 0.4, cost: 1.5 },
    { threshold: 0.6, cost: 1.5 },
    { threshold: 0.6, cost: 1.25 },
    { threshold: 0.8, cost: 1.25 },
    { threshold: 0.8, cost: 2.5 },
    { threshold: 1, cost: 2.5 },
  ]);
});

Deno.test("groupBadRateScores and expectedCostStandardError", () => {
  assert.deepEqual(Array.from(groupBadRateScores(["a", "a", "b", "b"], [1, 0, 0, 0])), [0.5, 0.5, 0, 0]);
  // Declining both bad rows and approving both good rows: every row costs 0, so no spread.
  close(expectedCostStandardError([1, 0, 1, 0], [0.9, 0.1, 0.9, 0.1], 0.5), 0);
  // Row costs 5, 0, 0, 1: mean 1.5, squared deviations sum to 17 → se = √(17 / 3) / √4.
  close(expectedCostStandardError([1, 0, 1, 0], [0.1, 0.1, 0.9, 0.9], 0.5), Math.sqrt(17 / 3) / 2);
});

Deno.test("parseCsv and parseTrials read what tracking writes", () => {
  assert.deepEqual(parseCsv('a,b\n1,"x, ""y"""\n2,\n'), [{ a: "1", b: 'x, "y"' }, { a: "2", b: "" }]);
  const trials = parseTrials(
    "number,state,value,duration_ms,nEstimators,maxDepth,maxFeatures,limitDepth,error\n" +
      "0,complete,0.5,10,100,5,sqrt,true,\n" +
      "1,pruned,0.45,5,200,,0.35,false,\n" +
      "2,failed,,1,150,8,log2,true,boom\n",
  );
  assert.deepEqual(trials[0], {
    number: 0,
    state: "complete",
    value: 0.5,
    durationMs: 10,
    params: { nEstimators: 100, maxDepth: 5, maxFeatures: "sqrt", limitDepth: "true" },
  });
  assert.deepEqual(trials[1].params, { nEstimators: 200, maxFeatures: "0.35", limitDepth: "false" });
  assert.equal(trials[2].value, null);
});

Deno.test("hyperparameterEffects: rank correlation for numbers, mean per level for choices", () => {
  const trials = parseTrials(
    "number,state,value,duration_ms,depth,criterion\n" +
      "0,complete,0.6,1,2,gini\n1,complete,0.5,1,4,gini\n2,complete,0.4,1,8,entropy\n3,pruned,0.1,1,1,gini\n",
  );
  const [depth, criterion] = hyperparameterEffects(trials, "minimize");
  close(depth.spearman!, -1);
  assert.equal(depth.trials, 3);
  assert.equal(depth.best, 8);
  assert.equal(criterion.spearman, null);
  assert.deepEqual(criterion.levels.map((l) => [l.level, l.trials]), [["entropy", 1], ["gini", 2]]);
  close(criterion.levels[1].mean, 0.55);
});

Deno.test("importanceByAttribute and featureLabel map one-hot columns to attributes", () => {
  const summed = importanceByAttribute([
    { name: "checking_status=A11", importance: 0.2 },
    { name: "duration", importance: 0.3 },
    { name: "checking_status=A14", importance: 0.25 },
  ]);
  assert.deepEqual(summed.map((s) => s.name), ["checking_status", "duration"]);
  close(summed[0].importance, 0.45);
  assert.equal(featureLabel("checking_status=A14"), "Checking account: No checking account");
  assert.equal(featureLabel("duration"), "Duration");
  assert.equal(featureLabel("monthly_instalment"), "monthly_instalment");
});

Deno.test("htmlTable escapes text and right-aligns numbers", () => {
  const table = htmlTable([{ name: "<b>&", n: 3 }], [
    { header: "name", cell: (r) => r.name },
    { header: "n", cell: (r) => r.n },
  ], { caption: 'a "caption"' });
  assert.match(table, /<caption>a &quot;caption&quot;<\/caption>/);
  assert.match(table, /<td style="text-align:left">&lt;b&gt;&amp;<\/td><td style="text-align:right">3<\/td>/);
  assert.equal(escapeHtml(`'`), "&#39;");
});

Deno.test("on the German credit data: a clean table and the published information values", async () => {
  const { frame, bad } = await loadCreditTable();
  const quality = qualityReport(frame);
  assert.equal(quality.rows, 1000);
  assert.equal(quality.missingValues, 0);
  assert.equal(quality.duplicateRows, 0);
  assert.ok(quality.attributes.every((a) => a.withinSchema));
  assert.deepEqual(
    quality.attributes.filter((a) => a.unusedCodes.length).map((a) => [a.name, a.unusedCodes]),
    [["purpose", ["A47"]], ["personal_status", ["A95"]]],
  );
  const ivs = attributeInformationValues(frame, bad!);
  const iv = (name: string) => ivs.find((v) => v.name === name)!;
  // The values credit-scoring texts report for the categorical attributes of this data set.
  close(iv("checking_status").iv, 0.666, 5e-4);
  close(iv("credit_history").iv, 0.2932, 5e-4);
  assert.equal(iv("checking_status").strength, "strong");
  assert.equal(iv("num_dependents").strength, "useless");
});
