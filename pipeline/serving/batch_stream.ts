/**
 * Streaming CSV batch scoring: a CSV read piece by piece, scored chunk by chunk, and written out
 * as the CSV answer chunk by chunk, so memory holds a few chunks whatever the input's size. The
 * main thread parses chunk k+1 while the worker pool scores chunk k.
 *
 * The answer is byte for byte the one {@link scoreCsv} + {@link batchToCsv} give for the same
 * text: lines are cut at LF exactly as there (not by a quote-aware reader, since the batch path
 * numbers rows by line and hands whole chunks to the ETL), each chunk goes through the same
 * {@link parseChunk}, each row through the same {@link csvAnswerLine}, and trailing blank lines
 * are not rows.
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
  TooManyRowsError,
  trimEnd,
} from "./batch.ts";
import { csvAnswerHeader, csvAnswerLine, type CsvAnswerShape, omittedErrorNote } from "./batch_format.ts";
import type { ServingModel } from "./model_holder.ts";
import type { Decision } from "../model/artifact.ts";
import type { PredictionPool } from "./predict_pool.ts";

/** How to stream a batch. */
export interface StreamOptions {
  /** Reject the whole batch when any row is invalid: the output then throws {@link StrictBatchError}. */
  strict?: boolean;
  pool?: PredictionPool | null;
  /** Rows per chunk (default {@link STREAM_CHUNK_ROWS}). */
  chunkRows?: number;
  /** Characters a chunk's lines may hold before it is cut early (default {@link CHUNK_CHARS}). */
  chunkChars?: number;
  /** Chunks parsed ahead of the one being written (default 2): what bounds memory. */
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
  /** The chunk's data lines as read (LF cut, not trimmed). */
  readonly lines: readonly string[];
  /** P(bad) per line, NaN where the row was rejected. */
  readonly probabilities: Float64Array;
  /** The decision per line, undefined where the row was rejected. */
  readonly decided: readonly (Decision | undefined)[];
  /** Pass-through ids per line, or null when the CSV has no `id` column. */
  readonly ids: readonly (string | undefined)[] | null;
}

/**
 * Rows per streamed chunk: an eighth of the whole-text scorer's, since every chunk in flight is
 * resident (its lines, features and answer); smaller chunks cost per-chunk overhead, not bytes.
 */
export const STREAM_CHUNK_ROWS = 8_192;

/** A chunk is cut early past this many characters, so long lines cannot make a chunk huge. */
export const CHUNK_CHARS = 8 * 1024 * 1024;

/** Longest line accepted (characters): a German Credit row is about 100, an absurd one is refused, not buffered. */
export const MAX_LINE_CHARS = 4_096;

/** What a streamed batch found, filled in as its output is read. */
export interface StreamSummary {
  rows: number;
  /** The first rejected rows, in row order, at most `maxErrors`. */
  readonly errors: RowError[];
  errorsTotal: number;
}

/**
 * Scores a CSV text stream; yields the CSV answer in pieces (its header with the first rows).
 * `summary` is complete once the generator is done. Throws {@link BatchInputError} for unreadable
 * input before yielding anything; in strict mode throws {@link StrictBatchError} at the end, after
 * the rows before the first invalid one were yielded, so strict callers hold the output until the
 * end (a temporary file renamed into place does).
 */
export async function* streamCsvScores(
  serving: ServingModel,
  input: AsyncIterable<string>,
  summary: StreamSummary,
  options: StreamOptions = {},
): AsyncGenerator<string> {
  const source = options.source ?? "input";
  const chunkRows = options.chunkRows ?? STREAM_CHUNK_ROWS;
  const maxErrors = options.maxErrors ?? MAX_ERROR_DETAILS;
  const maxRows = options.maxRows ?? Infinity;
  const inFlight = Math.max(1, options.inFlight ?? 2);
  const reviewMargin = options.reviewMargin ?? 0;
  const omitted = omittedErrorNote(maxErrors);

  let header: string | null = null;
  let columns: string[] = [];
  let shape: CsvAnswerShape = { lines: true, ids: false, reasons: false };
  let sawContent = false;
  /** The last line with content, held back: if it ends the input, its trailing white space goes. */
  let held: string | null = null;
  /** Blank lines after `held`, run-length encoded: rows only if content follows them. */
  const blanks: [string, number][] = [];
  let chunk: string[] = [];
  let chunkChars = 0;
  const maxChunkChars = options.chunkChars ?? CHUNK_CHARS;
  let nextRow = 0;
  const queue: { text: Promise<string>; rows: number }[] = [];

  const wantCsv = options.csv ?? true;
  /** The chunk's scores and decisions in line order, handed to `onScored`, then its CSV text. */
  const finishChunk = async (
    parsed: ParsedChunk,
    p: Float64Array,
    firstRow: number,
    lines: string[],
    detailed: Map<number, RowError>,
  ): Promise<string> => {
    const rows = lines.length;
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
    await options.onScored?.({ header: header!, firstRow, lines, probabilities, decided, ids });
    if (!wantCsv) return "";
    const out: string[] = new Array(rows);
    for (let i = 0; i < rows; i++) {
      const row = firstRow + i + 1;
      out[i] = csvAnswerLine(
        shape,
        row,
        row + 1,
        ids?.[i],
        probabilities[i],
        decided[i],
        detailed.get(row),
        omitted,
      );
    }
    return (firstRow === 0 ? csvAnswerHeader(shape) + "\n" : "") + out.join("\n") + "\n";
  };

  const dispatch = () => {
    const firstRow = nextRow;
    const lines = chunk;
    chunk = [];
    chunkChars = 0;
    nextRow += lines.length;
    if (firstRow === 0) {
      columns = splitCsvLine(header!).map((h) => h.trim());
      shape = { lines: true, ids: columns.indexOf(ID_COLUMN) >= 0, reasons: false };
    }
    const parsed = parseChunk(serving, header!, columns, lines, firstRow, lines.length, source);
    parsed.errors.sort((a, b) => a.row - b.row);
    const detailed = new Map<number, RowError>();
    for (const e of parsed.errors) {
      if (summary.errors.length < maxErrors) {
        summary.errors.push(e);
        detailed.set(e.row, e);
      }
    }
    summary.errorsTotal += parsed.errors.length;
    if (options.strict && summary.errorsTotal) {
      queue.length = 0; // nothing more is written; the rest is only counted
      return;
    }
    const pool = firstRow > 0 || lines.length >= chunkRows ? options.pool ?? null : null;
    const job = parsed.matrix
      ? scoreMatrix(serving, parsed.matrix, pool)
      : Promise.resolve(new Float64Array(0));
    const text = job.then((p) => finishChunk(parsed, p, firstRow, lines, detailed));
    text.catch(() => {}); // awaited in order below; a later failure must not go unhandled meanwhile
    queue.push({ text, rows: lines.length });
  };

  const addRow = (line: string) => {
    if (nextRow + chunk.length >= maxRows) {
      throw new TooManyRowsError(maxRows, options.maxRowsSetting ?? "BATCH_MAX_CSV_ROWS");
    }
    chunk.push(line);
    chunkChars += line.length;
    if (chunk.length === chunkRows || chunkChars >= maxChunkChars) dispatch();
  };

  let linesSeen = 0;
  const take = (line: string) => {
    linesSeen++;
    if (line.length > MAX_LINE_CHARS) throw lineTooLong(linesSeen);
    const blank = BLANK.test(line);
    if (!blank) sawContent = true;
    if (header === null) {
      header = trimEnd(line);
    } else if (blank) {
      const last = blanks[blanks.length - 1];
      if (last && last[0] === line) last[1]++;
      else blanks.push([line, 1]);
    } else {
      if (held !== null) addRow(held);
      for (const [text, count] of blanks) for (let i = 0; i < count; i++) addRow(text);
      blanks.length = 0;
      held = line;
    }
  };

  let written = 0;
  const drain = async function* (keep: number): AsyncGenerator<string> {
    while (queue.length > keep) {
      const next = queue.shift()!;
      const text = await next.text;
      if (text !== "") yield text;
      written += next.rows;
      options.onProgress?.(written);
    }
  };

  let rest = "";
  let first = true;
  for await (let piece of input) {
    if (first) {
      if (piece.charCodeAt(0) === 0xfeff) piece = piece.slice(1);
      if (piece === "") continue;
      first = false;
    }
    const lines = (rest + piece).split("\n");
    rest = lines.pop()!;
    if (rest.length > MAX_LINE_CHARS) throw lineTooLong(linesSeen + 1);
    for (const line of lines) take(line);
    yield* drain(inFlight);
  }
  take(rest);
  if (!sawContent) throw new BatchInputError([{ field: "(body)", message: "the CSV is empty" }]);
  if (held !== null) addRow((held as string).replace(/\s+$/, ""));
  if (chunk.length) dispatch();
  summary.rows = nextRow;
  if (nextRow === 0) {
    parseOrHeaderError(header!, "", source); // reports a bad header before "no rows"
    throw new BatchInputError([{ field: "(body)", message: "the CSV has a header but no rows" }]);
  }
  yield* drain(0);
  if (options.strict && summary.errorsTotal) {
    const result: BatchResult = {
      rows: nextRow,
      probabilities: new Float64Array(0),
      firstLine: 2,
      ids: null,
      errors: summary.errors,
      errorsTotal: summary.errorsTotal,
    };
    throw new StrictBatchError(result);
  }
}

const BLANK = /^\s*$/;

function lineTooLong(line: number): BatchInputError {
  return new BatchInputError([{
    field: "(body)",
    message: `line ${line} is longer than ${MAX_LINE_CHARS} characters; a row of this schema is about 100`,
  }]);
}

/** A byte stream decoded as UTF-8 text pieces (a byte-order mark dropped, bad bytes replaced). */
export function decodeStream(bytes: ReadableStream<Uint8Array>): AsyncIterable<string> {
  // TextDecoderStream's writable takes any BufferSource; some lib settings see no overlap with Uint8Array.
  return bytes.pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>);
}
