/**
 * The train/test split's counts against its documented rule, for many sizes: the test part holds
 * ceil(testSize · n) rows (scikit-learn's rule), and each class gets the floor of its share plus one
 * leftover row in order of largest remainder (ties: larger class, then smaller label).
 */
import assert from "node:assert/strict";
import { stratifiedTrainTestSplit } from "../../pipeline/data/split.ts";

function expectedTestCounts(classSizes: number[], testSize: number): number[] {
  const n = classSizes.reduce((a, b) => a + b, 0);
  const nTest = Math.ceil(testSize * n - 1e-9);
  const exact = classSizes.map((s) => (s * nTest) / n);
  const counts = exact.map(Math.floor);
  const order = classSizes.map((_, c) => c).sort((a, b) =>
    (exact[b] - counts[b]) - (exact[a] - counts[a]) || classSizes[b] - classSizes[a] || a - b
  );
  for (let k = 0, left = nTest - counts.reduce((a, b) => a + b, 0); k < left; k++) counts[order[k]]++;
  return counts;
}

Deno.test("test part of ceil(testSize · n) rows, per class by largest remainder, for n = 6 … 60", () => {
  let checked = 0;
  for (let n = 6; n <= 60; n++) {
    for (const testSize of [0.1, 0.2, 0.25, 0.3, 0.45]) {
      const bad = Math.max(2, Math.round(n * 0.3));
      const y = Array.from({ length: n }, (_, i) => (i < bad ? 1 : 0));
      const expected = expectedTestCounts([n - bad, bad], testSize);
      if (expected.some((c, k) => c === 0 || c === [n - bad, bad][k])) continue; // refused by design
      const { test } = stratifiedTrainTestSplit(y, { testSize, seed: n });
      const counts = [0, 1].map((label) => Array.from(test).filter((i) => y[i] === label).length);
      assert.deepEqual(counts, expected, `n = ${n}, testSize = ${testSize}`);
      checked++;
    }
  }
  assert.ok(checked > 200, `${checked} cases checked`);
  // The case that tells ceil from rounding: 0.2 · 11 = 2.2 → 3 test rows.
  assert.equal(
    stratifiedTrainTestSplit([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1], { testSize: 0.2, seed: 1 }).test.length,
    3,
  );
});
