/** Generated applicants: valid by the schema's own validator, reproducible, and covering every code and range. */

import assert from "node:assert/strict";
import { sampleApplicants } from "../../pipeline/export/sample.ts";
import { ATTRIBUTES, isCategorical, validateApplicant } from "../../pipeline/data/schema.ts";

Deno.test("generated applicants pass the API's validation, and a seed reproduces them", () => {
  const rows = sampleApplicants(20_000, 16);
  assert.equal(rows.length, 20_000);
  for (const row of rows) assert.equal(validateApplicant(row).ok, true, JSON.stringify(row));
  assert.deepEqual(sampleApplicants(50, 16), rows.slice(0, 50));
  assert.notDeepEqual(sampleApplicants(50, 17), rows.slice(0, 50));
  assert.deepEqual(sampleApplicants(0, 1), []);
  assert.throws(() => sampleApplicants(-1, 1), RangeError);
});

Deno.test("every code appears, and numbers reach both ends of their accepted ranges", () => {
  const rows = sampleApplicants(20_000, 16);
  for (const a of ATTRIBUTES) {
    const values = rows.map((r) => r[a.name]);
    if (isCategorical(a)) {
      assert.deepEqual(new Set(values), new Set(a.codes.map((c) => c.code)), a.name);
    } else {
      const numbers = values as number[];
      assert.equal(Math.min(...numbers), a.min, `${a.name} min`);
      // The log-uniform credit amount reaches its top decade but not necessarily 1,000,000 itself.
      const top = a.max / a.min > 1000 ? a.max / 10 : a.max;
      assert.ok(Math.max(...numbers) >= top, `${a.name} max ${Math.max(...numbers)}`);
    }
  }
});
