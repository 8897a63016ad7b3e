/**
 * Streaming CSV batch scoring: a CSV read piece by piece, scored chunk by chunk, and written out
 * as the CSV answer chunk by chunk, so memory holds a few chunks whatever the input's size.
 *
 * The reading thread only cuts the bytes into chunks of whole lines (batch_lines.ts) and writes the
 * answers in order. With {@link BatchWorkers}, each chunk is parsed, encoded, scored and formatted
 * on a worker, straight from bytes to bytes; a chunk the workers' fast path does not accept (a bad
 * value, a blank line, a quote, non-ASCII) comes back and is parsed here as it always was. Without
 * them (the server), every chunk is parsed here as it is read (the workers' byte path first) and
 * its matrix scored inline or on the {@link PredictionPool} while the next is read.
 *
 * The answer is byte for byte the one {@link scoreCsv} + {@link batchToCsv} give for the same
 * text: lines are cut at LF exactly as there (not by a quote-aware reader, since the batch path
 * numbers rows by line and hands whole chunks to the ETL), each slow chunk goes through the same
 * {@link parseChunk}, each row is written as {@link csvAnswerLine} writes it, and trailing blank
 * lines are not rows.
 * @module
 */

import { splitCsvLine } from "../data/csv.ts";
import { ID_COLUMN } from "../data/etl.ts";
import {
  BatchInputError,
  type BatchResult,
  MAX_ERROR_DETAILS,
  parseChunk,
  type ParsedChunk,
  parseOrHeaderError,
  type RowError,
  scoreMatrix,
  StrictBatchError,
} from "./batch.ts";
import { encodeCleanBytes, type EncodingPlan, encodingPlan, headerLayout } from "./batch_fast.ts";
import type { FeatureEncoder } from "../features/encoder.ts";
import { csvAnswerHeader, csvAnswerLine, type CsvAnswerShape, omittedErrorNote } from "./batch_format.ts";
import { CHUNK_BYTES, chunkLines, type LineChunk, LineSplitter } from "./batch_lines.ts";
import { type BatchReply, type BatchSetup, type BatchWorkers, DECISIONS } from "./batch_workers.ts";
import type { ServingModel } from "./model_holder.ts";
import type { Decision } from "../model/artifact.ts";
import type { PredictionPool } from "./predict_pool.ts";

export { MAX_LINE_CHARS } from "./batch_lines.ts";

/** How to stream a batch. */
export interface StreamOptions {
  /** Reject the whole batch when any row is invalid: the output then throws {@link StrictBatchError}. */
  strict?: boolean;
  /** Workers that take whole chunks (bytes in, answer out); preferred over `pool` when given. */
  workers?: BatchWorkers | null;
  /** Worker pool for the forest alone, when there are no `workers`. */
  pool?: PredictionPool | null;
  /** Bytes gathered before a chunk is cut (default {@link CHUNK_BYTES}). */
  chunkBytes?: number;
  /** Chunks scored ahead of the one being written (default: 2 per worker, at least 2): what bounds memory. */
  inFlight?: number;
  source?: string;
  maxErrors?: number;
  reviewMargin?: number;
  /** Refuse the batch ({@link TooManyRowsError}) on reading data row `maxRows + 1`. */
  maxRows?: number;
  /** The setting that sets `maxRows`, named in the refusal (default `BATCH_MAX_CSV_ROWS`). */
  maxRowsSetting?: string;
  /**
   * Called with each chunk once scored, in row order, before its text is yielded; the chunk's text
   * waits for the returned promise (the audit trail stages the rows: its pace bounds memory).
   */
  onScored?: (chunk: ScoredChunk) => Promise<void> | void;
  /** Yield the CSV answer (default true); false yields nothing, for callers that only want `onScored`. */
  csv?: boolean;
  /** Called after each chunk is written, with the rows so far. */
  onProgress?: (done: number) => void;
}

/** One chunk of a streamed batch, scored. */
export interface ScoredChunk {
  /** The CSV's header line (trimmed, no byte-order mark). */
  readonly header: string;
  /** Batch row (0-based) of the chunk's first line. */
  readonly firstRow: number;
  /** The chunk's data lines as read (LF cut, not trimmed but for the batch's last line). */
  readonly lines: readonly string[];
  /** P(bad) per line, NaN where the row was rejected. */
  readonly probabilities: Float64Array;
  /** The decision per line, undefined where the row was rejected. */
  readonly decided: readonly (Decision | undefined)[];
  /** Pass-through ids per line, or null when the CSV has no `id` column. */
  readonly ids: readonly (string | undefined)[] | null;
}

/** What a streamed batch found, filled in as its output is read. */
export interface StreamSummary {
  rows: number;
  /** The first rejected rows, in row order, at most `maxErrors`. */
  readonly errors: RowError[];
  errorsTotal: number;
}

const encoder = new TextEncoder();

/** Each encoder's compiled plan, made once. */
const plans = new WeakMap<FeatureEncoder, EncodingPlan | null>();
function planFor(encoder: FeatureEncoder): EncodingPlan | null {
  if (!plans.has(encoder)) plans.set(encoder, encodingPlan(encoder));
  return plans.get(encoder)!;
}

/**
 * Scores a CSV byte stream; yields the CSV answer's bytes in pieces (its header with the first
 * rows). `summary` is complete once the generator is done. Throws {@link BatchInputError} for
 * unreadable input before yielding anything; in strict mode throws {@link StrictBatchError} at the
 * end, after the rows before the first invalid one were yielded, so strict callers hold the output
 * until the end (a temporary file renamed into place does).
 */
export async function* streamCsvBytes(
  serving: ServingModel,
  input: AsyncIterable<Uint8Array>,
  summary: StreamSummary,
  options: StreamOptions = {},
): AsyncGenerator<Uint8Array> {
  const source = options.source ?? "input";
  const maxErrors = options.maxErrors ?? MAX_ERROR_DETAILS;
  const workers = options.workers ?? null;
  const inFlight = Math.max(1, options.inFlight ?? Math.max(2, 2 * (workers?.size ?? 1)));
  const reviewMargin = options.reviewMargin ?? 0;
  const omitted = omittedErrorNote(maxErrors);
  const wantCsv = options.csv ?? true;
  const detail = options.onScored !== undefined;
  const chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
  // Chunk buffers go to the workers and come back: reused, not left for the collector to free late.
  const spare: Uint8Array[] = [];
  const allocate = (size: number): Uint8Array => {
    for (let i = 0; i < spare.length; i++) {
      if (spare[i].length >= size) return spare.splice(i, 1)[0].subarray(0, size);
    }
    return new Uint8Array(Math.max(size, 2 * chunkBytes)).subarray(0, size);
  };
  const release = (bytes: Uint8Array | undefined) => {
    if (bytes && bytes.buffer.byteLength >= chunkBytes && spare.length < inFlight + 2) {
      spare.push(new Uint8Array(bytes.buffer as ArrayBuffer));
    }
  };
  const splitter = new LineSplitter({
    allocate,
    chunkBytes,
    maxRows: options.maxRows,
    maxRowsSetting: options.maxRowsSetting,
  });

  let header = "";
  let columns: string[] = [];
  let shape: CsvAnswerShape = { lines: true, ids: false, reasons: false };
  let key = "";
  let setup: BatchSetup | null = null;
  let failedStrict = false;
  const queue: {
    chunk: LineChunk;
    reply: Promise<BatchReply> | null;
    done: Promise<Uint8Array | null> | null;
  }[] = [];
  /** The last chunk scored on this thread: the next one's `onScored` waits for it. */
  let previous: Promise<unknown> = Promise.resolve();

  const start = () => {
    header = splitter.header!;
    columns = splitCsvLine(header).map((h) => h.trim());
    shape = { lines: true, ids: columns.indexOf(ID_COLUMN) >= 0, reasons: false };
    const layout = headerLayout(header, columns);
    key = `${serving.sha256}:${reviewMargin}:${header}`;
    setup = {
      forest: serving.model.forest.packed,
      plan: planFor(serving.model.encoder),
      threshold: serving.model.threshold,
      reviewMargin,
      layout,
    };
  };

  const dispatch = (chunk: LineChunk) => {
    if (!setup) start();
    // Once a strict batch has failed, chunks are only counted (slow path, no scoring).
    const reply = workers && !failedStrict && setup!.layout
      ? workers.score(
        key,
        () => setup!,
        detail ? chunk.bytes.slice() : chunk.bytes,
        chunk.firstRow,
        chunk.rows,
        detail,
      )
      : null;
    reply?.catch(() => {}); // awaited in order below; a later failure must not go unhandled meanwhile
    if (workers) {
      queue.push({ chunk, reply, done: null });
      return;
    }
    // Without workers, the chunk is parsed now (in order) and scored on the pool while the next is read.
    const done = scoreHere(parseHere(chunk), previous);
    done.catch(() => {});
    previous = done;
    queue.push({ chunk, reply: null, done });
  };

  /** A chunk parsed on this thread, its errors counted (chunks are parsed in row order). */
  interface Parsed {
    readonly chunk: LineChunk;
    readonly lines: () => string[];
    readonly parsed: ParsedChunk;
    readonly detailed: Map<number, RowError>;
  }
  let plan: EncodingPlan | null | undefined;
  const parseHere = (chunk: LineChunk): Parsed => {
    let text: string[] | null = null;
    const lines = () => text ??= chunkLines(chunk);
    const { rows, firstRow } = chunk;
    // The workers' byte path first (it takes plainly valid chunks), then the text scorer's.
    const layout = setup!.layout;
    if (layout && plan === undefined) plan = planFor(serving.model.encoder);
    const fast = layout ? encodeCleanBytes(serving.model.encoder, layout, chunk.bytes, rows, { plan }) : null;
    const parsed: ParsedChunk = fast
      ? { kept: null, matrix: fast.matrix, ids: fast.ids, errors: [] }
      : parseChunk(serving, header, columns, lines(), firstRow, rows, source);
    parsed.errors.sort((a, b) => a.row - b.row);
    const detailed = new Map<number, RowError>();
    for (const e of parsed.errors) {
      if (summary.errors.length < maxErrors) {
        summary.errors.push(e);
        detailed.set(e.row, e);
      }
    }
    summary.errorsTotal += parsed.errors.length;
    if (options.strict && summary.errorsTotal) failedStrict = true;
    return { chunk, lines, parsed, detailed };
  };

  /**
   * Scores a chunk parsed here and writes its answer; `after` is the previous chunk's, so that
   * `onScored` sees chunks in row order even when the pool finishes them out of order.
   */
  const scoreHere = async ({ chunk, lines, parsed, detailed }: Parsed, after: Promise<unknown>) => {
    if (failedStrict) return null; // nothing more is written; the rest is only counted
    const { rows, firstRow } = chunk;
    const p = parsed.matrix
      ? await scoreMatrix(serving, parsed.matrix, workers ? null : options.pool ?? null)
      : new Float64Array(0);
    await after;
    const probabilities = new Float64Array(rows).fill(NaN);
    const ids: (string | undefined)[] | null = shape.ids ? new Array(rows) : null;
    if (parsed.kept) parsed.kept.forEach((r, i) => (probabilities[r - firstRow] = p[i]));
    else probabilities.set(p);
    if (ids) {
      parsed.ids?.forEach((id, i) => (ids[parsed.kept ? parsed.kept[i] - firstRow : i] = id));
      for (const e of parsed.errors) ids[e.row - 1 - firstRow] = e.id;
    }
    const decided: (Decision | undefined)[] = new Array(rows);
    for (let i = 0; i < rows; i++) {
      const probability = probabilities[i];
      decided[i] = Number.isNaN(probability) ? undefined : serving.model.decide(probability, reviewMargin);
    }
    await options.onScored?.({ header, firstRow, lines: lines(), probabilities, decided, ids });
    if (!wantCsv) return null;
    let text = "";
    for (let i = 0; i < rows; i++) {
      const row = firstRow + i + 1;
      text += csvAnswerLine(
        shape,
        row,
        row + 1,
        ids?.[i],
        probabilities[i],
        decided[i],
        detailed.get(row),
        omitted,
      ) +
        "\n";
    }
    return encoder.encode(text);
  };

  /** A worker's chunk once back: its CSV bytes (after `onScored`), or parsed here if it was handed back. */
  const finish = async (chunk: LineChunk, reply: BatchReply | null): Promise<Uint8Array | null> => {
    const rows = chunk.rows;
    if (reply && reply.csv) {
      if (options.onScored) {
        const decided: Decision[] = new Array(rows);
        for (let i = 0; i < rows; i++) decided[i] = DECISIONS[reply.decisions![i]];
        await options.onScored({
          header,
          firstRow: chunk.firstRow,
          lines: chunkLines(chunk),
          probabilities: reply.probabilities!,
          decided,
          ids: shape.ids ? reply.ids : null,
        });
      }
      return wantCsv ? reply.csv : null;
    }
    return await scoreHere(parseHere(chunk), Promise.resolve());
  };

  let written = 0;
  let headerWritten = false;
  /** A chunk's answer lines, after the header the first time (nothing once a strict batch failed). */
  const answer = function* (bytes: Uint8Array | null | undefined): Generator<Uint8Array> {
    if (!bytes || failedStrict) return;
    if (!headerWritten) {
      headerWritten = true;
      yield encoder.encode(csvAnswerHeader(shape) + "\n");
    }
    yield bytes;
  };
  const drain = async function* (keep: number): AsyncGenerator<Uint8Array> {
    while (queue.length > keep) {
      const next = queue.shift()!;
      if (next.done) {
        const bytes = await next.done;
        release(next.chunk.bytes);
        yield* answer(bytes);
        written += next.chunk.rows;
        options.onProgress?.(written);
        continue;
      }
      const reply = next.reply ? await next.reply : null;
      if (failedStrict && reply?.csv) {
        written += next.chunk.rows; // a clean chunk after the failure: nothing to count
        continue;
      }
      // A chunk handed back comes with its bytes (they were transferred to the worker).
      const chunk = reply?.bytes ? { ...next.chunk, bytes: reply.bytes } : next.chunk;
      const bytes = await finish(chunk, reply);
      release(reply?.input);
      release(chunk.bytes);
      yield* answer(bytes);
      written += next.chunk.rows;
      options.onProgress?.(written);
    }
  };

  for await (const piece of input) {
    for (const chunk of splitter.push(piece)) dispatch(chunk);
    yield* drain(inFlight);
  }
  for (const chunk of splitter.end()) dispatch(chunk);
  summary.rows = splitter.rows;
  if (splitter.rows === 0) {
    parseOrHeaderError(splitter.header!, "", source); // reports a bad header before "no rows"
    throw new BatchInputError([{ field: "(body)", message: "the CSV has a header but no rows" }]);
  }
  yield* drain(0);
  if (options.strict && summary.errorsTotal) {
    const result: BatchResult = {
      rows: splitter.rows,
      probabilities: new Float64Array(0),
      firstLine: 2,
      ids: null,
      errors: summary.errors,
      errorsTotal: summary.errorsTotal,
    };
    throw new StrictBatchError(result);
  }
}

/**
 * {@link streamCsvBytes} on text pieces, yielding text: the same answer, for callers that hold
 * strings.
 */
export async function* streamCsvScores(
  serving: ServingModel,
  input: AsyncIterable<string>,
  summary: StreamSummary,
  options: StreamOptions = {},
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  async function* bytes() {
    let rest = "";
    for await (const piece of input) {
      // A piece may end between the two halves of a surrogate pair: that half waits for the next.
      const text = rest + piece;
      const last = text.charCodeAt(text.length - 1);
      const cut = last >= 0xd800 && last <= 0xdbff ? text.length - 1 : text.length;
      rest = text.slice(cut);
      yield encoder.encode(text.slice(0, cut));
    }
    if (rest) yield encoder.encode(rest);
  }
  for await (const piece of streamCsvBytes(serving, bytes(), summary, options)) {
    yield decoder.decode(piece, { stream: true });
  }
}

/** A byte stream decoded as UTF-8 text pieces (a byte-order mark dropped, bad bytes replaced). */
export function decodeStream(bytes: ReadableStream<Uint8Array>): AsyncIterable<string> {
  // TextDecoderStream's writable takes any BufferSource; some lib settings see no overlap with Uint8Array.
  return bytes.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>);
}
