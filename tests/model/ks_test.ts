/**
 * The Kolmogorov–Smirnov statistic by its definition, max over cuts of TPR − FPR (signed: a score
 * that ranks bads below goods has KS 0, not a large value), computed here by brute force.
 */
import assert from "node:assert/strict";
import { ksStatistic } from "../../pipeline/model/metrics.ts";
import { Random } from "../../pipeline/random.ts";

function bruteKs(labels: number[], scores: number[]): number {
  const bads = labels.filter((l) => l === 1).length, goods = labels.length - bads;
  let best = 0;
  for (const t of [...new Set(scores), Infinity]) {
    const tpr = labels.filter((l, i) => l === 1 && scores[i] >= t).length / bads;
    const fpr = labels.filter((l, i) => l === 0 && scores[i] >= t).length / goods;
    best = Math.max(best, tpr - fpr);
  }
  return best;
}

Deno.test("KS of a perfect score is 1, of a perfectly inverted score 0", () => {
  assert.equal(ksStatistic([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
  assert.equal(ksStatistic([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]), 0);
});

Deno.test("KS equals the brute-force maximum of TPR − FPR on random tied data", () => {
  const rng = new Random(5);
  for (let sample = 0; sample < 200; sample++) {
    const n = 4 + rng.int(20);
    const labels = Array.from({ length: n }, (_, i) => (i < 2 ? i : rng.next() < 0.4 ? 1 : 0));
    const scores = labels.map((l) => Math.round((rng.next() + (sample % 3 - 1) * 0.3 * l) * 8) / 8);
    assert.ok(
      Math.abs(ksStatistic(labels, scores) - bruteKs(labels, scores)) < 1e-12,
      `${labels} / ${scores}`,
    );
  }
});
