/**
 * The fast path of batch CSV parsing: a chunk whose every line is plainly valid is encoded
 * straight from its cells by the encoder's record path (`transformOne`), without the polars ETL.
 * It exists for memory and time: polars frames are native memory freed only when V8 collects
 * their wrappers, which it does lazily, and a clean million-row file spent most of its time there.
 *
 * It is conservative by construction: it accepts a chunk only when every line is unquoted,
 * unpadded and free of control characters, has the header's field count, every code is one of
 * the schema's codes and every number a plain decimal integer within the schema's range, and the
 * header is exactly the attributes plus an optional `id`. Such a chunk is one the ETL accepts with
 * the same values, and the encoder's record and table paths give the same numbers (tested). For
 * anything else it answers null and the chunk goes through the ETL as before, which keeps every
 * message and every edge case exactly as it was.
 * @module
 */

// No polars here (nor zod): the batch workers import this module, and each import is paid per worker.
import { ATTRIBUTES } from "../data/attributes.ts";
import { ID_COLUMN } from "../data/columns.ts";
import type { Applicant } from "../data/schema.ts";
import { ENGINEERED_RECORDS } from "../features/engineered.ts";
import type { FeatureEncoder } from "../features/encoder.ts";
import type { Matrix } from "../forest/mod.ts";

/** A chunk encoded by the fast path: its matrix (every line a row) and pass-through ids. */
export interface FastChunk {
  readonly matrix: Matrix;
  readonly ids: string[] | null;
}

/** How to read each column of a header the fast path accepts (plain data: it is posted to workers). */
export interface Layout {
  /** Per column: the attribute's index in `ATTRIBUTES`, or -1 for the id column. */
  readonly slots: readonly number[];
  readonly idColumn: number;
}

const layouts = new Map<string, Layout | null>();
/** Quotes, control characters and U+0085 (which the ETL's strip removes) send a chunk to the ETL. */
// deno-lint-ignore no-control-regex
const UNUSUAL = /["\x00-\x1f\x7f\u0085]/;
const PADDED = /^\s|\s$/;
const CODE_LISTS: readonly (readonly string[] | null)[] = ATTRIBUTES.map((a) =>
  a.kind === "numeric" ? null : a.codes.map((c) => c.code)
);

/** The schema code spelled at `line[start, end)`, or null. */
function codeAt(line: string, start: number, end: number, codes: readonly string[]): string | null {
  const length = end - start;
  for (const code of codes) if (code.length === length && line.startsWith(code, start)) return code;
  return null;
}

const NAMES = ATTRIBUTES.map((a) => a.name);
const MIN = ATTRIBUTES.map((a) => a.kind === "numeric" ? a.min : NaN);
const MAX = ATTRIBUTES.map((a) => a.kind === "numeric" ? a.max : NaN);

/** The value of `line[start, end)` as 1–9 decimal digits without a leading zero (or "0"); NaN otherwise. */
function plainInteger(line: string, start: number, end: number): number {
  const n = end - start;
  if (n === 0 || n > 9 || (n > 1 && line.charCodeAt(start) === 48)) return NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = line.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** The layout under `header` for {@link encodeCleanBytes}, or null when its chunks must go through the ETL. */
export function headerLayout(header: string, columns: readonly string[]): Layout | null {
  return UNUSUAL.test(header) ? null : layoutOf(columns);
}

/** The layout of a header the fast path accepts (the attributes once each, plus an optional `id`), or null. */
export function layoutOf(columns: readonly string[]): Layout | null {
  const key = columns.join(",");
  let layout = layouts.get(key);
  if (layout !== undefined) return layout;
  // -1 marks the id column, -2 a name the schema does not know (the ETL then explains the header).
  const slots = columns.map((name) => {
    if (name === ID_COLUMN) return -1;
    const index = ATTRIBUTES.findIndex((a) => a.name === name);
    return index < 0 ? -2 : index;
  });
  const attributes = slots.filter((s) => s >= 0);
  const idColumns = slots.filter((s) => s === -1).length;
  const exact = new Set(attributes).size === ATTRIBUTES.length && attributes.length === ATTRIBUTES.length &&
    idColumns <= 1 && attributes.length + idColumns === columns.length;
  layout = exact ? { slots, idColumn: columns.indexOf(ID_COLUMN) } : null;
  if (layouts.size < 16) layouts.set(key, layout);
  return layout;
}

/**
 * Encodes `lines` (raw, LF cut) under `header`/`columns` when every line is plainly valid; null
 * when any is not (the caller then parses the chunk with the ETL).
 */
export function encodeCleanChunk(
  encoder: FeatureEncoder,
  header: string,
  columns: readonly string[],
  lines: readonly string[],
): FastChunk | null {
  if (lines.length === 0 || UNUSUAL.test(header)) return null;
  const layout = layoutOf(columns);
  if (!layout) return null;
  const { slots, idColumn } = layout;
  const cols = encoder.nFeatures;
  const data = new Float64Array(lines.length * cols);
  const ids: string[] | null = idColumn >= 0 ? new Array(lines.length) : null;
  const record: Record<string, string | number> = {};
  const row = new Float64Array(cols);
  const width = slots.length;
  for (let r = 0; r < lines.length; r++) {
    let line = lines[r];
    // Trailing white space goes, as the ETL trims each line; anything unusual goes to the ETL.
    const last = line.charCodeAt(line.length - 1);
    if (!(last > 32 && last < 127)) line = line.replace(/\s+$/, "");
    if (line === "") return null;
    // Cells are read in place (no string per cell): a code must equal one of the schema's codes
    // and a number be plain digits, so quotes, padding and control characters can only pass in
    // the id, which is checked for them.
    let start = 0;
    for (let c = 0; c < width; c++) {
      let end = line.indexOf(",", start);
      if (end < 0) {
        if (c !== width - 1) return null; // too few fields
        end = line.length;
      } else if (c === width - 1) return null; // too many fields
      const slot = slots[c];
      if (slot < 0) {
        const id = line.slice(start, end);
        if (UNUSUAL.test(id) || PADDED.test(id)) return null;
        ids![r] = id;
      } else {
        const codes = CODE_LISTS[slot];
        if (codes) {
          const code = codeAt(line, start, end, codes);
          if (code === null) return null;
          record[NAMES[slot]] = code;
        } else {
          const value = plainInteger(line, start, end);
          if (!(value >= MIN[slot] && value <= MAX[slot])) return null; // NaN too
          record[NAMES[slot]] = value;
        }
      }
      start = end + 1;
    }
    encoder.transformOne(record as unknown as Applicant, row);
    data.set(row, r * cols);
  }
  return { matrix: { data, rows: lines.length, cols }, ids };
}

/** Per attribute: its codes by {@link codeKey}, or null for a numeric attribute. */
const CODE_KEYS: readonly (Map<number, string> | null)[] = CODE_LISTS.map((codes) => {
  if (!codes) return null;
  const keys = new Map<number, string>();
  const bytes = new TextEncoder();
  for (const code of codes) {
    const encoded = bytes.encode(code);
    const key = codeKey(encoded, 0, encoded.length);
    if (key >= 0) keys.set(key, code);
  }
  return keys;
});

/** `bytes[start, end)` as a number (1–6 ASCII bytes; distinct lengths give distinct keys), or -1. */
function codeKey(bytes: Uint8Array, start: number, end: number): number {
  if (end - start > 6 || end === start) return -1;
  let key = 1;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c >= 0x80) return -1;
    key = key * 128 + c;
  }
  return key;
}

/** {@link plainInteger} on bytes. */
function plainIntegerBytes(bytes: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n === 0 || n > 9 || (n > 1 && bytes[start] === 48)) return NaN;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = bytes[i] - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** Bits of a slot index in an attribute's table of codes: 64 slots, several times any attribute's codes. */
const CODE_TABLE_BITS = 6;
const CODE_TABLE_SIZE = 1 << CODE_TABLE_BITS;

/** A {@link codeKey}'s slot in a code table: a multiplicative hash's top bits (of a key's low 32 bits). */
function codeHash(key: number): number {
  return Math.imul(key, 0x9e3779b1) >>> (32 - CODE_TABLE_BITS);
}

/** One attribute's codes in an open-addressed table of {@link CODE_TABLE_SIZE} slots. */
export interface CodeTable {
  /** Per slot: the {@link codeKey} of the code there, or 0 (empty). */
  readonly keys: Float64Array;
  /** Per slot: the code's index in the list the table was built from, or -1 (empty). */
  readonly index: Int32Array;
}

/**
 * `codes` in a {@link CodeTable}, or null when the byte path cannot look them up: a code without a
 * key (empty, over 6 bytes or not ASCII) would let every unkeyed cell match it, and more codes than
 * half the table would make probing slow, or endless once it is full. A null leaves the encoder
 * without a plan ({@link encodingPlan}): the byte path then calls `transformOne` for every row.
 */
export function codeTable(codes: readonly string[]): CodeTable | null {
  if (codes.length > CODE_TABLE_SIZE / 2) return null;
  const keys = new Float64Array(CODE_TABLE_SIZE);
  const index = new Int32Array(CODE_TABLE_SIZE).fill(-1);
  const encoder = new TextEncoder();
  for (let k = 0; k < codes.length; k++) {
    const bytes = encoder.encode(codes[k]);
    const key = codeKey(bytes, 0, bytes.length);
    if (key < 0) return null;
    let h = codeHash(key);
    while (keys[h] !== 0) h = (h + 1) & (CODE_TABLE_SIZE - 1);
    keys[h] = key;
    index[h] = k;
  }
  return { keys, index };
}

/** Where code `key`'s values start in a plan's `codeValues`, by its attribute's table; -1: no code. */
function findCode(keys: Float64Array, starts: Int32Array, key: number): number {
  for (let h = codeHash(key);; h = (h + 1) & (CODE_TABLE_SIZE - 1)) {
    // An empty slot's start is -1: a miss, even for a key of 0 (which codeKey never gives).
    if (keys[h] === key || keys[h] === 0) return starts[h];
  }
}

/**
 * The encoder's record path compiled for the byte path: each code's columns written from a table,
 * each number into its column, the engineered features by the encoder's own functions. It is
 * learnt by probing `transformOne` (which columns each attribute moves) and used only if it then
 * gives `transformOne`'s numbers bit for bit on a few hundred random applicants; otherwise the byte
 * path calls `transformOne` for every row, as the text path does.
 */
export interface EncodingPlan {
  readonly cols: number;
  /** Per attribute: the columns a categorical one sets, or null (numeric or excluded). */
  readonly codeColumns: readonly (Int32Array | null)[];
  /**
   * Per attribute: its codes' {@link codeKey}s in an open-addressed table of `CODE_TABLE_SIZE`
   * slots (0: empty; doubles, as keys pass 32 bits), or null.
   */
  readonly codeKeys: readonly (Float64Array | null)[];
  /** Per attribute, beside `codeKeys`: where each code's values start in `codeValues` (-1: empty slot). */
  readonly codeStarts: readonly (Int32Array | null)[];
  /** Every code's values of its attribute's `codeColumns`, one run per code. */
  readonly codeValues: Float64Array;
  /** Per attribute: the column a numeric one is copied to, or -1. */
  readonly numberColumn: Int32Array;
  /** The engineered features' columns and their indices in `ENGINEERED_RECORDS` (plain data: a plan is posted to workers). */
  readonly engineered: readonly { readonly column: number; readonly index: number }[];
}

/** The plan for `encoder`, or null when probing finds a structure it does not reproduce exactly. */
export function encodingPlan(encoder: FeatureEncoder): EncodingPlan | null {
  const cols = encoder.nFeatures;
  const encode = (record: Record<string, string | number>) =>
    encoder.transformOne(record as unknown as Applicant, new Float64Array(cols));
  const base: Record<string, string | number> = {};
  for (const a of ATTRIBUTES) base[a.name] = a.kind === "numeric" ? a.min : a.codes[0].code;
  const baseRow = encode(base);
  const owner = new Int32Array(cols).fill(-1);
  const claim = (column: number, attribute: number) => {
    if (owner[column] >= 0 && owner[column] !== attribute) return false;
    owner[column] = attribute;
    return true;
  };
  const codeColumns: (Int32Array | null)[] = [];
  const codeKeys: (Float64Array | null)[] = [];
  const codeStarts: (Int32Array | null)[] = [];
  const codeValues: number[] = [];
  const numberColumn = new Int32Array(ATTRIBUTES.length).fill(-1);
  const engineered: { column: number; index: number }[] = [];
  const names = encoder.featureNames;
  for (let index = 0; index < ENGINEERED_RECORDS.length; index++) {
    const column = names.indexOf(ENGINEERED_RECORDS[index].name);
    if (column >= 0) {
      engineered.push({ column, index });
      owner[column] = ATTRIBUTES.length; // computed, not copied
    }
  }
  for (let a = 0; a < ATTRIBUTES.length; a++) {
    const attribute = ATTRIBUTES[a];
    if (attribute.kind === "numeric") {
      codeColumns.push(null);
      codeKeys.push(null);
      codeStarts.push(null);
      const low = encode({ ...base, [attribute.name]: attribute.min });
      const high = encode({ ...base, [attribute.name]: attribute.max });
      for (let c = 0; c < cols; c++) {
        if (owner[c] === ATTRIBUTES.length || low[c] === high[c]) continue;
        if (low[c] !== attribute.min || high[c] !== attribute.max || numberColumn[a] >= 0 || !claim(c, a)) {
          return null;
        }
        numberColumn[a] = c;
      }
      continue;
    }
    const rows = attribute.codes.map((code) => encode({ ...base, [attribute.name]: code.code }));
    const moved: number[] = [];
    for (let c = 0; c < cols; c++) {
      if (rows.some((row) => row[c] !== baseRow[c])) {
        if (owner[c] === ATTRIBUTES.length || !claim(c, a)) return null;
        moved.push(c);
      }
    }
    const table = codeTable(attribute.codes.map((c) => c.code));
    if (!table) return null;
    // Code k's values are the k-th run of `moved.length` values from here.
    const first = codeValues.length;
    for (let k = 0; k < attribute.codes.length; k++) for (const c of moved) codeValues.push(rows[k][c]);
    codeColumns.push(Int32Array.from(moved));
    codeKeys.push(table.keys);
    codeStarts.push(table.index.map((k) => k < 0 ? -1 : first + k * moved.length));
  }
  // Every column must be written by the plan: one no attribute moves is not understood.
  if (owner.some((o) => o < 0)) return null;
  const plan: EncodingPlan = {
    cols,
    codeColumns,
    codeKeys,
    codeStarts,
    codeValues: Float64Array.from(codeValues),
    numberColumn,
    engineered,
  };
  return verifies(plan, encode) ? plan : null;
}

/** Whether `plan` gives `encode`'s numbers bit for bit on random applicants (seeded). */
function verifies(
  plan: EncodingPlan,
  encode: (record: Record<string, string | number>) => Float64Array,
): boolean {
  let seed = 20_261_128;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const row = new Float64Array(plan.cols);
  const numbers: Record<string, number> = {};
  for (let trial = 0; trial < 256; trial++) {
    const record: Record<string, string | number> = {};
    for (const a of ATTRIBUTES) {
      record[a.name] = a.kind === "numeric"
        ? a.min + Math.floor(next() * (a.max - a.min + 1))
        : a.codes[Math.floor(next() * a.codes.length)].code;
    }
    for (let a = 0; a < ATTRIBUTES.length; a++) {
      const attribute = ATTRIBUTES[a];
      const value = record[attribute.name];
      if (typeof value === "number") {
        numbers[attribute.name] = value;
        if (plan.numberColumn[a] >= 0) row[plan.numberColumn[a]] = value;
      } else {
        const bytes = new TextEncoder().encode(value);
        // The lookup the byte loop makes (through PlanTables), so that a table fault fails here.
        const from = findCode(plan.codeKeys[a]!, plan.codeStarts[a]!, codeKey(bytes, 0, bytes.length));
        if (from < 0) return false;
        const columns = plan.codeColumns[a]!;
        for (let k = 0; k < columns.length; k++) row[columns[k]] = plan.codeValues[from + k];
      }
    }
    for (const { column, index } of plan.engineered) {
      row[column] = ENGINEERED_RECORDS[index].record(numbers as unknown as Applicant);
    }
    const expected = encode(record);
    for (let c = 0; c < plan.cols; c++) if (!Object.is(row[c], expected[c])) return false;
  }
  return true;
}

const idDecoder = new TextDecoder();

/**
 * A plan's lookups in the shapes the byte loop reads fastest, made once per plan and realm (a plan
 * is plain data, so its objects arrive in a worker as generic ones, and functions not at all): its
 * code tables in the fields of one class, the engineered features' formulas in an array, and one
 * record of the numbers they read, created with every numeric attribute so that its shape never
 * changes. The plan's lookups themselves ({@link findCode}), which `encodingPlan` verified.
 */
class PlanTables {
  readonly #keys: readonly (Float64Array | null)[];
  readonly #starts: readonly (Int32Array | null)[];
  readonly values: Float64Array;
  readonly numbers: Record<string, number>;
  readonly engineeredColumns: Int32Array;
  readonly engineeredRecords: ((a: Applicant) => number)[];

  constructor(plan: EncodingPlan) {
    this.#keys = plan.codeKeys;
    this.#starts = plan.codeStarts;
    this.values = plan.codeValues;
    this.numbers = Object.fromEntries(ATTRIBUTES.filter((a) => a.kind === "numeric").map((a) => [a.name, 0]));
    this.engineeredColumns = Int32Array.from(plan.engineered, (e) => e.column);
    this.engineeredRecords = plan.engineered.map((e) => ENGINEERED_RECORDS[e.index].record);
  }

  /** Where attribute `slot`'s values for the code with key `key` start in {@link values}, or -1 (not a code). */
  find(slot: number, key: number): number {
    return findCode(this.#keys[slot]!, this.#starts[slot]!, key);
  }
}

const tablesOf = new WeakMap<EncodingPlan, PlanTables>();
function planTables(plan: EncodingPlan): PlanTables {
  let tables = tablesOf.get(plan);
  if (!tables) tablesOf.set(plan, tables = new PlanTables(plan));
  return tables;
}

/** Options of {@link encodeCleanBytes}. */
export interface ByteChunkOptions {
  /** The matrix is written here when it is large enough (a worker reuses one for every chunk). */
  scratch?: Float64Array;
  /** The compiled encoder ({@link encodingPlan}); `transformOne` per row without it. */
  plan?: EncodingPlan | null;
  /** Where each row's id lies in the bytes (start, end): filled instead of decoding the ids (`ids` is then null). */
  idSpans?: Int32Array;
}

/**
 * {@link encodeCleanChunk} on the UTF-8 bytes of `rows` LF-ended lines, under the same rules (and,
 * on bytes, ids must be ASCII too): the matrix and ids when every line is plainly valid, else null.
 */
export function encodeCleanBytes(
  encoder: Pick<FeatureEncoder, "nFeatures" | "transformOne">,
  layout: Layout,
  bytes: Uint8Array,
  rows: number,
  options: ByteChunkOptions = {},
): FastChunk | null {
  const { scratch, plan, idSpans } = options;
  if (rows === 0) return null;
  const { slots, idColumn } = layout;
  const cols = encoder.nFeatures;
  // The matrix may be written into the caller's scratch array (a worker reuses one for every chunk).
  const data = scratch && scratch.length >= rows * cols
    ? scratch.subarray(0, rows * cols)
    : new Float64Array(rows * cols);
  const ids: string[] | null = idColumn >= 0 && !options.idSpans ? new Array(rows) : null;
  const record: Record<string, string | number> = {};
  const row = new Float64Array(cols);
  const width = slots.length;
  const n = bytes.length;
  const tables = plan ? planTables(plan) : null;
  const numbers = tables?.numbers ?? {};
  let i = 0;
  for (let r = 0; r < rows; r++) {
    // One pass over the line: cells end at a comma, the line at LF (or the end of the chunk).
    let start = i;
    let c = 0;
    for (;;) {
      while (i < n && bytes[i] !== 44 && bytes[i] !== 10) i++;
      const last = i >= n || bytes[i] === 10;
      let end = i;
      // Trailing white space goes, as the ETL trims each line.
      if (last) {
        while (end > start && (bytes[end - 1] === 32 || (bytes[end - 1] >= 9 && bytes[end - 1] <= 13))) {
          end--;
        }
      }
      if (c === width) return null; // too many fields
      const slot = slots[c];
      if (slot < 0) {
        for (let k = start; k < end; k++) {
          const b = bytes[k];
          if (b < 0x20 || b >= 0x7f || b === 34) return null; // control, non-ASCII, quote
        }
        if (end > start && (bytes[start] === 32 || bytes[end - 1] === 32)) return null; // padded
        if (idSpans) idSpans[2 * r] = start, idSpans[2 * r + 1] = end;
        else ids![r] = idDecoder.decode(bytes.subarray(start, end));
      } else {
        const keys = CODE_KEYS[slot];
        if (keys) {
          const key = codeKey(bytes, start, end);
          if (tables) {
            // The plan holds a value row for each of the schema's codes, and only for those.
            const from = tables.find(slot, key);
            if (from < 0) return null;
            const columns = plan!.codeColumns[slot]!;
            const values = tables.values;
            const at = r * cols;
            for (let k = 0; k < columns.length; k++) data[at + columns[k]] = values[from + k];
          } else {
            const code = keys.get(key);
            if (code === undefined) return null;
            record[NAMES[slot]] = code;
          }
        } else {
          const value = plainIntegerBytes(bytes, start, end);
          if (!(value >= MIN[slot] && value <= MAX[slot])) return null; // NaN too
          if (plan) {
            numbers[NAMES[slot]] = value;
            if (plan.numberColumn[slot] >= 0) data[r * cols + plan.numberColumn[slot]] = value;
          } else record[NAMES[slot]] = value;
        }
      }
      c++;
      i++; // past the comma or LF
      start = i;
      if (last) break;
    }
    if (c !== width) return null; // too few fields (a blank line too)
    const at = r * cols;
    if (tables) {
      const { engineeredColumns, engineeredRecords } = tables;
      for (let k = 0; k < engineeredColumns.length; k++) {
        data[at + engineeredColumns[k]] = engineeredRecords[k](numbers as unknown as Applicant);
      }
      continue;
    }
    encoder.transformOne(record as unknown as Applicant, row);
    for (let k = 0; k < cols; k++) data[at + k] = row[k];
  }
  return { matrix: { data, rows, cols }, ids };
}
