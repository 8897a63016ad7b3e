/**
 * Batch scoring shared by `POST /predict/batch` and `deno task score`: CSV text (through the
 * polars ETL and `transformFrame`) or an array of JSON records (through `validateApplicant` and
 * `transformRecords`), scored by the lock-step forest, inline or on a worker pool.
 *
 * A CSV is cut into chunks; each chunk goes through `parseCreditText` whole. The ETL refuses a
 * table with any bad value, so a chunk it refuses is re-read row by row with the schema's own
 * `validateApplicant` (the API's messages), the bad rows are set aside with their line numbers,
 * and the rest go through the ETL again. Whatever the ETL still refuses (rules only it knows, such
 * as the `class` column) is set aside with its message, until the chunk parses. A clean file pays
 * for one parse only.
 * @module
 */

import { DataError, ID_COLUMN, parseCreditText } from "../etl.ts";
import type { Matrix } from "../features.ts";
import type { Decision } from "../model.ts";
import { type Applicant, ATTRIBUTES, type FieldIssue, validateApplicant } from "../schema.ts";
import { predictBatch } from "./forest_kernel.ts";
import type { ServingModel } from "./model_holder.ts";
import type { PredictionPool } from "./predict_pool.ts";

/** One rejected input row. */
export interface RowError {
  /** 1-based position among the data rows (the CSV header and JSON brackets not counted). */
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
  /** CSV line of each row, or null for JSON input. */
  readonly lines: Int32Array | null;
  /** Pass-through ids (CSV `id` column or JSON `id` field), or null when the input had none. */
  readonly ids: readonly (string | undefined)[] | null;
  /** Rejected rows in row order. */
  readonly errors: readonly RowError[];
}

/** How to score a batch. */
export interface BatchOptions {
  /** Reject the whole batch (nothing scored) when any row is invalid. */
  strict?: boolean;
  /** Called after each chunk with rows done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Worker pool for large batches; inline scoring when null/absent. */
  pool?: PredictionPool | null;
  /** Rows per chunk (default 65,536). */
  chunkRows?: number;
  /** Batches with fewer rows score inline even with a pool (default 50,000). */
  poolMinRows?: number;
  /** Name of the input in messages. */
  source?: string;
}

/** Input the batch cannot be read as at all (bad header, empty body, not an array): every problem. */
export class BatchInputError extends Error {
  constructor(readonly issues: readonly FieldIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join("; "));
    this.name = "BatchInputError";
  }
}

/** A strict batch with invalid rows: nothing was scored. */
export class StrictBatchError extends Error {
  constructor(readonly result: BatchResult) {
    super(`${result.errors.length} of ${result.rows} rows are invalid; strict mode scores none`);
    this.name = "StrictBatchError";
  }
}

/** Default rows per CSV chunk: big enough for polars to be efficient, small enough to pipeline. */
export const DEFAULT_CHUNK_ROWS = 65_536;
const DEFAULT_POOL_MIN_ROWS = 50_000;

/** Scores CSV text with a header of attribute names (plus optional `id` and `class` columns). */
export async function scoreCsv(serving: ServingModel, text: string, options: BatchOptions = {}): Promise<BatchResult> {
  const { header, lines, numbers } = splitCsvLines(text);
  if (header === null) throw new BatchInputError([{ field: "(body)", message: "the CSV is empty" }]);
  const total = lines.length;
  if (total === 0) {
    parseOrHeaderError(header, [], options.source); // reports header problems first
    throw new BatchInputError([{ field: "(body)", message: "the CSV has a header but no rows" }]);
  }
  const probabilities = new Float64Array(total).fill(NaN);
  const columns = splitCsvLine(header).map((h) => h.trim());
  const idColumn = columns.indexOf(ID_COLUMN);
  const ids: (string | undefined)[] | null = idColumn >= 0 ? new Array(total) : null;
  const errors: RowError[] = [];
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const pool = total >= (options.poolMinRows ?? DEFAULT_POOL_MIN_ROWS) ? options.pool ?? null : null;
  const pending: Promise<void>[] = [];
  let done = 0;
  for (let start = 0; start < total; start += chunkRows) {
    const end = Math.min(total, start + chunkRows);
    const chunk = parseChunk(header, columns, lines, numbers, start, end, options.source);
    for (const e of chunk.errors) {
      errors.push(idColumn >= 0 ? withId(e, splitCsvLine(lines[e.row - 1])[idColumn]) : e);
    }
    if (ids && chunk.ids) chunk.kept.forEach((row, k) => (ids[row] = chunk.ids![k]));
    if (chunk.matrix && !(options.strict && errors.length)) {
      const { kept, matrix } = chunk;
      pending.push(
        score(serving, matrix, pool).then((p) => {
          for (let k = 0; k < kept.length; k++) probabilities[kept[k]] = p[k];
          done += end - start;
          options.onProgress?.(done, total);
        }),
      );
    } else {
      done += end - start;
      options.onProgress?.(done, total);
    }
    // Let finished worker replies land (and progress show) between chunks.
    if (pool) await Promise.resolve();
  }
  await Promise.all(pending);
  if (ids && idColumn >= 0) {
    for (const e of errors) if (e.id !== undefined) ids[e.row - 1] = e.id;
  }
  errors.sort((a, b) => a.row - b.row);
  const result: BatchResult = { rows: total, probabilities, lines: numbers, ids, errors };
  if (options.strict && errors.length) throw new StrictBatchError(result);
  return result;
}

/** Scores an array of applicant records (each may carry a pass-through `id`). */
export async function scoreRecords(
  serving: ServingModel,
  records: readonly unknown[],
  options: Pick<BatchOptions, "strict" | "pool"> = {},
): Promise<BatchResult> {
  const valid: Applicant[] = [];
  const kept: number[] = [];
  const errors: RowError[] = [];
  let ids: (string | undefined)[] | null = null;
  for (let i = 0; i < records.length; i++) {
    let record = records[i];
    let id: string | undefined;
    if (record !== null && typeof record === "object" && !Array.isArray(record) && Object.hasOwn(record, "id")) {
      const { id: raw, ...rest } = record as Record<string, unknown>;
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
      errors.push({ row: i + 1, ...(id === undefined ? {} : { id }), issues: checked.issues });
    }
  }
  const probabilities = new Float64Array(records.length).fill(NaN);
  const result: BatchResult = { rows: records.length, probabilities, lines: null, ids, errors };
  if (options.strict && errors.length) throw new StrictBatchError(result);
  if (valid.length) {
    const p = await score(serving, serving.model.encoder.transformRecords(valid), options.pool ?? null);
    for (let k = 0; k < kept.length; k++) probabilities[kept[k]] = p[k];
  }
  return result;
}

/** The decision for each scored row (undefined for rejected rows). */
export function decisions(serving: ServingModel, result: BatchResult, reviewMargin = 0): (Decision | undefined)[] {
  const out: (Decision | undefined)[] = new Array(result.rows);
  for (let i = 0; i < result.rows; i++) {
    const p = result.probabilities[i];
    out[i] = Number.isNaN(p) ? undefined : serving.model.decide(p, reviewMargin);
  }
  return out;
}

function score(serving: ServingModel, matrix: Matrix, pool: PredictionPool | null): Promise<Float64Array> {
  if (matrix.rows === 0) return Promise.resolve(new Float64Array(0));
  if (pool) return pool.predict(serving.sha256, serving.batchForest, matrix);
  return Promise.resolve(predictBatch(serving.batchForest, matrix));
}

interface ParsedChunk {
  /** Batch row indices (0-based) of the rows that parsed, in order. */
  kept: number[];
  matrix: Matrix | null;
  ids: string[] | null;
  errors: RowError[];
}

function parseChunk(
  header: string,
  columns: readonly string[],
  lines: readonly string[],
  numbers: Int32Array,
  start: number,
  end: number,
  source?: string,
): ParsedChunk & { serving?: never } {
  let kept: number[] = [];
  for (let i = start; i < end; i++) kept.push(i);
  const errors: RowError[] = [];
  const reject = (row: number, issues: FieldIssue[]) =>
    errors.push({ row: row + 1, line: numbers[row], issues });
  let checkedRows = false;
  // Each pass either parses or sets aside at least one row, so this ends.
  while (kept.length) {
    try {
      const table = parseOrHeaderError(header, kept.map((i) => lines[i]), source);
      return { kept, matrix: null, ids: table.ids, errors, ...{ table } } as ParsedChunk & { table: never };
    } catch (error) {
      if (!(error instanceof DataError)) throw error;
      if (!checkedRows) {
        checkedRows = true;
        const issuesByRow = validateCsvRows(columns, lines, kept);
        kept = kept.filter((i) => {
          const issues = issuesByRow.get(i);
          if (issues) reject(i, issues);
          return !issues;
        });
        continue;
      }
      const byRow = new Map<number, FieldIssue[]>();
      for (const p of error.problems) {
        const row = kept[p.line - 2];
        if (row === undefined) continue;
        const issues = byRow.get(row) ?? [];
        issues.push({ field: p.column || "(row)", message: p.message });
        byRow.set(row, issues);
      }
      if (byRow.size === 0) throw error;
      kept = kept.filter((i) => {
        const issues = byRow.get(i);
        if (issues) reject(i, issues);
        return !issues;
      });
    }
  }
  return { kept, matrix: null, ids: null, errors };
}

/** Parses header + rows with the ETL; problems in the header reject the whole batch. */
function parseOrHeaderError(header: string, rows: readonly string[], source = "input") {
  try {
    return parseCreditText(header + "\n" + rows.join("\n") + "\n", { format: "csv", source });
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

/** The schema's verdict on each listed CSV row; rows without problems are absent from the map. */
function validateCsvRows(
  columns: readonly string[],
  lines: readonly string[],
  rows: readonly number[],
): Map<number, FieldIssue[]> {
  const attributeAt = columns.map((name) => ATTRIBUTES.find((a) => a.name === name));
  const out = new Map<number, FieldIssue[]>();
  for (const row of rows) {
    const text = lines[row];
    const cells = text.trim() === "" ? [] : splitCsvLine(text);
    if (cells.length !== columns.length) {
      out.set(row, [{
        field: "(row)",
        message: `expected ${columns.length} fields as in the header, found ${cells.length}`,
      }]);
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
    if (!checked.ok) out.set(row, checked.issues);
  }
  return out;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function withId(error: RowError, id: string | undefined): RowError {
  return id === undefined ? error : { ...error, id: unquote(id.trim()) };
}

function unquote(cell: string): string {
  return cell;
}

/** Splits text into the header and data lines as the ETL does (BOM, CRLF, trailing blanks). */
export function splitCsvLines(text: string): { header: string | null; lines: string[]; numbers: Int32Array } {
  const raw = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split("\n");
  let count = raw.length;
  for (let i = 0; i < count; i++) raw[i] = trimEnd(raw[i]);
  while (count > 0 && raw[count - 1] === "") count--;
  if (count === 0) return { header: null, lines: [], numbers: new Int32Array(0) };
  const lines = raw.slice(1, count);
  const numbers = new Int32Array(lines.length);
  for (let i = 0; i < numbers.length; i++) numbers[i] = i + 2;
  return { header: raw[0], lines, numbers };
}

function trimEnd(line: string): string {
  const last = line.charCodeAt(line.length - 1);
  // Only white space at the end needs the regular expression (CR of CRLF, stray blanks).
  return last === 13 || last === 32 || last === 9 || last === 11 || last === 12 || last > 127
    ? line.replace(/\s+$/, "")
    : line;
}

/** Splits one CSV line on commas outside double quotes, unquoting fields (as the ETL reads them). */
export function splitCsvLine(text: string): string[] {
  if (!text.includes('"')) return text.split(",");
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      fields.push(field);
      field = "";
    } else field += ch;
  }
  fields.push(field);
  return fields;
}
