/**
 * `POST /predict/batch` read as a stream, against the whole-body scorers it replaced: the same
 * answer byte for byte (CSV and JSON out) on german.data and on edge cases; caps enforced while
 * the body is read (an endless body is refused); a strict batch validated fully, answered 422
 * with every issue and recording nothing; the trail holding exactly the scored rows, or none
 * when the batch fails late; and batches refused while the disk is low.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { scoreCsv, StrictBatchError } from "../../pipeline/serving/batch.ts";
import { batchToCsv, batchToJson } from "../../pipeline/serving/batch_format.ts";
import { AuditLog } from "../../pipeline/serving/audit/log.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanCsv, trainFixtureModel } from "../fixtures.ts";
import { afterAllTests, moduleTempDir } from "../temp.ts";

const fixture = await trainFixtureModel({ nEstimators: 10 });
afterAllTests(() => fixture.cleanup());
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const serving = holder.current!;
const quiet = new Logger("off");
const work = await moduleTempDir("credit-batch-route-");
const clean = await germanCsv({ ids: true });

/** german.data with a quoted id holding a comma, a quoted code, CRLF, a BOM, bad and blank rows, a blank last line. */
function edgy(text: string): string {
  const lines = text.trimEnd().split("\n");
  lines[3] = lines[3].replace(/^applicant-3,/, '"applicant, three",');
  lines[4] = lines[4].replace(/,A11,/, ',"A11",');
  lines[10] = lines[10].replace(/,A201$/, ",A209"); // unknown code, mid-file
  lines[20] = "";
  lines[500] = lines[500] + ",extra";
  return "\ufeff" + lines.join("\r\n") + "\r\n\r\n";
}

/** Today's answer: the whole text scored by `scoreCsv`, written by `batchToCsv` / `batchToJson`. */
async function oracle(text: string, requestId?: string) {
  const result = await scoreCsv(serving, text, { source: "upload" });
  const header = { serving, reviewMargin: 0, requestId };
  return { result, csv: batchToCsv(result, header), json: JSON.stringify(batchToJson(result, header)) };
}

function post(
  app: ReturnType<typeof createApp>,
  body: BodyInit,
  query = "",
  headers: Record<string, string> = {},
) {
  return app.request(`/predict/batch${query}`, {
    method: "POST",
    body,
    headers: { "content-type": "text/csv", ...headers },
    // @ts-ignore: Deno's fetch needs duplex for a stream body
    duplex: "half",
  });
}

Deno.test("the streamed CSV answer is byte for byte today's, CSV and JSON out, clean and edge cases", async () => {
  const app = createApp({ holder, logger: quiet, config: { auditPath: null, batchSpoolDir: work } });
  for (const text of [clean, edgy(clean), "checking_status\n"]) {
    const expected = text === "checking_status\n" ? null : await oracle(text);
    const asCsv = await post(app, text, "", { accept: "text/csv" });
    if (!expected) {
      assert.equal(asCsv.status, 422); // a header without the required columns, as before
      await asCsv.body?.cancel();
      continue;
    }
    assert.equal(asCsv.status, 200);
    assert.equal(await asCsv.text(), expected.csv);
    assert.equal(asCsv.headers.get("x-errors-total"), String(expected.result.errorsTotal));
    const asJson = await post(app, text);
    assert.equal(asJson.status, 200);
    assert.equal(asJson.headers.get("content-type"), "application/json");
    const requestId = asJson.headers.get("x-request-id")!;
    assert.equal(await asJson.text(), (await oracle(text, requestId)).json);
  }
  // The edge cases did reject rows (the comparison covers errors, not only scores).
  assert.ok((await oracle(edgy(clean))).result.errorsTotal >= 3);
});

Deno.test("strict=true: one bad row late in the body answers 422 with every issue, nothing recorded", async () => {
  const audit = await AuditLog.open(`${work}/strict.sqlite`);
  try {
    const app = createApp({ holder, logger: quiet, audit, config: { auditPath: null, batchSpoolDir: work } });
    const text = edgy(clean);
    let expected: StrictBatchError | null = null;
    try {
      await scoreCsv(serving, text, { strict: true, source: "upload" });
    } catch (error) {
      expected = error as StrictBatchError;
    }
    assert.ok(expected instanceof StrictBatchError);
    const response = await post(app, text, "?strict=true");
    assert.equal(response.status, 422);
    const body = await response.json();
    assert.equal(body.message, expected.message);
    const rows = new Set(body.issues.map((i: { row: number }) => i.row));
    assert.deepEqual([...rows], expected.result.errors.map((e) => e.row));
    assert.equal(await audit.count(), 0);
  } finally {
    await audit.close();
  }
});

/** An endless CSV body: a header, then german.data's rows over and over. */
function endless(header: string, row: (i: number) => string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      let text = i === 0 ? header : "";
      for (let k = 0; k < 500; k++) text += row(i++);
      controller.enqueue(encoder.encode(text));
    },
  });
}

Deno.test("row caps are enforced while reading: an endless CSV or JSON body is refused 413", async () => {
  const app = createApp({
    holder,
    logger: quiet,
    config: { auditPath: null, batchSpoolDir: work, batchMaxCsvRows: 3_000, batchMaxRows: 50 },
  });
  const lines = clean.trimEnd().split("\n");
  const csv = await post(app, endless(lines[0] + "\n", (i) => lines[1 + (i % 1000)] + "\n"));
  assert.equal(csv.status, 413);
  const csvBody = await csv.json();
  assert.equal(csvBody.error, "too_many_rows");
  assert.equal(csvBody.limit_rows, 3_000);
  assert.match(csvBody.message, /BATCH_MAX_CSV_ROWS/);
  const record = JSON.stringify(Object.fromEntries(
    lines[0].split(",").slice(1).map((name, c) => [name, lines[1].split(",")[c + 1]]),
  ));
  const json = await post(app, endless("[", (i) => (i ? "," : "") + record), "", {
    "content-type": "application/json",
  });
  assert.equal(json.status, 413);
  assert.match((await json.json()).message, /BATCH_MAX_ROWS/);
});

Deno.test("the trail holds exactly the scored rows of a streamed batch, and none of one refused late", async () => {
  const audit = await AuditLog.open(`${work}/trail.sqlite`);
  try {
    const app = createApp({
      holder,
      logger: quiet,
      audit,
      config: { auditPath: null, batchSpoolDir: work, batchMaxCsvRows: 6_000 },
    });
    // 5,000 rows: more than one 2,048-row group, so the rows are staged and committed together.
    const lines = clean.trimEnd().split("\n");
    const body = [lines[0], ...Array.from({ length: 5_000 }, (_, i) => lines[1 + (i % 1000)])];
    body[4_000] = body[4_000].replace(/,A201$/, ",A209");
    const text = body.join("\n") + "\n";
    const expected = await oracle(text);
    const ok = await post(app, text, "", { accept: "text/csv" });
    assert.equal(await ok.text(), expected.csv);
    assert.equal(await audit.count(), 4_999);
    // Past the cap at row 6,001: the 6,000 rows scored before it must not reach the trail.
    const tooMany = await post(app, text + body.slice(1, 1_500).join("\n") + "\n");
    assert.equal(tooMany.status, 413);
    await tooMany.body?.cancel();
    assert.equal(await audit.count(), 4_999);
  } finally {
    await audit.close();
  }
});

Deno.test("new batches are refused 503 while the disk under the audit folder is low (BATCH_MIN_FREE_BYTES)", async () => {
  const asked: string[] = [];
  let free = 10_000;
  const app = createApp({
    holder,
    logger: quiet,
    config: { auditPath: `${work}/audit/audit.sqlite`, batchMinFreeBytes: 50_000 },
    freeSpace: (path) => {
      asked.push(path);
      return Promise.resolve(free);
    },
  });
  const low = await post(app, clean);
  assert.equal(low.status, 503);
  assert.equal(low.headers.get("retry-after"), "60");
  const body = await low.json();
  assert.equal(body.error, "disk_space_low");
  assert.equal(body.free_bytes, 10_000);
  assert.match(body.message, /BATCH_MIN_FREE_BYTES/);
  // The audit folder does not exist yet: its nearest existing parent is asked.
  assert.deepEqual(asked, [work]);
  free = 50_000;
  const ok = await post(app, clean);
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).scored, 1000);
});
