/**
 * Streaming batch scoring against the whole-text scorer it replaces: for the same input the
 * streamed CSV answer is byte for byte `batchToCsv(scoreCsv(text))`, whatever the piece and chunk
 * sizes, with bad rows, blank lines, CRLF, a byte-order mark and trailing white space.
 */
import assert from "node:assert/strict";
import { BatchInputError, scoreCsv, StrictBatchError } from "../../pipeline/serving/batch.ts";
import { batchToCsv } from "../../pipeline/serving/batch_format.ts";
import { streamCsvScores, type StreamSummary } from "../../pipeline/serving/batch_stream.ts";
import { BatchWorkers } from "../../pipeline/serving/batch_workers.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { PredictionPool } from "../../pipeline/serving/predict_pool.ts";
import { germanCsv, trainFixtureModel } from "../fixtures.ts";
import { slow } from "../scope.ts";

const fixture = await trainFixtureModel();
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const serving = holder.current!;
const clean = await germanCsv({ ids: true });
/** Chunk workers (parse, encode, score and format off the main thread), shared by the tests. */
const batchWorkers = new BatchWorkers(2);

/** The input cut into pieces of the given sizes in turn (a piece may end mid-line or mid-CRLF). */
async function* pieces(text: string, sizes: number[]): AsyncGenerator<string> {
  let at = 0;
  for (let k = 0; at < text.length; k++) {
    const size = sizes[k % sizes.length];
    yield text.slice(at, at + size);
    at += size;
  }
}

async function streamed(text: string, options: Parameters<typeof streamCsvScores>[3] & { sizes?: number[] }) {
  const summary: StreamSummary = { rows: 0, errors: [], errorsTotal: 0 };
  let out = "";
  for await (
    const piece of streamCsvScores(serving, pieces(text, options.sizes ?? [65536]), summary, options)
  ) {
    out += piece;
  }
  return { out, summary };
}

async function old(
  text: string,
  options: { chunkRows?: number; maxErrors?: number; reviewMargin?: number } = {},
) {
  const result = await scoreCsv(serving, text, options);
  return { out: batchToCsv(result, { serving, reviewMargin: options.reviewMargin ?? 0 }), result };
}

function dirty(text: string): string {
  const lines = text.trimEnd().split("\n");
  lines[5] = lines[5].replace(/,A201$/, ",A209"); // unknown code
  lines[40] = lines[40].replace(/,A1(\d),/, ",B1$1,");
  lines[41] = "";
  lines[42] = "   ";
  lines[300] = lines[300] + ",extra";
  lines[301] = lines[301].split(",").slice(0, 5).join(",");
  lines[999] = lines[999] + "\r";
  return "\ufeff" + lines.join("\r\n").replace(/\r\n(applicant-7,)/, "\n$1") + "\r\n \n\t\n";
}

Deno.test("the streamed answer equals the whole-text answer byte for byte: german.data, clean and dirty", async () => {
  for (
    const text of [
      clean,
      dirty(clean),
      clean.trimEnd(),
      clean.replace(/^id,/, "").replace(/^applicant-\d+,/gm, ""),
    ]
  ) {
    // Each chunk costs one ETL parse (tenths of a second under load): few chunks per configuration.
    for (const chunkRows of [65536, 300]) {
      const expected = await old(text, { chunkRows, maxErrors: 3, reviewMargin: 0.05 });
      for (const sizes of [[65536], [13, 1, 4096], [3]]) {
        for (const workers of [null, batchWorkers]) {
          const got = await streamed(text, {
            chunkBytes: chunkRows * 30,
            maxErrors: 3,
            reviewMargin: 0.05,
            sizes,
            workers,
          });
          const label = `chunkRows ${chunkRows}, pieces ${sizes}, ${workers ? "workers" : "main thread"}`;
          assert.equal(got.out, expected.out, label);
          assert.equal(got.summary.rows, expected.result.rows);
          assert.equal(got.summary.errorsTotal, expected.result.errorsTotal);
          assert.deepEqual(got.summary.errors, expected.result.errors);
        }
      }
    }
  }
  const text = dirty(clean);
  assert.equal((await streamed(text, {})).summary.errorsTotal, 6);
});

Deno.test(
  "the streamed answer equals the whole-text answer on 50,000 generated rows, on the worker pool",
  slow,
  async () => {
    const lines = clean.trimEnd().split("\n");
    const header = lines[0];
    const rows: string[] = [];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 0; i < 50_000; i++) {
      const source = lines[1 + Math.floor(next() * 1000)].replace(/^applicant-\d+/, `a${i}`);
      rows.push(i % 4999 === 17 ? source.replace(/,A20(\d)$/, ",A29$1") : source);
    }
    const text = header + "\n" + rows.join("\n") + "\n";
    const expected = await old(text, { chunkRows: 8192 });
    const pool = new PredictionPool(2);
    try {
      const got = await streamed(text, { chunkBytes: 8192 * 90, pool, sizes: [100_003] });
      assert.equal(got.out, expected.out);
      assert.equal(got.summary.errorsTotal, 10);
      const onWorkers = await streamed(text, {
        chunkBytes: 8192 * 90,
        workers: batchWorkers,
        sizes: [100_003],
      });
      assert.equal(onWorkers.out, expected.out);
      assert.deepEqual(onWorkers.summary.errors, got.summary.errors);
    } finally {
      pool.close();
    }
  },
);

Deno.test("streaming refuses what the whole-text scorer refuses, and strict mode throws at the end", async () => {
  for (const text of ["", "  \n\n", clean.split("\n")[0] + "\n\n", clean.replace("purpose", "porpoise")]) {
    const oldError = await scoreCsv(serving, text).then(() => null, (e) => e);
    assert.ok(oldError instanceof BatchInputError);
    await assert.rejects(streamed(text, {}), (e: Error) => {
      assert.ok(e instanceof BatchInputError);
      assert.deepEqual(e.issues, oldError.issues);
      return true;
    });
  }
  for (const workers of [null, batchWorkers]) {
    await assert.rejects(streamed(dirty(clean), { strict: true, workers }), (e: Error) => {
      assert.ok(e instanceof StrictBatchError);
      assert.equal(e.message, "6 of 1000 rows are invalid; strict mode scores none");
      return true;
    });
  }
  await assert.rejects(streamed(dirty(clean), { strict: true }), (e: Error) => {
    assert.ok(e instanceof StrictBatchError);
    assert.equal(e.message, "6 of 1000 rows are invalid; strict mode scores none");
    return true;
  });
  await assert.rejects(streamed(clean, { maxRows: 999 }), /more than 999 rows/);
  assert.equal((await streamed(clean, { maxRows: 1000 })).summary.rows, 1000);
});

Deno.test("onScored sees the same rows, scores, decisions and ids on the workers as on the main thread", async () => {
  const seen = async (workers: BatchWorkers | null) => {
    const rows: unknown[] = [];
    await streamed(dirty(clean) + clean.split("\n").slice(1).join("\n"), {
      workers,
      chunkBytes: 4096,
      reviewMargin: 0.05,
      onScored: (chunk) => {
        chunk.lines.forEach((line, i) =>
          rows.push([chunk.firstRow + i, line, chunk.probabilities[i], chunk.decided[i], chunk.ids?.[i]])
        );
      },
    });
    return rows;
  };
  const inline = await seen(null);
  assert.equal(inline.length, 2002); // the dirty text's two trailing blank lines are rows once content follows
  assert.deepEqual(await seen(batchWorkers), inline);
});

Deno.test("cleanup: temporary folders are removed", async () => {
  batchWorkers.close();
  await fixture.cleanup();
});
