/**
 * The line splitter against a plain oracle: the whole text decoded at once, split at LF, the first
 * line the header, trailing blank lines dropped and the last content line trimmed. Whatever the
 * piece and chunk sizes, the chunks' lines in order are the oracle's rows (a blank row's white
 * space aside: it is rejected the same whatever it holds), each chunk starts where the previous
 * ended, and limits name the right line.
 */
import assert from "node:assert/strict";
import { BatchInputError, TooManyRowsError } from "../../pipeline/serving/batch.ts";
import {
  chunkLines,
  type LineChunk,
  LineSplitter,
  MAX_LINE_CHARS,
} from "../../pipeline/serving/batch_lines.ts";

const BLANK = /^\s*$/;

/** The rows as the whole-text reader sees them. */
function oracle(bytes: Uint8Array): { header: string; rows: string[] } {
  let text = new TextDecoder().decode(bytes); // drops one byte-order mark
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // and the text scorer another
  const lines = text.split("\n");
  const header = lines[0].replace(/\s+$/, "");
  const rows = lines.slice(1);
  while (rows.length && BLANK.test(rows[rows.length - 1])) rows.pop();
  if (rows.length) rows[rows.length - 1] = rows[rows.length - 1].replace(/\s+$/, "");
  return { header, rows: rows.map((r) => (BLANK.test(r) ? "" : r)) };
}

function split(bytes: Uint8Array, pieces: number[], chunkBytes: number, maxRows?: number) {
  const splitter = new LineSplitter({ chunkBytes, maxRows });
  const chunks: LineChunk[] = [];
  let at = 0;
  for (let k = 0; at < bytes.length; k++) {
    const size = pieces[k % pieces.length];
    const piece = bytes.slice(at, at + size);
    chunks.push(...splitter.push(piece));
    piece.fill(0); // the splitter must have copied what it keeps
    at += size;
  }
  chunks.push(...splitter.end());
  return { splitter, chunks };
}

const encode = (text: string) => new TextEncoder().encode(text);
const header = "id,checking_status,duration";
const TEXTS = [
  `${header}\na1,A11,6\na2,A12,48\n`,
  `${header}\r\na1,A11,6\r\na2,A12,48\r\n`, // CRLF
  `\ufeff\ufeff${header}\na1,A11,6\na2,A12,48`, // two byte-order marks, no final LF
  `${header}\n"a,1",A11,6\n"multi\nline",A12,7\na3,"A1""3",8\n`, // quotes: still cut at every LF
  `${header}\na1,A11,6\n\n   \na2,A12,48\n \t\n\n`, // blank rows inside, blank lines at the end
  `${header}\na1,A11,6  \t\n\u00a0\u3000\na2,Ä€😀,48   \n\u00a0\n`, // Unicode white space, multi-byte text
  `${header}\n`,
  `${header}\n\n\n`,
  `${header}`,
  `  \n\n`,
  ``,
];

Deno.test("chunks hold the whole-text reader's rows in order, numbered across chunks, for any cut", () => {
  for (const text of TEXTS) {
    const bytes = encode(text);
    const expected = oracle(bytes);
    for (const chunkBytes of [1, 7, 64, 1 << 20]) {
      for (const pieces of [[1], [3, 5], [4096]]) {
        const label = `${JSON.stringify(text)}, chunks of ${chunkBytes} B, pieces ${pieces}`;
        let result;
        try {
          result = split(bytes, pieces, chunkBytes);
        } catch (error) {
          assert.ok(error instanceof BatchInputError, label);
          assert.ok(expected.header === "" && expected.rows.length === 0, `${label}: ${error}`);
          assert.match(error.message, /the CSV is empty/);
          continue;
        }
        const { splitter, chunks } = result;
        assert.equal(splitter.header, expected.header, label);
        const rows: string[] = [];
        let next = 0;
        for (const [k, chunk] of chunks.entries()) {
          assert.equal(chunk.firstRow, next, `${label}: chunk ${k} starts where the previous ended`);
          const lines = chunkLines(chunk);
          assert.equal(lines.length, chunk.rows, label);
          assert.equal(chunk.final, k === chunks.length - 1, label);
          if (!chunk.final) assert.equal(chunk.bytes[chunk.bytes.length - 1], 10, `${label}: whole lines`);
          rows.push(...lines.map((r) => (BLANK.test(r) ? "" : r)));
          next += chunk.rows;
        }
        assert.deepEqual(rows, expected.rows, label);
        assert.equal(splitter.rows, expected.rows.length, label);
      }
    }
  }
});

Deno.test("an overlong line is refused with its own line number; characters count, not bytes", () => {
  const long = "x".repeat(MAX_LINE_CHARS + 1);
  const lines = [header, "a1,A11,6", "a2,A12,7", long, "a3,A13,8"];
  for (const chunkBytes of [16, 1 << 20]) {
    for (const pieces of [[5], [100_000]]) {
      assert.throws(
        () => split(encode(lines.join("\n") + "\n"), pieces, chunkBytes),
        (e: Error) => e instanceof BatchInputError && /line 4 is longer than 4096 characters/.test(e.message),
      );
      // The same as the last, unterminated line, and as the header.
      assert.throws(
        () => split(encode(lines.slice(0, 4).join("\n")), pieces, chunkBytes),
        /line 4 is longer/,
      );
      assert.throws(() => split(encode(long + "\na,b\n"), pieces, chunkBytes), /line 1 is longer/);
      // 4,096 three-byte characters are 12,288 bytes but a line of 4,096 characters: accepted.
      const wide = split(encode(`${header}\n${"€".repeat(MAX_LINE_CHARS)}\n`), pieces, chunkBytes);
      assert.equal(wide.splitter.rows, 1);
    }
  }
});

Deno.test("the row cap counts rows, not trailing blank lines", () => {
  const text = `${header}\na1,A11,6\n\na2,A12,7\n\n\n`;
  for (const chunkBytes of [4, 1 << 20]) {
    assert.equal(split(encode(text), [3], chunkBytes, 3).splitter.rows, 3);
    assert.throws(() => split(encode(text), [3], chunkBytes, 2), (e: Error) => e instanceof TooManyRowsError);
  }
});
