/**
 * Raw lines with the wrong number of fields, too few or too many, are reported with their line and
 * both counts: the raw format has exactly 21 space-separated fields (data/README.md).
 */
import assert from "node:assert/strict";
import { DataError, parseCreditText } from "../../pipeline/data/etl.ts";

const FIRST = "A11 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1";

function problemsOf(text: string): string[] {
  try {
    parseCreditText(text, { format: "raw", source: "x.data" });
  } catch (error) {
    assert.ok(error instanceof DataError);
    return error.problems.map((p) => `line ${p.line}: ${p.message}`);
  }
  return [];
}

Deno.test("22 fields, 20 fields and 21 fields: only the wrong ones are named, with the count found", () => {
  assert.deepEqual(problemsOf([FIRST, `${FIRST} 1`, FIRST.replace(/ 1$/, ""), FIRST].join("\n") + "\n"), [
    "line 2: expected 21 fields separated by spaces, found 22",
    "line 3: expected 21 fields separated by spaces, found 20",
  ]);
  assert.deepEqual(problemsOf(FIRST + "\n"), []);
});
