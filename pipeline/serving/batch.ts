/**
 * Batch scoring shared by `POST /predict/batch` and `deno task score`: CSV text (through the
 * polars ETL and `transformFrame`) or an array of JSON records (through `validateApplicant` and
 * `transformRecords`), scored by the forest's own batch prediction inline or on a worker pool.
 *
 * A CSV is cut into chunks of lines; each chunk goes through `parseCreditText` whole. The ETL
 * refuses a table with any bad value, so a chunk it refuses is re-read row by row with the
 * schema's `validateApplicant` (the API's own messages), the bad rows are set aside with their
 * line numbers, and the rest go through the ETL again. Whatever the ETL still refuses (rules only
 * it knows, such as the `class` column) is set aside with the ETL's message, until the chunk
 * parses. A clean file pays for one parse, and the worker pool scores chunk k while the next
 * chunk is parsed.
 * @module
 */

import { splitCsvLine } from "../data/csv.ts";
import { DataError, ID_COLUMN, parseCreditText } from "../data/etl.ts";
import { type AttributeContribution, topContributions } from "../model/reasons.ts";
import type { Matrix } from "../forest/mod.ts";
import type { Decision } from "../model/artifact.ts";
import { type Applicant, ATTRIBUTES, type FieldIssue, validateApplicant } from "../data/schema.ts";
import type { ServingModel } from "./model_holder.ts";
import type { PredictionPool } from "./predict_pool.ts";
import { encodeCleanChunk } from "./batch_fast.ts";

/** One rejected input row. */
export interface RowError {
  /** 1-based position among the data rows (the CSV header not counted). */
  readonly row: number;
  /** 1-based line in the CSV text (CSV input only). */
  readonly line?: number;
  /** The row's pass-through id, when it had one. */
  readonly id?: string;
  readonly issues: readonly FieldIssue[];
}

/** The outcome of a batch: a probability per input row, NaN where the row was rejected. */
export interface BatchResult {
  /** Data rows in the input. */
  readonly rows: number;
  readonly probabilities: Float64Array;
  /** CSV line of the first data row (row i is on line `firstLine + i`), or null for JSON input. */
  readonly firstLine: number | null;
  /** Pass-through ids (CSV `id` column or JSON `id` field), or null when the input had none. */
  readonly ids: readonly (string | undefined)[] | null;
  /**
   * The first rejected rows in row order, at most {@link BatchOptions.maxErrors}: junk input must
   * not turn into hundreds of megabytes of messages. Every rejected row has a NaN probability.
   */
  readonly errors: readonly RowError[];
  /** All rejected rows; more than `errors.length` when the list was truncated. */
  readonly errorsTotal: number;
  /** With `explain`: each scored row's {@link BATCH_REASONS} largest attribute contributions. */
  readonly reasons?: readonly (readonly AttributeContribution[] | undefined)[];
}

/** How to score a batch. */
export interface BatchOptions {
  /** Reject the whole batch (nothing scored) when any row is invalid. */
  strict?: boolean;
  /** Called after each chunk with rows done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Worker pool for large batches; inline scoring when null or absent. */
  pool?: PredictionPool | null;
  /** Rows per chunk (default {@link DEFAULT_CHUNK_ROWS}). */
  chunkRows?: number;
  /** Batches with fewer rows score inline even with a pool (default 50,000). */
  poolMinRows?: number;
  /** Name of the input in messages. */
  source?: string;
  /** Rejected rows described in detail (default {@link MAX_ERROR_DETAILS}); the rest are only counted. */
  maxErrors?: number;
  /** Add each row's top reasons (TreeSHAP, a few ms per row; at most {@link EXPLAIN_MAX_ROWS} rows). */
  explain?: boolean;
}

/** Rejected rows a batch answer describes in detail by default. */
export const MAX_ERROR_DETAILS = 1_000;

/** Rows a batch may ask to have explained: TreeSHAP costs milliseconds per row. */
export const EXPLAIN_MAX_ROWS = 10_000;
/** Reasons given per row of an explained batch. */
export const BATCH_REASONS = 3;

/** Input that cannot be read as a batch at all (bad header, empty body, not an array), with every problem. */
export class BatchInputError extends Error {
  constructor(readonly issues: readonly FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join("; "));
    this.name = "BatchInputError";
  }
}

/** A batch with more rows than its cap, refused as soon as the row past the cap is read. */
export class TooManyRowsError extends Error {
  constructor(readonly limit: number, readonly setting: string) {
    super(`the batch has more than ${limit} rows, the cap (${setting})`);
    this.name = "TooManyRowsError";
  }
}

/** A strict batch with invalid rows: nothing was scored. */
export class StrictBatchError extends Error {
  constructor(readonly result: BatchResult) {
    super(`${result.errorsTotal} of ${result.rows} rows are invalid; strict mode scores none`);
    this.name = "StrictBatchError";
  }
}

/** Rows per CSV chunk: big enough for polars to be efficient, small enough to pipeline. */
export const DEFAULT_CHUNK_ROWS = 65_536;
const DEFAULT_POOL_MIN_ROWS = 50_000;

/** Scores CSV text with a header of attribute names (plus optional `id` and `class` columns). */
export async function scoreCsv(
  serving: ServingModel,
  text: string,
  options: BatchOptions = {},
): Promise<BatchResult> {
  const source = options.source ?? "input";
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const dataEnd = endOfContent(body);
  if (dataEnd === 0) throw new BatchInputError([{ field: "(body)", message: "the CSV is empty" }]);
  let headerEnd = body.indexOf("\n");
  if (headerEnd < 0 || headerEnd > dataEnd) headerEnd = dataEnd;
  const header = trimEnd(body.slice(0, headerEnd));
  const cuts = chunkCuts(body, headerEnd + 1, dataEnd, options.chunkRows ?? DEFAULT_CHUNK_ROWS);
  const total = cuts.rows;
  if (total === 0) {
    parseOrHeaderError(header, "", source); // reports a bad header before "no rows"
    throw new BatchInputError([{ field: "(body)", message: "the CSV has a header but no rows" }]);
  }
  if (options.explain) checkExplainRows(total);
  const columns = splitCsvLine(header).map((h) => h.trim());
  const idColumn = columns.indexOf(ID_COLUMN);
  const ids: (string | undefined)[] | null = idColumn >= 0 ? new Array(total) : null;
  const probabilities = new Float64Array(total).fill(NaN);
  const errors: RowError[] = [];
  let errorsTotal = 0;
  const maxErrors = options.maxErrors ?? MAX_ERROR_DETAILS;
  const pool = total >= (options.poolMinRows ?? DEFAULT_POOL_MIN_ROWS) ? options.pool ?? null : null;
  const pending: Promise<void>[] = [];
  const toExplain: { matrix: Matrix; rowOf: (i: number) => number }[] = [];
  let done = 0;
  for (let k = 0; k < cuts.starts.length; k++) {
    const firstRow = cuts.firstRows[k];
    const slice = body.slice(cuts.starts[k], k + 1 < cuts.starts.length ? cuts.starts[k + 1] - 1 : dataEnd);
    const rows = (k + 1 < cuts.firstRows.length ? cuts.firstRows[k + 1] : total) - firstRow;
    const chunk = parseChunk(serving, header, columns, slice, firstRow, rows, source);
    // Chunks come in row order, so the first rejected rows of the batch are kept in detail.
    chunk.errors.sort((a, b) => a.row - b.row);
    for (const e of chunk.errors) if (errors.length < maxErrors) errors.push(e);
    errorsTotal += chunk.errors.length;
    if (ids) {
      chunk.ids?.forEach((id, i) => (ids[chunk.kept ? chunk.kept[i] : firstRow + i] = id));
      for (const e of chunk.errors) ids[e.row - 1] = e.id;
    }
    const finished = () => {
      done += rows;
      options.onProgress?.(done, total);
    };
    if (chunk.matrix && !(options.strict && errorsTotal)) {
      const { kept, matrix } = chunk;
      const job = scoreMatrix(serving, matrix, pool).then((p) => {
        if (kept) { for (let i = 0; i < kept.length; i++) probabilities[kept[i]] = p[i]; }
        else probabilities.set(p, firstRow);
        finished();
      });
      // Marked handled now: if a later chunk throws, an earlier failure must not go unhandled.
      job.catch(() => {});
      pending.push(job);
      if (options.explain) toExplain.push({ matrix, rowOf: (i) => (kept ? kept[i] : firstRow + i) });
    } else {
      finished();
    }
    // Let worker replies land (and progress show) between chunks.
    if (pool) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.all(pending);
  const result: BatchResult = { rows: total, probabilities, firstLine: 2, ids, errors, errorsTotal };
  if (options.strict && errorsTotal) throw new StrictBatchError(result);
  if (!options.explain) return result;
  const reasons: (AttributeContribution[] | undefined)[] = new Array(total);
  for (const { matrix, rowOf } of toExplain) {
    await explainRows(serving, matrix, rowOf, reasons, options.pool ?? null);
  }
  return { ...result, reasons };
}

/** Scores an array of applicant records (each may carry a pass-through `id`). */
export async function scoreRecords(
  serving: ServingModel,
  records: readonly unknown[],
  options: Pick<BatchOptions, "strict" | "pool" | "explain" | "maxErrors"> = {},
): Promise<BatchResult> {
  if (options.explain) checkExplainRows(records.length);
  const valid: Applicant[] = [];
  const kept: number[] = [];
  const errors: RowError[] = [];
  let errorsTotal = 0;
  const maxErrors = options.maxErrors ?? MAX_ERROR_DETAILS;
  let ids: (string | undefined)[] | null = null;
  for (let i = 0; i < records.length; i++) {
    let record = records[i];
    let id: string | undefined;
    if (isPlainObject(record) && Object.hasOwn(record, ID_COLUMN)) {
      const { [ID_COLUMN]: raw, ...rest } = record;
      if (typeof raw === "string" || typeof raw === "number") id = String(raw);
      record = rest;
      ids ??= new Array(records.length);
      ids[i] = id;
    }
    const checked = validateApplicant(record);
    if (checked.ok) {
      valid.push(checked.value);
      kept.push(i);
    } else {
      errorsTotal++;
      if (errors.length < maxErrors) {
        errors.push({ row: i + 1, ...(id === undefined ? {} : { id }), issues: checked.issues });
      }
    }
  }
  const probabilities = new Float64Array(records.length).fill(NaN);
  const result: BatchResult = {
    rows: records.length,
    probabilities,
    firstLine: null,
    ids,
    errors,
    errorsTotal,
  };
  if (options.strict && errorsTotal) throw new StrictBatchError(result);
  if (valid.length) {
    const matrix = serving.model.encoder.transformRecords(valid);
    // The pool takes the scored matrix's buffer; explaining needs the rows afterwards.
    const rows = options.explain ? { ...matrix, data: matrix.data.slice() } : matrix;
    const p = await scoreMatrix(serving, matrix, options.pool ?? null);
    for (let i = 0; i < kept.length; i++) probabilities[kept[i]] = p[i];
    if (options.explain) {
      const reasons: (AttributeContribution[] | undefined)[] = new Array(records.length);
      await explainRows(serving, rows, (i) => kept[i], reasons, options.pool ?? null);
      return { ...result, reasons };
    }
  }
  return result;
}

function checkExplainRows(rows: number): void {
  if (rows > EXPLAIN_MAX_ROWS) {
    throw new BatchInputError([{
      field: "explain",
      message: `explanations are limited to ${EXPLAIN_MAX_ROWS} rows a batch; this one has ${rows}`,
    }]);
  }
}

/**
 * Each matrix row's top reasons into `reasons[rowOf(i)]`: on the worker pool (every core) when
 * there is one, else here, yielding now and then to other requests.
 */
async function explainRows(
  serving: ServingModel,
  matrix: Matrix,
  rowOf: (i: number) => number,
  reasons: (AttributeContribution[] | undefined)[],
  pool: PredictionPool | null,
): Promise<void> {
  if (pool && matrix.rows > 0) {
    checkFinite(matrix);
    const { model } = serving;
    const players = ATTRIBUTES.length;
    const all = await pool.explain(
      serving.sha256,
      { forest: model.forest, players: model.players },
      matrix.data,
      matrix.rows,
    );
    for (let i = 0; i < matrix.rows; i++) {
      reasons[rowOf(i)] = topContributions(all.subarray(i * players, (i + 1) * players), BATCH_REASONS);
    }
    return;
  }
  const explainer = serving.model.explainer;
  const contributions = new Float64Array(ATTRIBUTES.length);
  let since = performance.now();
  for (let i = 0; i < matrix.rows; i++) {
    explainer.contributionsOfRow(matrix.data.subarray(i * matrix.cols, (i + 1) * matrix.cols), contributions);
    reasons[rowOf(i)] = topContributions(contributions, BATCH_REASONS);
    if (performance.now() - since > EXPLAIN_SLICE_MS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      since = performance.now();
    }
  }
}

/** Longest stretch of explaining before the event loop gets a turn. */
const EXPLAIN_SLICE_MS = 20;

/** The decision for each row (undefined for rejected rows). */
export function decisions(
  serving: ServingModel,
  result: BatchResult,
  reviewMargin = 0,
): (Decision | undefined)[] {
  const out: (Decision | undefined)[] = new Array(result.rows);
  for (let i = 0; i < result.rows; i++) {
    const p = result.probabilities[i];
    out[i] = Number.isNaN(p) ? undefined : serving.model.decide(p, reviewMargin);
  }
  return out;
}

/** P(bad) of each matrix row, on the pool when given; non-finite features are refused. */
export function scoreMatrix(
  serving: ServingModel,
  matrix: Matrix,
  pool: PredictionPool | null,
): Promise<Float64Array> {
  if (matrix.rows === 0) return Promise.resolve(new Float64Array(0));
  checkFinite(matrix);
  const forest = serving.model.forest;
  if (pool) return pool.predict(serving.sha256, forest.packed, matrix);
  return Promise.resolve(forest.predictProba(matrix));
}

/** The forest's walk sends NaN left without complaint: refuse non-finite features instead. */
function checkFinite({ data, cols }: Matrix): void {
  for (let i = 0; i < data.length; i++) {
    // `x - x` is NaN exactly for NaN and ±Infinity.
    if (data[i] - data[i] !== 0) {
      throw new RangeError(`row ${Math.floor(i / cols)} has a non-finite feature ${data[i]}`);
    }
  }
}

/** Where each chunk starts in the text, and its first row; `rows` counts all data lines. */
function chunkCuts(body: string, from: number, to: number, chunkRows: number) {
  const starts: number[] = [];
  const firstRows: number[] = [];
  let rows = 0;
  let position = from;
  while (position < to) {
    if (rows % chunkRows === 0) {
      starts.push(position);
      firstRows.push(rows);
    }
    rows++;
    const newline = body.indexOf("\n", position);
    position = newline < 0 || newline >= to ? to : newline + 1;
  }
  return { starts, firstRows, rows };
}

/** One chunk of CSV lines after parsing: the rows that parsed as a matrix, the others as errors. */
export interface ParsedChunk {
  /** Batch rows (0-based) of the matrix rows, or null when every row of the chunk parsed. */
  kept: number[] | null;
  /** Features of the rows that parsed, or null when none did. */
  matrix: Matrix | null;
  /** Pass-through ids of the matrix rows. */
  ids: string[] | null;
  errors: RowError[];
}

/**
 * Parses `rows` CSV lines (`text` joined by LF, or the lines; batch rows from `firstRow`, 0-based)
 * under `header`, setting rejected rows aside. A plainly valid chunk is encoded without the ETL
 * (`batch_fast.ts`; `fast: false` turns that off).
 */
export function parseChunk(
  serving: ServingModel,
  header: string,
  columns: readonly string[],
  text: string | readonly string[],
  firstRow: number,
  rows: number,
  source: string,
  options: { fast?: boolean } = {},
): ParsedChunk {
  if (options.fast ?? true) {
    const lines = typeof text === "string" ? text.split("\n") : text;
    const fast = lines.length === rows
      ? encodeCleanChunk(serving.model.encoder, header, columns, lines)
      : null;
    if (fast) return { kept: null, matrix: fast.matrix, ids: fast.ids, errors: [] };
  }
  const slice = typeof text === "string" ? text : text.join("\n");
  try {
    const table = parseOrHeaderError(header, slice, source);
    // The ETL drops blank lines at the end of a text: a count that differs means one was there.
    if (table.frame.height === rows) {
      return {
        kept: null,
        matrix: serving.model.encoder.transformFrame(table.frame),
        ids: table.ids,
        errors: [],
      };
    }
  } catch (error) {
    if (!(error instanceof DataError)) throw error;
  }
  return parseRowByRow(serving, header, columns, slice.split("\n").map(trimEnd), firstRow, source);
}

/** The slow path for a chunk the ETL refused: sets bad rows aside until the rest parses. */
function parseRowByRow(
  serving: ServingModel,
  header: string,
  columns: readonly string[],
  lines: readonly string[],
  firstRow: number,
  source: string,
): ParsedChunk {
  const idColumn = columns.indexOf(ID_COLUMN);
  const errors: RowError[] = [];
  const reject = (i: number, issues: readonly FieldIssue[]) => {
    const id = idColumn >= 0 ? splitCsvLine(lines[i])[idColumn]?.trim() : undefined;
    const row = firstRow + i + 1;
    errors.push({ row, line: row + 1, ...(id === undefined ? {} : { id }), issues });
  };
  let kept: number[] = [];
  lines.forEach((line, i) => {
    // A blank row must not reach the ETL, which drops blank lines at the end of a text.
    if (line === "") reject(i, [fieldCountIssue(columns.length, 0)]);
    else kept.push(i);
  });
  let checkedRows = false;
  // Each failed pass sets aside at least one row, so this ends.
  while (kept.length) {
    let table;
    try {
      table = parseOrHeaderError(header, kept.map((i) => lines[i]).join("\n"), source);
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      // The schema's verdict first (the API's words); then whatever the ETL alone refuses.
      let issuesByRow = checkedRows ? new Map<number, FieldIssue[]>() : validateCsvRows(columns, lines, kept);
      checkedRows = true;
      if (issuesByRow.size === 0) issuesByRow = etlIssues(error, kept);
      if (issuesByRow.size === 0) throw error;
      kept = kept.filter((i) => {
        const issues = issuesByRow.get(i);
        if (issues) reject(i, issues);
        return !issues;
      });
      continue;
    }
    return {
      kept: kept.map((i) => firstRow + i),
      matrix: serving.model.encoder.transformFrame(table.frame),
      ids: table.ids,
      errors,
    };
  }
  return { kept: [], matrix: null, ids: null, errors };
}

/** The ETL's problems by chunk line (line 2 of the parsed text is `kept[0]`). */
function etlIssues(error: DataError, kept: readonly number[]): Map<number, FieldIssue[]> {
  const byLine = new Map<number, FieldIssue[]>();
  for (const p of error.problems) {
    const i = kept[p.line - 2];
    if (i === undefined) continue;
    const issues = byLine.get(i) ?? [];
    issues.push({ field: p.column || "(row)", message: p.message });
    byLine.set(i, issues);
  }
  return byLine;
}

/** Parses header + rows with the ETL; problems in the header reject the whole batch. */
export function parseOrHeaderError(header: string, rows: string, source: string) {
  try {
    return parseCreditText(header + "\n" + rows + "\n", { format: "csv", source });
  } catch (error) {
    if (error instanceof DataError) {
      const headerProblems = error.problems.filter((p) => p.line <= 1);
      if (headerProblems.length) {
        throw new BatchInputError(
          headerProblems.map((p) => ({ field: p.column || "(header)", message: `header: ${p.message}` })),
        );
      }
    }
    throw error;
  }
}

/** The schema's verdict on each listed CSV line; lines without problems are absent from the map. */
function validateCsvRows(
  columns: readonly string[],
  lines: readonly string[],
  indices: readonly number[],
): Map<number, FieldIssue[]> {
  const attributeAt = columns.map((name) => ATTRIBUTES.find((a) => a.name === name));
  const out = new Map<number, FieldIssue[]>();
  for (const i of indices) {
    const cells = lines[i] === "" ? [] : splitCsvLine(lines[i]);
    if (cells.length !== columns.length) {
      out.set(i, [fieldCountIssue(columns.length, cells.length)]);
      continue;
    }
    const record: Record<string, unknown> = {};
    for (let c = 0; c < cells.length; c++) {
      const a = attributeAt[c];
      const cell = cells[c].trim();
      if (!a || cell === "") continue; // id/class columns; an empty cell is a missing value
      record[a.name] = a.kind === "numeric" && NUMBER.test(cell) ? Number(cell) : cell;
    }
    const checked = validateApplicant(record);
    if (!checked.ok) out.set(i, checked.issues);
  }
  return out;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The ETL's words for a row whose field count differs from the header's. */
function fieldCountIssue(width: number, found: number): FieldIssue {
  return { field: "(row)", message: `expected ${width} fields as in the header, found ${found}` };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The index just past the last non-blank character: trailing blank lines are not rows (as in the ETL). */
function endOfContent(text: string): number {
  let end = text.length;
  while (end > 0 && WHITE_SPACE.test(text[end - 1])) end--;
  return end;
}

const WHITE_SPACE = /\s/;

/** `line.replace(/\s+$/, "")`, skipping the regular expression for lines ending in printable ASCII. */
export function trimEnd(line: string): string {
  const last = line.charCodeAt(line.length - 1);
  return last > 32 && last < 127 ? line : line.replace(/\s+$/, "");
}
