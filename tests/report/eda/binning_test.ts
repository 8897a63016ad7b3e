/** Value and quantile bins of numeric variables, and the counts per bin. */

import assert from "node:assert/strict";
import { countsByBin, numericBinning } from "../../../pipeline/report/eda/binning.ts";
import { binIndex } from "../../../pipeline/stats.ts";

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
