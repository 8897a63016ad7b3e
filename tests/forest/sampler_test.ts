/**
 * The per-tree sampler's class index against its documentation: the rarer label is the minority
 * whichever it is, a tie makes label 1 the minority, and the rows keep their order.
 */
import assert from "node:assert/strict";
import { indexClasses } from "../../pipeline/forest/mod.ts";

Deno.test("indexClasses: the rarer label is the minority, label 0 or 1; a tie makes label 1 the minority", () => {
  const mostlyBad = Uint8Array.from([1, 1, 0, 1, 1, 0, 1]);
  assert.deepEqual(indexClasses(mostlyBad), {
    minority: Int32Array.from([2, 5]),
    majority: Int32Array.from([0, 1, 3, 4, 6]),
  });
  const mostlyGood = Uint8Array.from([0, 1, 0, 0]);
  assert.deepEqual(indexClasses(mostlyGood), {
    minority: Int32Array.from([1]),
    majority: Int32Array.from([0, 2, 3]),
  });
  const tie = Uint8Array.from([0, 1, 1, 0, 0, 1]);
  assert.deepEqual(indexClasses(tie), {
    minority: Int32Array.from([1, 2, 5]),
    majority: Int32Array.from([0, 3, 4]),
  });
});
