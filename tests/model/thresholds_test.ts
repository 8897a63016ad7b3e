/**
 * costOptimalThreshold's documented choice among tied minima, against a brute force written from its
 * JSDoc: every distinct score (and "decline nobody") is a cut; the cheapest cuts form runs of
 * consecutive cuts; the longest run wins, then the lowest; the threshold is the midpoint of the
 * run's interval (its lowest cut's lower edge for a run starting at the lowest score).
 */
import assert from "node:assert/strict";
import { costOptimalThreshold, type Costs } from "../../pipeline/model/metrics.ts";
import { Random } from "../../pipeline/random.ts";

function bruteForce(labels: number[], scores: number[], costs: Costs): { threshold: number; cost: number } {
  const cuts = [...[...new Set(scores)].sort((a, b) => a - b), Infinity];
  const costAt = cuts.map((t) => {
    let total = 0;
    labels.forEach((l, i) => {
      const declined = scores[i] >= t;
      if (l === 1 && !declined) total += costs.falseNegative;
      if (l === 0 && declined) total += costs.falsePositive;
    });
    return total / labels.length;
  });
  const min = Math.min(...costAt);
  const minimal = costAt.map((c) => c <= min + 1e-12);
  const runs: [number, number][] = [];
  for (let i = 0; i < cuts.length; i++) {
    if (!minimal[i]) continue;
    let j = i;
    while (j + 1 < cuts.length && minimal[j + 1]) j++;
    runs.push([i, j]);
    i = j;
  }
  runs.sort((a, b) => (b[1] - b[0]) - (a[1] - a[0]) || a[0] - b[0]);
  const [start, end] = runs[0];
  const upper = cuts[end];
  const lower = start === 0 ? cuts[0] : cuts[start - 1];
  return { threshold: upper === Infinity ? Infinity : (lower + upper) / 2, cost: min };
}

Deno.test("two equally long cheapest runs: the lower one, at the midpoint below its cut", () => {
  // Unit costs; cuts 0.1 … 0.4 cost 0.5, 0.25, 0.5, 0.25 and "decline nobody" 0.5.
  const result = costOptimalThreshold([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], {
    falseNegative: 1,
    falsePositive: 1,
  });
  assert.equal(result.cost, 0.25);
  assert.equal(result.threshold, (0.1 + 0.2) / 2);
});

Deno.test("costOptimalThreshold equals the documented brute force on random tied data", () => {
  const rng = new Random(77);
  for (let sample = 0; sample < 300; sample++) {
    const n = 3 + rng.int(12);
    const labels = Array.from({ length: n }, () => (rng.next() < 0.4 ? 1 : 0));
    const scores = Array.from({ length: n }, () => rng.int(6) / 5);
    const costs =
      [{ falseNegative: 5, falsePositive: 1 }, { falseNegative: 1, falsePositive: 1 }][sample % 2];
    assert.deepEqual(
      costOptimalThreshold(labels, scores, costs),
      bruteForce(labels, scores, costs),
      `${labels} / ${scores}`,
    );
  }
});
