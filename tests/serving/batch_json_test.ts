/**
 * The streamed JSON array splitter against `JSON.parse` of the whole text: for any text cut into
 * any pieces it accepts exactly the JSON arrays, with the same elements, and tells malformed JSON
 * from other values; the row cap is enforced on the element past it.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { TooManyRowsError } from "../../pipeline/serving/batch.ts";
import { JsonBatchError, MAX_JSON_ROW_CHARS, readJsonArray } from "../../pipeline/serving/batch_json.ts";

async function* pieces(text: string, sizes: number[]): AsyncGenerator<string> {
  for (let at = 0, k = 0; at < text.length; k++) {
    const size = sizes[k % sizes.length];
    yield text.slice(at, at + size);
    at += size;
  }
}

/** The verdict of `JSON.parse` on the whole text, in the splitter's terms. */
function oracle(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "malformed";
  }
  return Array.isArray(value) ? JSON.stringify(value) : "not_array";
}

async function verdict(text: string, sizes: number[], maxRows = 1_000): Promise<string> {
  try {
    return JSON.stringify(await readJsonArray(pieces(text, sizes), maxRows));
  } catch (error) {
    if (error instanceof JsonBatchError) return error.kind;
    throw error;
  }
}

/** JSON texts, some valid arrays, some mutated into near misses (a character dropped, doubled or swapped in). */
const texts = fc.oneof(
  fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 6 }).map((v) => JSON.stringify(v, null, 1)),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.tuple(
    fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }).map((v) => JSON.stringify(v)),
    fc.nat(),
    fc.constantFrom("", "[", "]", "{", "}", ",", '"', "\\", " ", "x", "1"),
    fc.boolean(),
  ).map(([text, at, c, replace]) => {
    const i = text.length ? at % text.length : 0;
    return text.slice(0, i) + c + text.slice(replace ? i + 1 : i);
  }),
);

Deno.test("the splitter agrees with JSON.parse of the whole text, for any pieces", async () => {
  await fc.assert(
    fc.asyncProperty(
      texts,
      fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
      async (text, sizes) => {
        assert.equal(await verdict(text, sizes), oracle(text));
      },
    ),
    { numRuns: 2_000 },
  );
  for (
    const text of [
      "",
      " ",
      "[",
      "[]",
      "[1,]",
      "[,1]",
      "[1 2]",
      "[{]}]",
      "[1]x",
      '["]"]',
      "[1]\n",
      "\ufeff[1]",
    ]
  ) {
    assert.equal(await verdict(text, [1]), oracle(text), JSON.stringify(text));
  }
});

Deno.test("the row cap is enforced on the element past it; an oversized element is refused naming its row", async () => {
  await assert.rejects(() => readJsonArray(pieces("[1,2,3,", [2]), 2), TooManyRowsError);
  assert.deepEqual(await readJsonArray(pieces("[1,2]", [2]), 2), [1, 2]);
  const long = JSON.stringify([{ a: 1 }, { note: "x".repeat(MAX_JSON_ROW_CHARS) }]);
  await assert.rejects(
    () => readJsonArray(pieces(long, [100]), 10),
    (error: JsonBatchError) => error.kind === "row_too_long" && error.row === 2,
  );
});
