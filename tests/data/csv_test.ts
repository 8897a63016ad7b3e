/**
 * The CSV dialect against hand-written expected values; the writer and the reader as inverses;
 * the stream reader cut at every byte position (inside quotes, between the quotes of `""`, between
 * CR and LF, inside a multi-byte character) giving the same records and line numbers as whole text.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  countCsvFields,
  csvCell,
  CsvError,
  csvField,
  type CsvRow,
  parseCsv,
  parseCsvRows,
  readCsvRecords,
  readCsvRows,
  splitCsvLine,
  toCsv,
} from "../../pipeline/data/csv.ts";

Deno.test("splitCsvLine: commas outside quotes, quotes removed, doubled quotes kept once", () => {
  assert.deepEqual(splitCsvLine("a,b,c"), ["a", "b", "c"]);
  assert.deepEqual(splitCsvLine(""), [""]);
  assert.deepEqual(splitCsvLine(",,"), ["", "", ""]);
  assert.deepEqual(splitCsvLine('"a,b",c'), ["a,b", "c"]);
  assert.deepEqual(splitCsvLine('"say ""hi""",x'), ['say "hi"', "x"]);
  assert.deepEqual(splitCsvLine('""'), [""]);
  assert.deepEqual(splitCsvLine('"",""'), ["", ""]);
  // The dialect's leniencies: a quote toggles quoting mid-field; an open quote closes at the end.
  assert.deepEqual(splitCsvLine('a"b,c"d,e'), ["ab,cd", "e"]);
  assert.deepEqual(splitCsvLine('x,"open, never closed'), ["x", "open, never closed"]);
  // One line: CR and LF are ordinary characters here (the caller has already cut its lines).
  assert.deepEqual(splitCsvLine('a\rb,"c\nd"'), ["a\rb", "c\nd"]);
  assert.equal(countCsvFields("a,b,c"), 3);
  assert.equal(countCsvFields('"a,b",c'), 2);
  assert.equal(countCsvFields(""), 1);
});

Deno.test("parseCsvRows: LF, CRLF and lone CR end records; quoted line breaks stay in the field", () => {
  assert.deepEqual(parseCsvRows(""), []);
  assert.deepEqual(parseCsvRows("a,b\n1,2\n"), [["a", "b"], ["1", "2"]]);
  assert.deepEqual(parseCsvRows("a,b\r\n1,2\r\n"), [["a", "b"], ["1", "2"]]);
  assert.deepEqual(parseCsvRows("a,b\r1,2"), [["a", "b"], ["1", "2"]]);
  assert.deepEqual(parseCsvRows('a\n"x\r\ny",2\n'), [["a"], ["x\r\ny", "2"]]);
  assert.deepEqual(parseCsvRows("a\n\n\nb"), [["a"], [""], [""], ["b"]]);
  assert.deepEqual(parseCsvRows('""\n'), [[""]]);
  assert.deepEqual(parseCsvRows('a,""'), [["a", ""]]);
  assert.deepEqual(parseCsvRows('"a""'), [['a"']]);
  assert.deepEqual(parseCsvRows('"\n'), [["\n"]]);
});

Deno.test("parseCsv: header to records, blank lines skipped, short rows padded, extra cells dropped", () => {
  assert.deepEqual(parseCsv('a,b\n1,"x, ""y"""\n2,\n'), [{ a: "1", b: 'x, "y"' }, { a: "2", b: "" }]);
  assert.deepEqual(parseCsv("a,b\r\n\r\n1\r\n3,4,5\r\n"), [{ a: "1", b: "" }, { a: "3", b: "4" }]);
  assert.deepEqual(parseCsv("\n\na\n"), []);
  assert.deepEqual(parseCsv(""), []);
});

Deno.test("writers: quoting only where needed, JSON for objects, formula cells neutralised", () => {
  assert.equal(csvField("plain"), "plain");
  assert.equal(csvField('a,"b"'), '"a,""b"""');
  assert.equal(csvField("l1\r\nl2"), '"l1\r\nl2"');
  assert.equal(csvField(null), "");
  assert.equal(csvField(undefined), "");
  assert.equal(csvField(0.25), "0.25");
  assert.equal(csvField({ k: [1, "x"] }), '"{""k"":[1,""x""]}"');
  assert.equal(toCsv(["a", "b"], [{ a: 1, b: "x,y" }, { a: null }]), 'a,b\n1,"x,y"\n,\n');
  assert.equal(csvCell("=1+1"), "'=1+1");
  assert.equal(csvCell("-2"), "'-2");
  assert.equal(csvCell("@SUM(A1)"), "'@SUM(A1)");
  assert.equal(csvCell("+1,2"), `"'+1,2"`);
  assert.equal(csvCell("\tx"), "'\tx");
  assert.equal(csvCell("a=b"), "a=b");
});

/** Cells with every character the dialect treats specially, and some that are merely unusual. */
const cellText = fc.array(
  fc.constantFrom("a", "Z", "0", " ", ",", '"', "\n", "\r", "\r\n", "ü", "€", "😀", "=", "'"),
  { maxLength: 6 },
).map((parts) => parts.join(""));

Deno.test("what toCsv writes, parseCsv reads back (at least two columns, so no row is blank)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 4 }),
      fc.array(fc.array(cellText, { minLength: 4, maxLength: 4 }), { maxLength: 6 }),
      (width, cells) => {
        const columns = Array.from({ length: width }, (_, c) => `c${c}`);
        const rows = cells.map((row) => Object.fromEntries(columns.map((name, c) => [name, row[c]])));
        assert.deepEqual(parseCsv(toCsv(columns, rows)), rows);
      },
    ),
    { numRuns: 2000 },
  );
});

/** A byte stream of `bytes` cut at the given offsets. */
function chunked(bytes: Uint8Array, cuts: readonly number[]): ReadableStream<Uint8Array> {
  const bounds = [0, ...cuts, bytes.length];
  let k = 0;
  return new ReadableStream({
    pull(controller) {
      if (k + 1 < bounds.length) controller.enqueue(bytes.slice(bounds[k], bounds[++k]));
      else controller.close();
    },
  });
}

async function collect(source: ReadableStream<Uint8Array>): Promise<CsvRow[]> {
  const rows: CsvRow[] = [];
  for await (const row of readCsvRows(source)) rows.push(row);
  return rows;
}

/** Inputs and their records with the line each starts on, written out by hand. */
const STREAM_CASES: { text: string; rows: CsvRow[] }[] = [
  {
    text: 'id,note\r\n1,"two\r\nlines"\r\n2,"say ""hi"""\r\n',
    rows: [
      { line: 1, cells: ["id", "note"] },
      { line: 2, cells: ["1", "two\r\nlines"] },
      { line: 4, cells: ["2", 'say "hi"'] },
    ],
  },
  {
    text: 'a,b\n"x\ny\nz",\n\n"é😀€",ü\r"",""',
    rows: [
      { line: 1, cells: ["a", "b"] },
      { line: 2, cells: ["x\ny\nz", ""] },
      { line: 5, cells: [""] },
      { line: 6, cells: ["é😀€", "ü"] },
      { line: 7, cells: ["", ""] },
    ],
  },
  {
    text: '\uFEFFh\r\r\n"\r"\n',
    rows: [
      { line: 1, cells: ["h"] },
      { line: 2, cells: [""] },
      { line: 3, cells: ["\r"] },
    ],
  },
];

Deno.test("readCsvRows: the stream cut at every byte position gives the hand-written records and lines", async () => {
  for (const { text, rows } of STREAM_CASES) {
    const bytes = new TextEncoder().encode(text);
    assert.deepEqual(await collect(chunked(bytes, [])), rows, JSON.stringify(text));
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(await collect(chunked(bytes, [cut])), rows, `${JSON.stringify(text)} cut at ${cut}`);
    }
    const everyByte = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(await collect(chunked(bytes, everyByte)), rows, `${JSON.stringify(text)} byte by byte`);
    const asText = text.replace(/^\uFEFF/, "");
    assert.deepEqual(rows.map((r) => r.cells), parseCsvRows(asText), "the whole-text reader agrees");
  }
});

Deno.test("readCsvRows: any text cut at any two byte positions reads as the whole text does", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(cellText, { maxLength: 8 }),
      fc.array(fc.constantFrom(",", "\n", "\r\n", "\r"), { minLength: 8, maxLength: 8 }),
      fc.tuple(fc.nat(), fc.nat()),
      async (cells, separators, [a, b]) => {
        const text = cells.map((cell, i) => csvField(cell) + separators[i]).join("");
        const bytes = new TextEncoder().encode(text);
        const cuts = bytes.length < 2 ? [] : [...new Set([a % bytes.length, b % bytes.length])]
          .filter((x) => x > 0).sort((x, y) => x - y);
        const streamed = (await collect(chunked(bytes, cuts))).map((r) => r.cells);
        assert.deepEqual(streamed, parseCsvRows(text));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("readCsvRecords: records as parseCsv reads them, from string chunks too", async () => {
  const text = "a,b\n\n1,2\r\n3\n";
  async function* pieces() {
    for (const ch of text) yield ch;
  }
  const records: Record<string, string>[] = [];
  for await (const record of readCsvRecords(pieces())) records.push(record);
  assert.deepEqual(records, [{ a: "1", b: "2" }, { a: "3", b: "" }]);
  assert.deepEqual(records, parseCsv(text));
});

Deno.test("readCsvRows streams: the first record comes before the source is read to its end", async () => {
  let pulled = 0;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new TextEncoder().encode(`row,${pulled}\n`));
    },
  });
  for await (const row of readCsvRows(source)) {
    assert.deepEqual(row, { line: 1, cells: ["row", "1"] });
    break;
  }
  assert.ok(pulled <= 3, `pulled ${pulled} chunks for one record`);
});

Deno.test("readCsvRows: an unmatched quote cannot make a record grow without bound", async () => {
  const stream = chunked(new TextEncoder().encode('a,b\n1,"never closed' + "x".repeat(100)), [10, 40, 80]);
  await assert.rejects(
    async () => {
      for await (const _ of readCsvRows(stream, { maxRecordChars: 64 })) { /* read on */ }
    },
    (error: Error) =>
      error instanceof CsvError && /line 2: a record longer than 64 characters/.test(error.message),
  );
});
