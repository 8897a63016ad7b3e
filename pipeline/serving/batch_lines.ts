/**
 * A CSV byte stream cut into chunks of whole lines, for streamed batch scoring: the reading thread
 * only finds line feeds, counts rows and checks line lengths; parsing happens where the chunk is
 * scored (a worker, or the main thread for anything unusual).
 *
 * The cut follows the batch's line rules exactly as the text scorer applies them: lines end at LF
 * (not by a quote-aware reader: rows are numbered by line), one or two byte-order marks at the
 * start are dropped (the decoder's and the text's), the first line is the header, blank lines
 * (white space only) are rows only when content follows them, the last content line loses its
 * trailing white space (the consumer trims the last line of the `final` chunk), and a line longer
 * than {@link MAX_LINE_CHARS} characters refuses the batch. Since LF never occurs inside a UTF-8
 * sequence, decoding a chunk on its own gives the text a streaming decoder gives.
 *
 * To keep those rules, the last content line read so far and the blank lines after it are held
 * back (the blank ones as a count: a blank row's content never matters, it is rejected as
 * "found 0 fields" whatever white space it holds) until a later line shows whether they end the input.
 * @module
 */

import { BatchInputError, TooManyRowsError, trimEnd } from "./batch.ts";

/** Longest line accepted (characters): a German Credit row is about 100, an absurd one is refused, not buffered. */
export const MAX_LINE_CHARS = 4_096;

/** Bytes gathered before a chunk is cut (its rows: about 85 bytes each for German Credit). */
export const CHUNK_BYTES = 512 * 1024;

/** Whole lines of a batch, ready to score. */
export interface LineChunk {
  /** The lines, each ended by LF except perhaps the last of the `final` chunk. */
  readonly bytes: Uint8Array;
  /** Batch row (0-based) of the first line. */
  readonly firstRow: number;
  /** Lines (rows) in the chunk. */
  readonly rows: number;
  /** Whether this chunk ends the input (its last line is the last content line, to be trimmed). */
  readonly final: boolean;
}

/** Options of a {@link LineSplitter}. */
export interface LineSplitterOptions {
  /** Bytes gathered before a chunk is cut (default {@link CHUNK_BYTES}). */
  chunkBytes?: number;
  /** Where chunks' bytes are allocated (default: new arrays); a pool lets chunk buffers be reused. */
  allocate?: (bytes: number) => Uint8Array;
  /** Refuse the batch ({@link TooManyRowsError}) past this many data rows. */
  maxRows?: number;
  /** The setting that sets `maxRows`, named in the refusal. */
  maxRowsSetting?: string;
}

const LF = 10;
const BLANK = /^\s*$/;
const decoder = new TextDecoder();

/** Cuts a CSV byte stream into {@link LineChunk}s: {@link push} each piece, then {@link end}. */
export class LineSplitter {
  /** The header line (trimmed), once read. */
  header: string | null = null;
  /** Data rows cut so far (all of them once {@link end} returned). */
  rows = 0;
  readonly #chunkBytes: number;
  readonly #maxRows: number;
  readonly #maxRowsSetting: string;
  readonly #allocate: (bytes: number) => Uint8Array;
  /** Input not cut yet (the bytes after the last LF cut, then the pieces pushed since), reused. */
  #work = new Uint8Array(0);
  #length = 0;
  /** The last content line (with its LF), held until it is known not to end the input. */
  #held: Uint8Array | null = null;
  /** Blank lines after `#held`. */
  #blanks = 0;
  #sawContent = false;
  #bomsChecked = false;

  constructor(options: LineSplitterOptions = {}) {
    this.#chunkBytes = Math.max(1, options.chunkBytes ?? CHUNK_BYTES);
    this.#maxRows = options.maxRows ?? Infinity;
    this.#maxRowsSetting = options.maxRowsSetting ?? "BATCH_MAX_CSV_ROWS";
    this.#allocate = options.allocate ?? ((bytes) => new Uint8Array(bytes));
  }

  /** Takes the next piece of input (copied: the caller may reuse it); returns the chunks it completed. */
  push(piece: Uint8Array): LineChunk[] {
    if (piece.length === 0) return [];
    if (this.#length + piece.length > this.#work.length) {
      const grown = new Uint8Array(Math.max(this.#length + piece.length, 2 * this.#chunkBytes));
      grown.set(this.#work.subarray(0, this.#length));
      this.#work = grown;
    }
    this.#work.set(piece, this.#length);
    this.#length += piece.length;
    if (this.#length < this.#chunkBytes) return [];
    return this.#cut(false);
  }

  /** Ends the input; returns the last chunks. Throws {@link BatchInputError} for an empty CSV. */
  end(): LineChunk[] {
    const out = this.#cut(true);
    const last = this.#work.subarray(0, this.#length);
    this.#length = 0;
    checkLength(last, 0, last.length, this.#linesSeen() + 1);
    let final: { bytes: Uint8Array; rows: number } | null = null;
    if (this.header === null) {
      this.#takeHeader(last, 0, last.length);
    } else if (!isBlank(last, 0, last.length)) {
      this.#sawContent = true;
      // The held line and the blank lines after it are rows before this last one.
      const held = this.#held ?? new Uint8Array(0);
      const bytes = this.#allocate(held.length + this.#blanks + last.length);
      bytes.set(held, 0);
      bytes.fill(LF, held.length, held.length + this.#blanks);
      bytes.set(last, held.length + this.#blanks);
      final = { bytes, rows: (this.#held ? 1 : 0) + this.#blanks + 1 };
    } else if (this.#held) {
      final = { bytes: this.#held, rows: 1 }; // blank lines after the last content line are not rows
    }
    if (!this.#sawContent) throw new BatchInputError([{ field: "(body)", message: "the CSV is empty" }]);
    this.#held = null;
    this.#blanks = 0;
    if (final) {
      this.#checkRows(final.rows);
      out.push({ ...final, firstRow: this.rows, final: true });
      this.rows += final.rows;
    }
    return out;
  }

  /** Lines read so far: the header, the rows cut, the held line and the blank ones after it. */
  #linesSeen(): number {
    return (this.header === null ? 0 : 1) + this.rows + (this.#held ? 1 : 0) + this.#blanks;
  }

  #checkRows(more: number): void {
    if (this.rows + more > this.#maxRows) throw new TooManyRowsError(this.#maxRows, this.#maxRowsSetting);
  }

  #takeHeader(bytes: Uint8Array, start: number, end: number): void {
    const line = decoder.decode(bytes.subarray(start, end));
    if (line.length > MAX_LINE_CHARS) throw lineTooLong(1);
    this.header = trimEnd(line);
    if (!BLANK.test(line)) this.#sawContent = true;
  }

  #cut(ending: boolean): LineChunk[] {
    let data = this.#work.subarray(0, this.#length);
    if (!this.#bomsChecked) {
      if (data.length < 6 && !ending) return [];
      this.#bomsChecked = true;
      let skip = 0;
      while (skip < 6 && data[skip] === 0xef && data[skip + 1] === 0xbb && data[skip + 2] === 0xbf) skip += 3;
      data = data.subarray(skip);
    }
    let start = 0;
    if (this.header === null) {
      const newline = data.indexOf(LF);
      if (newline < 0) {
        // The header is not complete yet: refuse it early if it is already too long.
        checkPartial(data, 1);
        this.#keep(data);
        return [];
      }
      this.#takeHeader(data, 0, newline);
      start = newline + 1;
    }
    const last = data.lastIndexOf(LF);
    const chunks = last < start ? [] : this.#lines(data, start, last + 1);
    this.#keep(data.subarray(Math.max(start, last + 1)));
    checkPartial(this.#work.subarray(0, this.#length), this.#linesSeen() + 1);
    return chunks;
  }

  /** Keeps `rest` (a view of the work buffer) as the start of the work buffer. */
  #keep(rest: Uint8Array): void {
    this.#work.copyWithin(
      0,
      rest.byteOffset - this.#work.byteOffset,
      rest.byteOffset - this.#work.byteOffset + rest.length,
    );
    this.#length = rest.length;
  }

  /** Whole lines `data[start, end)` (end just past an LF): cut into a chunk, holding back the last content line. */
  #lines(data: Uint8Array, start: number, end: number): LineChunk[] {
    // Line lengths first, in order, so an overlong line is reported with its own number.
    const base = this.#linesSeen();
    let lines = 0;
    for (let at = start; at < end;) {
      const newline = data.indexOf(LF, at);
      lines++;
      if (newline - at > MAX_LINE_CHARS) checkLength(data, at, newline, base + lines);
      at = newline + 1;
    }
    // The last content line and the blank lines after it are held back.
    let heldStart = end;
    let trailingBlanks = 0;
    let lineEnd = end - 1; // the LF ending the line looked at
    while (lineEnd >= start) {
      const lineStart = lineEnd === start ? start : data.lastIndexOf(LF, lineEnd - 1) + 1;
      const from = Math.max(lineStart, start);
      if (!isBlank(data, from, lineEnd)) {
        heldStart = from;
        break;
      }
      trailingBlanks++;
      lineEnd = from - 1;
    }
    if (heldStart === end) {
      // Only blank lines: they wait, counted, for content.
      this.#blanks += trailingBlanks;
      return [];
    }
    this.#sawContent = true;
    const heldEnd = lineEnd + 1;
    const before = lines - trailingBlanks - 1; // complete lines before the new held one
    const prefix = (this.#held ? 1 : 0) + this.#blanks;
    const rows = prefix + before;
    let chunk: LineChunk | null = null;
    if (rows > 0) {
      this.#checkRows(rows);
      let bytes: Uint8Array;
      if (prefix === 0) {
        bytes = this.#allocate(heldStart - start);
        bytes.set(data.subarray(start, heldStart));
      } else {
        const heldBytes = this.#held?.length ?? 0;
        bytes = this.#allocate(heldBytes + this.#blanks + (heldStart - start));
        if (this.#held) bytes.set(this.#held, 0);
        bytes.fill(LF, heldBytes, heldBytes + this.#blanks);
        bytes.set(data.subarray(start, heldStart), heldBytes + this.#blanks);
      }
      chunk = { bytes, firstRow: this.rows, rows, final: false };
      this.rows += rows;
    }
    this.#held = data.slice(heldStart, heldEnd);
    this.#blanks = trailingBlanks;
    return chunk ? [chunk] : [];
  }
}

/** Whether `data[start, end)` is white space only (as JavaScript's `\s` sees it). */
export function isBlank(data: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = data[i];
    if (c === 32 || (c >= 9 && c <= 13)) continue;
    if (c < 0x80) return false;
    return BLANK.test(decoder.decode(data.subarray(start, end)));
  }
  return true;
}

/** Refuses line `lineNumber` (`data[start, end)`, no LF) if it has more than {@link MAX_LINE_CHARS} characters. */
function checkLength(data: Uint8Array, start: number, end: number, lineNumber: number): void {
  if (end - start <= MAX_LINE_CHARS) return;
  if (decoder.decode(data.subarray(start, end)).length > MAX_LINE_CHARS) throw lineTooLong(lineNumber);
}

/** Refuses a line still being read once its complete characters are already too many. */
function checkPartial(data: Uint8Array, lineNumber: number): void {
  if (data.length <= MAX_LINE_CHARS) return;
  // A streaming decode: an incomplete sequence at the end is not counted yet.
  if (new TextDecoder().decode(data, { stream: true }).length > MAX_LINE_CHARS) throw lineTooLong(lineNumber);
}

/** The refusal of an overlong line. */
export function lineTooLong(line: number): BatchInputError {
  return new BatchInputError([{
    field: "(body)",
    message: `line ${line} is longer than ${MAX_LINE_CHARS} characters; a row of this schema is about 100`,
  }]);
}

/** The lines of a chunk as text (decoded, LF cut; the last line of a final chunk trimmed). */
export function chunkLines(chunk: LineChunk): string[] {
  const text = decoder.decode(chunk.bytes);
  const lines = text.split("\n");
  if (text.endsWith("\n")) lines.pop();
  if (chunk.final && lines.length) lines[lines.length - 1] = lines[lines.length - 1].replace(/\s+$/, "");
  return lines;
}
