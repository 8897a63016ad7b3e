/** Data-quality checks on the German credit data. */

import assert from "node:assert/strict";
import { qualityReport } from "../../../pipeline/report/eda/quality.ts";
import { loadCreditTable } from "../../../pipeline/data/etl.ts";

Deno.test("on the German credit data: a clean table", async () => {
  const { frame } = await loadCreditTable();
  const quality = qualityReport(frame);
  assert.equal(quality.rows, 1000);
  assert.equal(quality.missingValues, 0);
  assert.equal(quality.duplicateRows, 0);
  assert.ok(quality.attributes.every((a) => a.withinSchema));
  assert.deepEqual(
    quality.attributes.filter((a) => a.unusedCodes.length).map((a) => [a.name, a.unusedCodes]),
    [["purpose", ["A47"]], ["personal_status", ["A95"]]],
  );
});
