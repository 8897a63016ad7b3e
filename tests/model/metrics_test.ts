import assert from "node:assert/strict";
import {
  bestRecallThreshold,
  brierScore,
  classificationMetrics,
  confusionMatrix,
  costOptimalThreshold,
  expectedCost,
  gini,
  ksStatistic,
  metricsReport,
  prAuc,
  prCurve,
  rocAuc,
  rocCurve,
  thresholdSweep,
} from "../../pipeline/model/metrics.ts";
import { Random } from "../../pipeline/random.ts";

const close = (actual: number, expected: number, message?: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${message ?? ""} expected ${expected}, got ${actual}`);

// Bad scores 0.35, 0.8, 0.4; good scores 0.1, 0.4, 0.4 (a bad/good tie at 0.4).
const tiedLabels = [0, 0, 1, 1, 0, 1];
const tiedScores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4];

Deno.test("rocAuc counts tied bad/good pairs as one half", () => {
  // Pairs won by the bad row: 0.35 beats 0.1 (1); 0.8 beats all (3); 0.4 beats 0.1 and ties two 0.4s (2) → 6/9.
  close(rocAuc(tiedLabels, tiedScores), 2 / 3);
  close(gini(tiedLabels, tiedScores), 1 / 3);
});

Deno.test("rocAuc equals the brute-force pairwise statistic on tied random data", () => {
  const rng = new Random(9);
  const labels = Array.from({ length: 300 }, () => (rng.next() < 0.3 ? 1 : 0));
  const scores = labels.map((y) => Math.round((0.3 * y + rng.next()) * 20) / 20);
  let wins = 0, pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < labels.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  close(rocAuc(labels, scores), wins / pairs);
});

Deno.test("rocCurve collapses ties and ksStatistic is its largest TPR − FPR", () => {
  assert.deepEqual(rocCurve(tiedLabels, tiedScores), [
    { threshold: Infinity, fpr: 0, tpr: 0 },
    { threshold: 0.8, fpr: 0, tpr: 1 / 3 },
    { threshold: 0.4, fpr: 2 / 3, tpr: 2 / 3 },
    { threshold: 0.35, fpr: 2 / 3, tpr: 1 },
    { threshold: 0.1, fpr: 1, tpr: 1 },
  ]);
  close(ksStatistic(tiedLabels, tiedScores), 1 / 3);
});

Deno.test("prAuc is scikit-learn's average precision", () => {
  // Cuts 0.8, 0.4, 0.35, 0.1 give (recall, precision) (1/3, 1), (2/3, 2/4), (1, 3/5), (1, 3/6):
  // AP = 1/3·1 + 1/3·0.5 + 1/3·0.6 + 0·0.5 = 0.7.
  close(prAuc(tiedLabels, tiedScores), 0.7);
  assert.deepEqual(prCurve(tiedLabels, tiedScores)[0], { threshold: Infinity, precision: 1, recall: 0 });
  close(prAuc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]), (1 + 2 / 3) / 2);
});

Deno.test("brierScore is the mean squared error of the probabilities", () => {
  close(brierScore([0, 1, 1, 0], [0.1, 0.9, 0.4, 0.5]), (0.01 + 0.01 + 0.36 + 0.25) / 4);
});

const labels5 = [1, 1, 0, 0, 1];
const scores5 = [0.9, 0.2, 0.6, 0.1, 0.5];

Deno.test("confusionMatrix predicts bad when score >= threshold", () => {
  assert.deepEqual(confusionMatrix(labels5, scores5, 0.5), { tp: 2, fp: 1, tn: 1, fn: 1 });
  assert.deepEqual(confusionMatrix(labels5, scores5, 0.50001), { tp: 1, fp: 1, tn: 1, fn: 2 });
  assert.deepEqual(confusionMatrix(labels5, scores5, Infinity), { tp: 0, fp: 0, tn: 2, fn: 3 });
});

Deno.test("expectedCost charges 5 per missed bad and 1 per refused good, per row", () => {
  close(expectedCost(labels5, scores5, 0.5), (5 * 1 + 1 * 1) / 5);
  close(expectedCost(labels5, scores5, Infinity), 15 / 5);
  close(expectedCost(labels5, scores5, 0.5, { falseNegative: 2, falsePositive: 3 }), (2 + 3) / 5);
});

Deno.test("classificationMetrics matches hand-computed ratios", () => {
  const m = classificationMetrics(labels5, scores5, 0.5);
  close(m.recall_bad, 2 / 3);
  close(m.specificity, 1 / 2);
  close(m.precision, 2 / 3);
  close(m.accuracy, 3 / 5);
  close(m.balanced_accuracy, (2 / 3 + 1 / 2) / 2);
  close(m.f1, 2 / 3);
  close(m.f2, 2 / 3);
  close(m.cost, 6 / 5);
  // Precision 1/2, recall 1 → F1 = 2/3, F2 = 5·0.5/(4·0.5 + 1) = 5/6.
  const all = classificationMetrics([1, 0], [0.9, 0.8], 0.5);
  close(all.f1, 2 / 3);
  close(all.f2, 5 / 6);
  assert.equal(classificationMetrics([0, 0], [0.1, 0.2], 0.5).precision, 0, "no predicted bad → precision 0");
});

Deno.test("thresholdSweep agrees with brute-force evaluation at every cut", () => {
  for (const seed of [1, 2, 3]) {
    const rng = new Random(seed);
    const labels = Array.from({ length: 250 }, () => (rng.next() < 0.3 ? 1 : 0));
    const scores = labels.map((y) => Math.round((0.4 * y + rng.next()) * 30) / 30);
    const sweep = thresholdSweep(labels, scores);
    const distinct = [...new Set(scores)].sort((a, b) => a - b);
    assert.deepEqual(sweep.map((p) => p.threshold), [...distinct, Infinity]);
    for (const point of sweep) {
      const m = classificationMetrics(labels, scores, point.threshold);
      const { tp, fp, tn, fn } = confusionMatrix(labels, scores, point.threshold);
      assert.deepEqual({ tp: point.tp, fp: point.fp, tn: point.tn, fn: point.fn }, { tp, fp, tn, fn });
      close(point.cost, m.cost);
      close(point.recall_bad, m.recall_bad);
      close(point.specificity, m.specificity);
      close(point.accuracy, m.accuracy);
    }
  }
});

Deno.test("costOptimalThreshold reaches the brute-force minimum cost", () => {
  for (const seed of [4, 5, 6]) {
    const rng = new Random(seed);
    const labels = Array.from({ length: 200 }, () => (rng.next() < 0.3 ? 1 : 0));
    const scores = labels.map((y) => Math.round((0.3 * y + 0.8 * rng.next()) * 50) / 50);
    const candidates = [...new Set(scores), Infinity];
    const bruteMin = Math.min(...candidates.map((t) => expectedCost(labels, scores, t)));
    const { threshold, cost } = costOptimalThreshold(labels, scores);
    close(cost, bruteMin);
    close(expectedCost(labels, scores, threshold), bruteMin, "the returned threshold achieves it");
  }
});

Deno.test("costOptimalThreshold returns the midpoint of the tied range", () => {
  // Between 0.3 and 0.6 every threshold separates perfectly: midpoint 0.45.
  const perfect = costOptimalThreshold([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8]);
  close(perfect.threshold, 0.45);
  assert.equal(perfect.cost, 0);
  // Unit costs: cuts 0.6 (one FP) and 0.8 (one FN) tie, so any threshold in (0.2, 0.8] is optimal.
  const unit = { falseNegative: 1, falsePositive: 1 };
  const tie = costOptimalThreshold([0, 0, 1, 0, 1, 1], [0.1, 0.2, 0.6, 0.6, 0.8, 0.9], unit);
  close(tie.threshold, 0.5);
  close(tie.cost, 1 / 6);
  // Declining everyone is cheapest; no data lies below the lowest score, so it is the threshold.
  assert.deepEqual(costOptimalThreshold([1, 1, 0], [0.1, 0.5, 0.9]), { threshold: 0.1, cost: 1 / 3 });
});

Deno.test("bestRecallThreshold maximises recall subject to minimum accuracy", () => {
  const labels = [0, 0, 1, 0, 0, 1, 1, 1];
  const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];
  const loose = bestRecallThreshold(labels, scores, { minAccuracy: 0.7 });
  assert.ok(loose);
  close(loose.threshold, 0.25);
  assert.equal(loose.recall_bad, 1);
  assert.equal(loose.accuracy, 0.75);
  const strict = bestRecallThreshold(labels, scores, { minAccuracy: 0.8 });
  assert.ok(strict);
  close(strict.threshold, 0.55);
  assert.equal(strict.recall_bad, 0.75);
  assert.equal(bestRecallThreshold(labels, scores, { minAccuracy: 0.95 }), null);
});

Deno.test("metricsReport gathers every metric under snake_case keys", () => {
  const report = metricsReport(tiedLabels, tiedScores, 0.4);
  assert.deepEqual(Object.keys(report).sort(), [
    "accuracy",
    "balanced_accuracy",
    "brier",
    "confusion",
    "cost",
    "f1",
    "f2",
    "gini",
    "ks",
    "pr_auc",
    "precision",
    "recall_bad",
    "roc_auc",
    "specificity",
    "threshold",
  ]);
  close(report.roc_auc, 2 / 3);
  close(report.pr_auc, 0.7);
  close(report.ks, 1 / 3);
  close(report.gini, 1 / 3);
  close(report.brier, brierScore(tiedLabels, tiedScores));
  assert.deepEqual(report.confusion, { tp: 2, fp: 2, tn: 1, fn: 1 });
  close(report.cost, (5 * 1 + 2) / 6);
  assert.equal(report.threshold, 0.4);
});

Deno.test("metrics reject malformed input", () => {
  assert.throws(() => rocAuc([0, 1], [0.5]), /differ in length: 2 vs 1/);
  assert.throws(() => confusionMatrix([0, 2], [0.1, 0.2], 0.5), /labels\[1\] must be 0 or 1/);
  assert.throws(() => brierScore([], []), /must not be empty/);
  assert.throws(() => rocAuc([1, 1], [0.1, 0.2]), /both classes/);
  assert.throws(() => prAuc([0, 0], [0.1, 0.2]), /at least one bad/);
  assert.throws(() => thresholdSweep([0, 1], [0.1, NaN]), /scores\[1\] must be a finite number/);
  assert.throws(
    () => expectedCost([0, 1], [0.1, 0.2], 0.5, { falseNegative: -1, falsePositive: 1 }),
    /costs.falseNegative/,
  );
  assert.throws(() => confusionMatrix([0, 1], [0.1, 0.2], NaN), /threshold/);
  assert.throws(() => bestRecallThreshold([0, 1], [0.1, 0.2], { minAccuracy: 2 }), /minAccuracy/);
});
