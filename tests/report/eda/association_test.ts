/** Association measures against hand-computed χ², Cramér's V and correlations. */

import assert from "node:assert/strict";
import {
  averageRanks,
  chiSquared,
  contingencyTable,
  correlationMatrix,
  cramersV,
  cramersVMatrix,
  pearson,
  spearman,
} from "../../../pipeline/report/eda/association.ts";
import { close } from "./close.ts";

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
