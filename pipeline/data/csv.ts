/**
 * The project's CSV dialect, read and written in one place: comma-separated, RFC 4180 double
 * quotes (a quoted field may hold commas, quotes doubled as `""`, and line breaks), records ended
 * by LF, CRLF or a lone CR.
 *
 * Two leniencies are part of the dialect, because the files it reads come from spreadsheets and
 * hands: a quote opens or closes quoting anywhere in a field (`a"b,c"d` is one field `ab,cd`), and
 * a quote left open at the end of the input closes there.
 *
 * - {@link splitCsvLine} splits one line that has already been cut at its line break (the ETL and
 *   the batch scorer cut lines themselves, so they can report line numbers);
 * - {@link parseCsvRows} and {@link parseCsv} read whole texts; {@link readCsvRows} and
 *   {@link readCsvRecords} read a stream chunk by chunk, holding at most one record in memory;
 * - {@link toCsv}, {@link csvField} and {@link csvCell} write.
 *
 * A leaf of the data path: it imports only the error mark.
 * @module
 */

import { UserError } from "../errors.ts";

/** One record and the 1-based line of the input it starts on. */
export interface CsvRow {
  readonly line: number;
  readonly cells: string[];
}

/** Options of the readers. */
export interface CsvReadOptions {
  /**
   * Characters one record may span before reading stops with a {@link CsvError} (default
   * {@link DEFAULT_MAX_RECORD_CHARS}): what bounds the memory a stream reader holds, since an
   * unmatched quote would otherwise swallow the rest of the input into one field.
   */
  maxRecordChars?: number;
}

/** The default bound on one record of a stream: far above any real row of this project. */
export const DEFAULT_MAX_RECORD_CHARS = 1 << 20;

/** Input that the CSV readers refuse (a record over the size bound). */
export class CsvError extends UserError {
  override name = "CsvError";
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

const UNQUOTED = 0;
const QUOTED = 1;
/** A quote inside quotes: the next character says whether it was `""` or the closing quote. */
const QUOTE_SEEN = 2;

/**
 * The dialect's reader as a state machine fed text in pieces of any size: a piece may end
 * anywhere, inside a quoted field, between the quotes of `""` or between CR and LF.
 */
export class CsvReader {
  readonly #breaks: boolean;
  readonly #maxRecordChars: number;
  #state = UNQUOTED;
  #cells: string[] = [];
  #field = "";
  /** The previous character was a CR: an LF now completes the same line break. */
  #afterCR = false;
  #line = 1;
  #rowLine = 1;
  #rowChars = 0;

  /** `lineBreaks: false` reads one line: CR and LF are then ordinary characters. */
  constructor(options: CsvReadOptions & { lineBreaks?: boolean } = {}) {
    this.#breaks = options.lineBreaks ?? true;
    this.#maxRecordChars = options.maxRecordChars ?? Infinity;
  }

  /** Reads the next piece of text; returns the records it completed. */
  push(text: string): CsvRow[] {
    const rows: CsvRow[] = [];
    const n = text.length;
    let i = 0;
    while (i < n) {
      if (this.#state === QUOTE_SEEN) {
        if (text.charCodeAt(i) === QUOTE) {
          this.#field += '"';
          this.#state = QUOTED;
          this.#afterCR = false;
          this.#count(1);
          i++;
        } else {
          this.#state = UNQUOTED; // the quote closed quoting; this character is read unquoted
        }
        continue;
      }
      let j = i;
      if (this.#state === QUOTED) {
        while (j < n && text.charCodeAt(j) !== QUOTE) {
          const c = text.charCodeAt(j++);
          if (c === CR || (c === LF && !this.#afterCR)) this.#line++;
          this.#afterCR = c === CR;
        }
        this.#field += text.slice(i, j);
        if (j < n) {
          this.#state = QUOTE_SEEN;
          this.#afterCR = false;
          j++;
        }
      } else {
        const c = text.charCodeAt(i);
        if (c === LF && this.#afterCR && this.#breaks) {
          // The LF of a CRLF whose CR ended the record.
          this.#afterCR = false;
          i++;
          continue;
        }
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === QUOTE || d === COMMA || (this.#breaks && (d === LF || d === CR))) break;
          j++;
        }
        if (j > i) {
          this.#field += text.slice(i, j);
          this.#afterCR = false;
        }
        if (j < n) {
          const d = text.charCodeAt(j++);
          this.#afterCR = d === CR;
          if (d === QUOTE) this.#state = QUOTED;
          else if (d === COMMA) {
            this.#cells.push(this.#field);
            this.#field = "";
          } else {
            this.#cells.push(this.#field);
            rows.push({ line: this.#rowLine, cells: this.#cells });
            this.#line++;
            this.#startRecord();
            i = j;
            continue;
          }
        }
      }
      this.#count(j - i);
      i = j;
    }
    return rows;
  }

  /** Ends the input: returns the last record when it had no line break after it. */
  end(): CsvRow[] {
    if (this.#state === QUOTE_SEEN) this.#state = UNQUOTED;
    const rows: CsvRow[] = [];
    if (this.#field !== "" || this.#cells.length > 0) {
      this.#cells.push(this.#field);
      rows.push({ line: this.#rowLine, cells: this.#cells });
    }
    this.#state = UNQUOTED;
    this.#startRecord();
    return rows;
  }

  /** Adds characters read into the current record, refusing a record over the bound. */
  #count(chars: number): void {
    this.#rowChars += chars;
    if (this.#rowChars > this.#maxRecordChars) {
      throw new CsvError(
        `line ${this.#rowLine}: a record longer than ${this.#maxRecordChars} characters (an unmatched quote?)`,
      );
    }
  }

  #startRecord(): void {
    this.#cells = [];
    this.#field = "";
    this.#rowLine = this.#line;
    this.#rowChars = 0;
  }
}

/** Splits one CSV line (already cut at its line break) on commas outside quotes, unquoting fields. */
export function splitCsvLine(text: string): string[] {
  if (!text.includes('"')) return text.split(",");
  const reader = new CsvReader({ lineBreaks: false });
  return [...reader.push(text), ...reader.end()][0]?.cells ?? [""];
}

/** `splitCsvLine(text).length`, without building the fields when the line has no quotes. */
export function countCsvFields(text: string): number {
  if (text.includes('"')) return splitCsvLine(text).length;
  let count = 1;
  for (let i = text.indexOf(","); i >= 0; i = text.indexOf(",", i + 1)) count++;
  return count;
}

/** Every record of a CSV text as its cells, blank lines included (as one empty cell). */
export function parseCsvRows(text: string): string[][] {
  const reader = new CsvReader();
  return [...reader.push(text), ...reader.end()].map((row) => row.cells);
}

/** Parses CSV text with a header row into records of strings (the reader of {@link toCsv}); blank lines are skipped. */
export function parseCsv(text: string): Record<string, string>[] {
  const [header, ...body] = parseCsvRows(text).filter((cells) => !isBlank(cells));
  if (!header) return [];
  return body.map((cells) => toRecord(header, cells));
}

/** A stream of bytes (UTF-8) or of text. */
export type CsvSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

/**
 * The records of a stream as they arrive, each with the line it starts on, holding at most one
 * chunk and one record in memory. A byte-order mark at the start of a byte stream is dropped.
 */
export async function* readCsvRows(source: CsvSource, options: CsvReadOptions = {}): AsyncGenerator<CsvRow> {
  const reader = new CsvReader({ maxRecordChars: options.maxRecordChars ?? DEFAULT_MAX_RECORD_CHARS });
  const decoder = new TextDecoder();
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    yield* reader.push(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
  }
  yield* reader.push(decoder.decode());
  yield* reader.end();
}

/** The records of a stream with a header row, as {@link parseCsv} reads a whole text. */
export async function* readCsvRecords(
  source: CsvSource,
  options: CsvReadOptions = {},
): AsyncGenerator<Record<string, string>> {
  let header: string[] | null = null;
  for await (const { cells } of readCsvRows(source, options)) {
    if (isBlank(cells)) continue;
    if (header === null) header = cells;
    else yield toRecord(header, cells);
  }
}

function isBlank(cells: readonly string[]): boolean {
  return cells.length === 1 && cells[0] === "";
}

function toRecord(header: readonly string[], cells: readonly string[]): Record<string, string> {
  return Object.fromEntries(header.map((name, c) => [name, cells[c] ?? ""]));
}

/** One field of any value: empty for null and undefined, JSON for objects, quoted when it must be. */
export function csvField(value: unknown): string {
  const text = value === null || value === undefined
    ? ""
    : typeof value === "object"
    ? JSON.stringify(value)
    : String(value);
  return quote(text);
}

/** Turns rows of objects into CSV text with a header row, LF line ends and a final LF. */
export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  return [columns.join(","), ...rows.map((r) => columns.map((c) => csvField(r[c])).join(","))].join("\n") +
    "\n";
}

/**
 * A field of untrusted text for a file that may be opened in a spreadsheet: a cell that looks like
 * a formula (`=`, `+`, `-`, `@`, tab, CR first) gets an apostrophe in front (CSV injection).
 */
export function csvCell(value: string): string {
  return quote(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
}

function quote(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
