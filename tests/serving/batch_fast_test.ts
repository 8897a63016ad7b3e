/**
 * The fast path of batch CSV parsing against the ETL it bypasses: on every chunk it accepts, the
 * matrix and ids are exactly those of the ETL + `transformFrame`; it refuses (null) whatever the
 * ETL would reject or treat specially, so those chunks keep the ETL's behaviour. Random chunks mix
 * valid rows with near misses: boundary numbers, padded cells, quotes, codes of other attributes.
 * The byte path the batch workers run is checked against the text path on every chunk.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseChunk } from "../../pipeline/serving/batch.ts";
import {
  codeTable,
  encodeCleanBytes,
  encodeCleanChunk,
  encodingPlan,
  type FastChunk,
  headerLayout,
} from "../../pipeline/serving/batch_fast.ts";
import { ATTRIBUTES } from "../../pipeline/data/schema.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanCsv, trainFixtureModel } from "../fixtures.ts";
import { afterAllTests } from "../temp.ts";
import { slow } from "../scope.ts";

const fixture = await trainFixtureModel({ nEstimators: 5 });
afterAllTests(() => fixture.cleanup());
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const serving = holder.current!;
const encoder = serving.model.encoder;
/** The byte path's compiled encoder: it must exist for the default encoder, and match transformOne. */
const plan = encodingPlan(encoder);

Deno.test("the byte path's compiled plan exists for the encoder, and none for one it cannot reproduce", () => {
  assert.ok(plan !== null);
  // An encoder whose transformOne mixes a code into a number's column is not understood: no plan.
  const twisted = Object.create(encoder) as typeof encoder;
  twisted.transformOne = (applicant, out) => {
    const row = encoder.transformOne(applicant, out);
    if (applicant.checking_status === "A12") row[plan!.numberColumn[1]] += 1;
    return row;
  };
  assert.equal(encodingPlan(twisted), null);
});

// The schema's codes (at most 10 an attribute, 3–4 ASCII bytes each) never reach codeTable's
// refusals, so they are checked on made-up lists. Catches a table that takes a code the byte loop
// cannot key (every unkeyed cell, e.g. a 7-byte one, would then match it), a limit off by one (a
// full table makes a missing code's probe endless), and a table that loses or repeats a code when
// keys collide. A refusal leaves the encoder without a plan: the byte path then runs `transformOne`
// per row, which checkBytes compares with the text path and the ETL on every chunk (plan null).
Deno.test("codeTable: up to 32 codes of 1–6 ASCII bytes, each in one slot; anything else, no table", () => {
  const codes = (n: number) => Array.from({ length: n }, (_, i) => `A${i + 10}`);
  for (const list of [codes(1), codes(32), ["A", "ABCDEF", "~", "A11", "A111", "A1"]]) {
    const table = codeTable(list);
    assert.ok(table, JSON.stringify(list));
    const filled = [...table.index.keys()].filter((h) => table.index[h] >= 0);
    // Each code's index exactly once, and a key beside every filled slot only.
    assert.deepEqual(filled.map((h) => table.index[h]).sort((a, b) => a - b), list.map((_, k) => k));
    for (let h = 0; h < table.keys.length; h++) assert.equal(table.keys[h] !== 0, table.index[h] >= 0);
    assert.equal(new Set(filled.map((h) => table.keys[h])).size, list.length, "distinct keys");
  }
  assert.equal(codeTable(codes(33)), null, "more than half of 64 slots");
  for (const bad of ["ABCDEFG", "", "Ä1", "A\u{1F600}"]) {
    assert.equal(codeTable(["A11", bad]), null, JSON.stringify(bad));
  }
  // The schema itself fits: the reason the plan exists (previous test).
  for (const a of ATTRIBUTES) {
    if (a.kind !== "numeric") assert.ok(codeTable(a.codes.map((c) => c.code)), a.name);
  }
});

/** The ETL's verdict: the chunk parsed whole with the fast path off. */
function viaEtl(header: string, lines: string[]) {
  const columns = header.split(",").map((c) => c.trim());
  return parseChunk(serving, header, columns, lines.join("\n"), 0, lines.length, "test", { fast: false });
}

function check(header: string, lines: string[]): "fast" | "etl" {
  const columns = header.split(",").map((c) => c.trim());
  const fast = encodeCleanChunk(encoder, header, columns, lines);
  checkBytes(header, columns, lines, fast);
  if (!fast) return "etl";
  const etl = viaEtl(header, lines);
  assert.equal(
    etl.errors.length,
    0,
    `the fast path accepted what the ETL rejects: ${JSON.stringify(etl.errors[0])}`,
  );
  assert.equal(etl.kept, null);
  assert.deepEqual(fast.matrix.data, etl.matrix!.data);
  assert.deepEqual(fast.ids, etl.ids);
  return "fast";
}

/**
 * The workers' byte path against the text path: it accepts a subset (all of it for ASCII text),
 * with the same matrix and ids, whether the chunk's last line ends with LF or not.
 */
function checkBytes(header: string, columns: string[], lines: string[], text: FastChunk | null): void {
  const layout = headerLayout(header, columns);
  // deno-lint-ignore no-control-regex
  const ascii = /^[\x00-\x7f]*$/.test(lines.join("\n"));
  for (const end of ["\n", ""]) {
    const bytes = new TextEncoder().encode(lines.join("\n") + end);
    for (const compiled of [null, plan]) {
      // A dirty scratch array: the plan must write every cell of every row.
      const scratch = new Float64Array(lines.length * encoder.nFeatures).fill(NaN);
      const spans = new Int32Array(2 * lines.length);
      const fast = layout
        ? encodeCleanBytes(encoder, layout, bytes, lines.length, { scratch, plan: compiled })
        : null;
      const spanned = layout
        ? encodeCleanBytes(encoder, layout, bytes, lines.length, { plan: compiled, idSpans: spans })
        : null;
      assert.equal(spanned === null, fast === null);
      if (fast === null) {
        assert.ok(text === null || !ascii, "the byte path refused an ASCII chunk the text path takes");
        continue;
      }
      assert.ok(text !== null, "the byte path took a chunk the text path refuses");
      assert.deepEqual(fast.matrix, text.matrix, compiled ? "with the compiled plan" : "with transformOne");
      assert.deepEqual(fast.ids, text.ids);
      // Id spans instead of strings: the same ids, read from the bytes.
      const decoder = new TextDecoder();
      const fromSpans = text.ids?.map((_, r) =>
        decoder.decode(bytes.subarray(spans[2 * r], spans[2 * r + 1]))
      );
      assert.deepEqual(spanned!.ids, null);
      if (text.ids) assert.deepEqual(fromSpans, text.ids);
    }
  }
}

Deno.test("german.data: the fast path takes it, with the ETL's matrix and ids", async () => {
  const [header, ...lines] = (await germanCsv({ ids: true })).trimEnd().split("\n");
  assert.equal(check(header, lines), "fast");
  const plain = (await germanCsv()).trimEnd().split("\n");
  assert.equal(check(plain[0], plain.slice(1)), "fast");
  // A reordered header is fine; CRLF line ends are trimmed as the ETL trims them.
  const columns = header.split(",");
  const order = columns.map((_, i) => i).reverse();
  const reordered = lines.map((l) => order.map((i) => l.split(",")[i]).join(",") + "\r");
  assert.equal(check(order.map((i) => columns[i]).join(","), reordered), "fast");
});

Deno.test("chunks the fast path must leave to the ETL", async () => {
  const [header, ...lines] = (await germanCsv({ ids: true })).trimEnd().split("\n");
  const some = lines.slice(0, 5);
  const variants: [string, string[]][] = [
    [header + ",class", some.map((l) => l + ",1")],
    [header.replace("id,", "identifier,"), some],
    [header, [...some.slice(0, 4), ""]],
    [header, [...some.slice(0, 4), some[4].replace(/^([^,]*)/, '"$1"')]],
    [header, [...some.slice(0, 4), some[4].replace(/^/, " ")]],
    [header, [...some.slice(0, 4), some[4].replace(/,A201$/, ", A201")]],
    [header, [...some.slice(0, 4), some[4] + ",extra"]],
  ];
  variants.forEach(([h, ls], i) => assert.equal(check(h, ls), "etl", `variant ${i}`));
});

Deno.test(
  "random chunks: whatever the fast path accepts, the ETL accepts with the same numbers",
  slow,
  async () => {
    const [header, ...lines] = (await germanCsv({ ids: true })).trimEnd().split("\n");
    const columns = header.split(",");
    const cellOf = (name: string): fc.Arbitrary<string> => {
      const a = ATTRIBUTES.find((x) => x.name === name);
      if (!a) return fc.oneof(fc.string({ maxLength: 6 }), fc.constant("x y"), fc.constant(""));
      if (a.kind === "numeric") {
        return fc.oneof(
          fc.integer({ min: a.min, max: a.max }).map(String),
          fc.constantFrom(a.min - 1, a.max + 1, a.min, a.max).map(String),
          fc.constantFrom("007", "1.0", "+5", " 12", "1e2", "-0", ""),
        );
      }
      const others = ATTRIBUTES.flatMap((x) => x.kind === "numeric" ? [] : x.codes.map((c) => c.code));
      return fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...a.codes.map((c) => c.code)) },
        { weight: 1, arbitrary: fc.constantFrom(...others) },
      );
    };
    const row = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...lines) },
      { weight: 2, arbitrary: fc.tuple(...columns.map(cellOf)).map((cells) => cells.join(",")) },
    );
    let fast = 0;
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 4 }), (chunk) => {
        if (check(header, chunk) === "fast") fast++;
      }),
      { numRuns: 400 },
    );
    assert.ok(fast > 50, `only ${fast} of 400 chunks took the fast path`);
  },
);

Deno.test("the byte path's code tables: a cell whose key equals a code's in its low 32 bits is no code", async () => {
  // "x0\x01A11" has codeKey ≡ codeKey("A11") (mod 2³²): a table that keeps or hashes keys as 32-bit
  // integers without comparing them whole would take it for checking_status A11.
  const [header, ...lines] = (await germanCsv({ ids: true })).trimEnd().split("\n");
  const columns = header.split(",");
  const at = columns.indexOf("checking_status");
  const layout = headerLayout(header, columns)!;
  const encode = (line: string) => {
    const bytes = new TextEncoder().encode(line + "\n");
    return encodeCleanBytes(encoder, layout, bytes, 1, { plan });
  };
  const cells = lines[0].split(",");
  assert.equal(cells[at], "A11");
  assert.ok(encode(cells.join(",")), "the row itself is taken");
  for (const impostor of ["x0\x01A11", "A111", "A1", "A14 ", "A12A11", "A201"]) {
    cells[at] = impostor;
    assert.equal(encode(cells.join(",")), null, JSON.stringify(impostor));
  }
});
