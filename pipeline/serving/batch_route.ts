/**
 * `POST /predict/batch`: admission (token, concurrency, free disk), then the body read as a
 * stream with its caps enforced while it is read.
 *
 * - **CSV** (without `explain`) streams end to end: lines are scored chunk by chunk on the worker
 *   pool, each chunk's rows are staged in the audit trail as they are scored, and the answer is
 *   written to a spool file. Once the body has ended and every row is committed, the spool is sent.
 *   Nothing is answered before the batch is complete: a decision is answered only once its row is
 *   durable, and a late refusal (a bad row under `strict=true`, the row cap, the body limit) still
 *   gets its own status with nothing recorded. Memory holds a few chunks, whatever the size.
 * - **JSON** is cut into elements as it arrives (`readJsonArray`): the row cap is enforced on the
 *   element past it, and the records (at most `BATCH_MAX_ROWS`, each at most 4,096 characters)
 *   are scored whole as before. JSON answers carry counts before the rows, so they are built whole;
 *   the cap keeps them small.
 * - **CSV with `explain=true`** is read up to its 10,000-row cap, counted while reading, then
 *   scored whole as before (explanations run on the pool).
 *
 * The answers are byte for byte those of the whole-body scorers they replace.
 * @module
 */

import type { Context } from "hono";
import { accepts } from "hono/accepts";
import type { Decision } from "../model/artifact.ts";
import {
  BatchInputError,
  type BatchResult,
  decisions,
  EXPLAIN_MAX_ROWS,
  type RowError,
  scoreCsv,
  scoreRecords,
  StrictBatchError,
  TooManyRowsError,
} from "./batch.ts";
import { type FreeSpace, requireFreeSpace, statfsFreeSpace } from "./batch_disk.ts";
import {
  batchToCsv,
  batchToJson,
  errorsNote,
  errorsTruncated,
  jsonAnswerFrame,
  predictionJson,
} from "./batch_format.ts";
import { JsonBatchError, readJsonArray } from "./batch_json.ts";
import { Spool } from "./batch_spool.ts";
import { decodeStream, MAX_LINE_CHARS, streamCsvBytes, type StreamSummary } from "./batch_stream.ts";
import { type DecisionTrail, requestIds } from "./audit/log.ts";
import { requireBearer } from "./auth.ts";
import { limitedBody, requireMediaType } from "./body.ts";
import { type App, type AppDeps, type AppEnv, requireModel } from "./context.ts";
import { ApiError, validationError } from "./errors.ts";
import { csvBatchInputs, csvLineInputs, jsonBatchInputs } from "./routes/audit.ts";

/** The audit trail's folder (SQLite) and the spool folder: where a batch writes before it answers. */
export function batchFolders(deps: AppDeps, trail: DecisionTrail): { spool: string; checked: string[] } {
  const { config } = deps;
  const auditFolder = trail.audit?.backend === "sqlite"
    ? dirname(trail.audit.location)
    : config.auditPath
    ? dirname(config.auditPath)
    : null;
  const spool = config.batchSpoolDir ?? auditFolder ?? "data/audit";
  return { spool, checked: auditFolder && auditFolder !== spool ? [auditFolder, spool] : [spool] };
}

/** Registers the `POST /predict/batch` handler (its OpenAPI description is with the other predict routes). */
export function registerBatchRoute(
  app: App,
  deps: AppDeps,
  trail: DecisionTrail,
  freeSpace: FreeSpace = statfsFreeSpace,
): void {
  const { config } = deps;
  let batchesRunning = 0;
  app.post("/predict/batch", async (c) => {
    if (config.batchToken !== undefined) await requireBearer(c, config.batchToken, "batch", "BATCH_TOKEN");
    if (batchesRunning >= config.batchConcurrency) {
      c.header("Retry-After", "1");
      throw new ApiError(
        429,
        "too_many_batches",
        `${config.batchConcurrency} batches are being scored (BATCH_CONCURRENCY); retry shortly`,
        { limit_batches: config.batchConcurrency },
      );
    }
    batchesRunning++;
    try {
      const folders = batchFolders(deps, trail);
      try {
        await requireFreeSpace(folders.checked, config.batchMinFreeBytes, freeSpace);
      } catch (error) {
        if (error instanceof ApiError) c.header("Retry-After", "60");
        throw error;
      }
      // The slot is held while the batch is read and scored, not while its answer is sent.
      return await scoreBatch(c, deps, trail, folders.spool);
    } finally {
      batchesRunning--;
    }
  });
}

async function scoreBatch(c: Context<AppEnv>, deps: AppDeps, trail: DecisionTrail, spoolDir: string) {
  const { config } = deps;
  const serving = requireModel(deps.holder);
  const type = requireMediaType(c, ["application/json", "text/csv"]);
  const strict = booleanQuery(c, "strict");
  const explain = booleanQuery(c, "explain");
  const bytes = limitedBody(c, config.maxBatchBodyBytes);
  if (type === "text/csv" && !explain) return await streamCsv(c, deps, trail, spoolDir, bytes, strict);
  const body = decodeStream(bytes);
  let result: BatchResult;
  let records: unknown[] = [];
  let text = "";
  try {
    if (type === "text/csv") {
      text = await readExplainedCsv(body);
      result = await scoreCsv(serving, text, { strict, explain, pool: deps.pool, source: "upload" });
    } else {
      records = await readJsonArray(body, config.batchMaxRows);
      result = await scoreRecords(serving, records, { strict, explain, pool: deps.pool });
    }
  } catch (error) {
    throw answerable(error, type);
  }
  const decided = decisions(serving, result, config.reviewMargin);
  const inputs = type === "text/csv" ? csvBatchInputs(text) : jsonBatchInputs(records);
  await trail.batch(serving, result, decided, requestIds(c), inputs); // durable before the answer
  countDecisions(deps, decided, result.errorsTotal);
  c.header("Cache-Control", "no-store");
  const header = { serving, reviewMargin: config.reviewMargin, requestId: c.get("requestId") };
  if (prefersCsv(c)) {
    c.header("Content-Type", "text/csv; charset=utf-8");
    c.header("X-Errors-Total", String(result.errorsTotal));
    if (errorsTruncated(result)) c.header("X-Errors-Truncated", errorsNote(result));
    return c.body(batchToCsv(result, header));
  }
  return c.json(batchToJson(result, header));
}

/** The streamed CSV path: scored chunk by chunk, staged in the trail, answered from the spool once committed. */
async function streamCsv(
  c: Context<AppEnv>,
  deps: AppDeps,
  trail: DecisionTrail,
  spoolDir: string,
  body: AsyncIterable<Uint8Array>,
  strict: boolean,
): Promise<Response> {
  const { config } = deps;
  const serving = requireModel(deps.holder);
  const csvAnswer = prefersCsv(c);
  const header = { serving, reviewMargin: config.reviewMargin, requestId: c.get("requestId") };
  const spool = await Spool.create(spoolDir);
  const recording = trail.openBatch(serving, requestIds(c));
  const summary: StreamSummary = { rows: 0, errors: [], errorsTotal: 0 };
  const counted: Record<Decision, number> = { approve: 0, decline: 0, review: 0 };
  let scored = 0;
  let sent = false;
  try {
    const pieces = streamCsvBytes(serving, body, summary, {
      strict,
      pool: deps.pool,
      source: "upload",
      reviewMargin: config.reviewMargin,
      maxRows: config.batchMaxCsvRows,
      maxRowsSetting: "BATCH_MAX_CSV_ROWS",
      csv: csvAnswer,
      onScored: async (chunk) => {
        let json = "";
        for (let i = 0; i < chunk.decided.length; i++) {
          const decision = chunk.decided[i];
          if (decision === undefined) continue;
          counted[decision]++;
          if (!csvAnswer) {
            const row = chunk.firstRow + i + 1;
            json += (scored ? "," : "") +
              predictionJson(row, row + 1, chunk.ids?.[i], chunk.probabilities[i], decision);
          }
          scored++;
        }
        if (json) await spool.write(json);
        const text = () => csvLineInputs(chunk.header, chunk.lines);
        await recording.add(chunk.firstRow, chunk.probabilities, chunk.decided, text);
      },
    });
    for await (const piece of pieces) await spool.writeBytes(piece);
    await recording.commit(summary.rows); // durable before the answer
    countDecisions(deps, counted, summary.errorsTotal);
    c.header("Cache-Control", "no-store");
    if (csvAnswer) {
      c.header("Content-Type", "text/csv; charset=utf-8");
      c.header("X-Errors-Total", String(summary.errorsTotal));
      if (errorsTruncated(summary)) c.header("X-Errors-Truncated", errorsNote(summary));
      const answer = await spool.readable();
      sent = true;
      return c.body(answer);
    }
    const frame = jsonAnswerFrame(header, { ...summary, scored });
    c.header("Content-Type", "application/json");
    const answer = await spool.readable();
    sent = true;
    return c.body(concatenate(frame.before, answer, frame.after));
  } catch (error) {
    await recording.abort();
    throw answerable(error, "text/csv");
  } finally {
    if (!sent) spool.discard();
  }
}

/** The CSV text of an explained batch, refused once it has more data rows than explanations allow. */
async function readExplainedCsv(body: AsyncIterable<string>): Promise<string> {
  const pieces: string[] = [];
  let header = true;
  let rows = 0;
  let blanks = 0;
  let line = "";
  const count = (text: string) => {
    if (text.length > MAX_LINE_CHARS) {
      throw new BatchInputError([{
        field: "(body)",
        message: `a line is longer than ${MAX_LINE_CHARS} characters`,
      }]);
    }
    if (header) header = false;
    else if (/^\s*$/.test(text)) blanks++; // rows only if content follows, as in the scorer
    else {
      rows += blanks + 1;
      blanks = 0;
    }
    if (rows > EXPLAIN_MAX_ROWS) {
      throw new BatchInputError([{
        field: "explain",
        message: `explanations are limited to ${EXPLAIN_MAX_ROWS} rows a batch; this one has more`,
      }]);
    }
  };
  for await (const piece of body) {
    pieces.push(piece);
    const lines = (line + piece).split("\n");
    line = lines.pop()!;
    for (const l of lines) count(l);
    if (line.length > MAX_LINE_CHARS) count(line);
  }
  count(line);
  return pieces.join("");
}

/** The error a batch failure is answered with. */
function answerable(error: unknown, type: string): unknown {
  if (error instanceof BatchInputError) return validationError(error.issues, "the batch cannot be read");
  if (error instanceof StrictBatchError) return validationError(flatten(error.result.errors), error.message);
  if (error instanceof TooManyRowsError) {
    return new ApiError(
      413,
      "too_many_rows",
      `the batch has more than ${error.limit} rows; the limit is ${error.limit} (${error.setting})` +
        (type === "application/json" ? " (send a CSV for more)" : ""),
      { limit_rows: error.limit },
    );
  }
  if (error instanceof JsonBatchError) {
    if (error.kind === "malformed") return new ApiError(400, "malformed_json", error.message);
    if (!error.row) return validationError([{ field: "(body)", message: error.message }]);
    const issues = [{ row: error.row, field: "(row)", message: error.message }];
    return validationError(issues, error.message);
  }
  return error;
}

/** A byte stream of `before`, then `middle`'s bytes, then `after`. */
function concatenate(
  before: string,
  middle: ReadableStream<Uint8Array>,
  after: string,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const reader = middle.getReader();
  let stage = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === 0) {
        stage = 1;
        controller.enqueue(encoder.encode(before));
        return;
      }
      if (stage === 1) {
        const { done, value } = await reader.read();
        if (!done) {
          controller.enqueue(value);
          return;
        }
        stage = 2;
        controller.enqueue(encoder.encode(after));
        return;
      }
      controller.close();
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

function countDecisions(
  deps: AppDeps,
  decided: readonly (Decision | undefined)[] | Record<Decision, number>,
  rejected: number,
): void {
  let counts: Record<Decision, number>;
  if (Array.isArray(decided)) {
    counts = { approve: 0, decline: 0, review: 0 };
    for (const d of decided as readonly (Decision | undefined)[]) if (d !== undefined) counts[d]++;
  } else {
    counts = decided as Record<Decision, number>;
  }
  deps.metrics.predictions("approve", counts.approve);
  deps.metrics.predictions("decline", counts.decline);
  deps.metrics.predictions("review", counts.review);
  deps.metrics.batchRows(counts.approve + counts.decline + counts.review, rejected);
}

function flatten(errors: readonly RowError[]) {
  return errors.flatMap((e) =>
    e.issues.map((issue) => ({ row: e.row, ...(e.line === undefined ? {} : { line: e.line }), ...issue }))
  );
}

/** A `true`/`false` query parameter (absent = false); anything else is a 422 naming it. */
function booleanQuery(c: Context, name: string): boolean {
  const value = c.req.query(name);
  if (value === undefined || value === "false" || value === "0") return false;
  if (value === "true" || value === "1" || value === "") return true;
  throw validationError([{ field: name, message: `expected true or false, got ${JSON.stringify(value)}` }]);
}

function prefersCsv(c: Context): boolean {
  if (!c.req.header("accept")) return false;
  return accepts(c, {
    header: "Accept",
    supports: ["application/json", "text/csv"],
    default: "application/json",
  }) === "text/csv";
}

function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}
