/**
 * The objectives and the decision threshold against hand-worked values: the cost threshold is the
 * raw score whose calibrated PD is the Bayes cut 1/6 of the 5:1 cost matrix (data/README.md), on a
 * sample whose Platt fit has a closed form; the objective values are recomputed here by brute force.
 */
import assert from "node:assert/strict";
import { costThreshold, objectiveDirection, scoreObjective } from "../../pipeline/model/objective.ts";

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

// Three bads at 0.9 and five goods at 0.3: Platt's targets 4/5 and 1/7 are met exactly, so
// a = ln24 / ln21 and b = ln4 − a·ln9 (see platt_test.ts).
const LABELS = [1, 1, 1, 0, 0, 0, 0, 0];
const SCORES = [0.9, 0.9, 0.9, 0.3, 0.3, 0.3, 0.3, 0.3];
const A = Math.log(24) / Math.log(21);
const B = Math.log(4) - A * Math.log(9);

/** The cost per applicant under the 5:1 matrix, declining when score ≥ threshold. */
function cost(labels: number[], scores: number[], threshold: number): number {
  let total = 0;
  labels.forEach((l, i) => {
    const declined = scores[i] >= threshold;
    total += l === 1 && !declined ? 5 : l === 0 && declined ? 1 : 0;
  });
  return total / labels.length;
}

Deno.test("the cost threshold is the raw score whose calibrated PD is 1/6 (decline when 5·PD ≥ 1 − PD)", () => {
  const expected = sigmoid((logit(1 / 6) - B) / A);
  const threshold = costThreshold(LABELS, SCORES);
  assert.ok(Math.abs(threshold - expected) < 1e-9, `${threshold} vs ${expected}`);
  assert.ok(Math.abs(sigmoid(A * logit(threshold) + B) - 1 / 6) < 1e-9, "PD at the threshold is 1/6");
  // 0.3 calibrates to PD 1/7 < 1/6: the goods are approved, the bads declined.
  assert.ok(threshold > 0.3 && threshold < 0.9, String(threshold));
});

Deno.test("scoreObjective: cost at the cost threshold, AUC by pairs, recall under the accuracy floor", () => {
  const labels = [1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0];
  const scores = [0.9, 0.2, 0.7, 0.4, 0.5, 0.1, 0.3, 0.35, 0.25, 0.05, 0.6, 0.15];
  const threshold = costThreshold(labels, scores);

  const byCost = scoreObjective("cost", labels, scores, 0.7);
  assert.equal(byCost.threshold, threshold);
  assert.equal(byCost.value, cost(labels, scores, threshold));

  let wins = 0, pairs = 0;
  labels.forEach((li, i) =>
    labels.forEach((lj, j) => {
      if (li === 1 && lj === 0) {
        (pairs++, wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0);
      }
    })
  );
  const byAuc = scoreObjective("auc", labels, scores, 0.7);
  assert.equal(byAuc.value, wins / pairs);
  assert.equal(byAuc.threshold, threshold, "AUC has no threshold of its own: it takes the cost one");

  // Brute force over every cut: the best recall among cuts with accuracy ≥ 0.7.
  let bestRecall = -1;
  for (const t of [...new Set(scores), Infinity]) {
    const declined = scores.map((s) => s >= t);
    const correct = labels.filter((l, i) => (l === 1) === declined[i]).length;
    const caught = labels.filter((l, i) => l === 1 && declined[i]).length;
    if (correct / labels.length >= 0.7) bestRecall = Math.max(bestRecall, caught / 4);
  }
  const byRecall = scoreObjective("recall", labels, scores, 0.7);
  assert.equal(byRecall.value, bestRecall);
  const declined = scores.map((s) => s >= byRecall.threshold);
  assert.ok(labels.filter((l, i) => (l === 1) === declined[i]).length / labels.length >= 0.7);
  assert.deepEqual(
    scoreObjective("recall", labels, scores, 1),
    { value: 0, threshold: 0.5 },
    "no cut reaches 100 %",
  );
});

Deno.test("a fold with one class falls back to the empirical threshold: all good approves everyone", () => {
  assert.equal(costThreshold([0, 0, 0], [0.2, 0.5, 0.9]), 1);
});

Deno.test("objective directions: cost is minimised, AUC and recall maximised", () => {
  assert.equal(objectiveDirection("cost"), "minimize");
  assert.equal(objectiveDirection("auc"), "maximize");
  assert.equal(objectiveDirection("recall"), "maximize");
});
