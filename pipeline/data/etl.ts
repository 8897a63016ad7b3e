/**
 * ETL: reads the raw Statlog file (space-separated, no header) or a CSV with a header of attribute
 * names, validates every value against the schema, and yields a typed polars table.
 *
 * `deno task etl` (pipeline/cli/etl.ts) writes `data/processed/credit.parquet` and prints a summary.
 * @module
 */

import type Polars from "nodejs-polars";
import { polars } from "./polars.ts";
import { UserError } from "../errors.ts";
import { CLASS_COLUMN, ID_COLUMN } from "./columns.ts";
import { countCsvFields, splitCsvLine } from "./csv.ts";
import { type Applicant, ATTRIBUTES, isCategorical, type NumericAttribute } from "./schema.ts";

/** The data set's default location, relative to the project root. */
export const DEFAULT_DATA_PATH = "data/german.data";
/** Where `deno task etl` writes the clean table. */
export const DEFAULT_PARQUET_PATH = "data/processed/credit.parquet";
export { CLASS_COLUMN, ID_COLUMN };

/** One bad value: where it is, and why it is refused. */
export interface DataProblem {
  /** 1-based line number in the source text. */
  readonly line: number;
  readonly column: string;
  readonly value: string;
  readonly message: string;
}

/** A data file that cannot be loaded; `problems` lists every bad value found (up to a cap). */
export class DataError extends UserError {
  constructor(
    readonly source: string,
    readonly problems: readonly DataProblem[],
    readonly truncated = false,
  ) {
    super(formatProblems(source, problems, truncated));
    this.name = "DataError";
  }
}

const MAX_PROBLEMS = 100;

function formatProblems(source: string, problems: readonly DataProblem[], truncated: boolean): string {
  const shown = problems.slice(0, 10).map((p) =>
    p.line > 0
      ? `  line ${p.line}${p.column ? `, column ${p.column}` : ""}: ${p.message}${
        p.value === "" ? "" : ` (value ${JSON.stringify(p.value)})`
      }`
      : `  ${p.message}`
  );
  const more = problems.length - shown.length;
  const tail = more > 0 || truncated ? [`  … and ${truncated ? "more" : more} further problem(s)`] : [];
  return [
    `${source}: ${problems.length === 1 ? "1 problem" : `${problems.length} problems`}`,
    ...shown,
    ...tail,
  ]
    .join("\n");
}

/** A validated table: one row per applicant, columns typed per the schema. */
export interface CreditTable {
  /** Attribute columns in schema order (Int32 numbers, String codes), plus `bad` (Int8 0/1) when labelled. */
  readonly frame: Polars.DataFrame;
  /** 1-based source line of each row, for messages that point back into the file. */
  readonly lineNumbers: Int32Array;
  /** 1 = bad risk, 0 = good; null when the input had no class column. */
  readonly bad: Uint8Array | null;
  /** Pass-through identifiers from a CSV `id` column, else null. */
  readonly ids: string[] | null;
}

/** Which text layout to parse. */
export type InputFormat = "raw" | "csv";

/** Parses and validates text in the raw Statlog layout or as a CSV with a header row. */
export function parseCreditText(
  text: string,
  options: { format: InputFormat; source?: string },
): CreditTable {
  const source = options.source ?? "input";
  const lines = splitLines(text);
  if (lines.length === 0) throw new DataError(source, [problem(0, "", "", "the file is empty")]);
  return options.format === "raw" ? parseRaw(lines, source) : parseCsv(lines, source);
}

/** Reads and validates a data file; the layout is taken from the extension (`.csv`) unless given. */
export async function loadCreditTable(
  path: string = DEFAULT_DATA_PATH,
  format: InputFormat = path.toLowerCase().endsWith(".csv") ? "csv" : "raw",
): Promise<CreditTable> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : (error as Error).message;
    throw new DataError(path, [problem(0, "", "", `cannot read ${path}: ${reason}`)]);
  }
  return parseCreditText(text, { format, source: path });
}

/** The rows of a table as applicant records (the single-record API shape). */
export function toApplicants(frame: Polars.DataFrame): Applicant[] {
  const columns = ATTRIBUTES.map((a) => frame.getColumn(a.name).toArray() as unknown[]);
  const rows: Applicant[] = new Array(frame.height);
  for (let r = 0; r < frame.height; r++) {
    const record: Record<string, unknown> = {};
    for (let c = 0; c < ATTRIBUTES.length; c++) record[ATTRIBUTES[c].name] = columns[c][r];
    rows[r] = record as Applicant;
  }
  return rows;
}

interface Line {
  readonly number: number;
  readonly text: string;
}

function problem(line: number, column: string, value: string, message: string): DataProblem {
  return { line, column, value, message };
}

/** Splits on LF or CRLF, trims trailing white space, drops trailing blank lines; blank lines inside are kept to be reported. */
function splitLines(text: string): Line[] {
  const raw = text.replace(/^\uFEFF/, "").split("\n");
  const lines: Line[] = raw.map((t, i) => ({ number: i + 1, text: trimEnd(t) }));
  while (lines.length && lines[lines.length - 1].text === "") lines.pop();
  return lines;
}

/** `text.replace(/\s+$/, "")`, skipping the regular expression when the line ends in a printable ASCII character. */
function trimEnd(text: string): string {
  const last = text.charCodeAt(text.length - 1);
  return last > 32 && last < 127 ? text : text.replace(/\s+$/, "");
}

function parseRaw(lines: Line[], source: string): CreditTable {
  const width = ATTRIBUTES.length + 1;
  const problems: DataProblem[] = [];
  const normalised: string[] = [];
  for (const line of lines) {
    const fields = line.text.trim().split(/[ \t]+/);
    if (line.text.trim() === "") {
      problems.push(problem(line.number, "", "", "the line is empty"));
    } else if (fields.length !== width) {
      problems.push(
        problem(line.number, "", "", `expected ${width} fields separated by spaces, found ${fields.length}`),
      );
    }
    normalised.push(fields.join(" "));
  }
  if (problems.length) {
    throw new DataError(source, problems.slice(0, MAX_PROBLEMS), problems.length > MAX_PROBLEMS);
  }
  const strings = polars().readCSV(Buffer.from(normalised.join("\n") + "\n"), {
    sep: " ",
    hasHeader: false,
    inferSchemaLength: 0,
    quoteChar: undefined,
  });
  const named = strings.rename(
    Object.fromEntries([...ATTRIBUTES.map((a, i) => [`column_${i + 1}`, a.name]), [
      `column_${width}`,
      CLASS_COLUMN,
    ]]),
  );
  return typeColumns(named, Int32Array.from(lines, (l) => l.number), source, true, false);
}

function parseCsv(lines: Line[], source: string): CreditTable {
  const header = splitCsvLine(lines[0].text).map((h) => h.trim());
  const problems: DataProblem[] = [];
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) problems.push(problem(1, name, name, "the column appears twice in the header"));
    seen.add(name);
    const known = ATTRIBUTES.some((a) => a.name === name) || name === CLASS_COLUMN || name === ID_COLUMN;
    if (!known) problems.push(problem(1, name, name, "is not an attribute of the schema"));
  }
  for (const a of ATTRIBUTES) {
    if (!seen.has(a.name)) problems.push(problem(1, a.name, "", "the header lacks this required column"));
  }
  const body = lines.slice(1);
  if (body.length === 0 && problems.length === 0) {
    problems.push(problem(1, "", "", "the file has a header but no rows"));
  }
  for (const line of body) {
    const count = line.text.trim() === "" ? 0 : countCsvFields(line.text);
    if (count !== header.length) {
      problems.push(
        problem(line.number, "", "", `expected ${header.length} fields as in the header, found ${count}`),
      );
      if (problems.length > MAX_PROBLEMS) break;
    }
  }
  if (problems.length) {
    throw new DataError(source, problems.slice(0, MAX_PROBLEMS), problems.length > MAX_PROBLEMS);
  }
  const csv = lines.map((l) => l.text).join("\n") + "\n";
  const strings = polars().readCSV(Buffer.from(csv), {
    sep: ",",
    hasHeader: true,
    inferSchemaLength: 0,
  });
  const trimmed = strings.rename(Object.fromEntries(strings.columns.map((c) => [c, c.trim()])));
  return typeColumns(
    trimmed,
    Int32Array.from(body, (l) => l.number),
    source,
    seen.has(CLASS_COLUMN),
    seen.has(ID_COLUMN),
    PADDING.test(csv),
  );
}

/** Validates the string columns with polars expressions and casts them to their schema types. */
function typeColumns(
  raw: Polars.DataFrame,
  lineNumbers: Int32Array,
  source: string,
  labelled: boolean,
  withIds: boolean,
  padded = true,
): CreditTable {
  const pl = polars();
  const stripped = padded ? raw.select(...raw.columns.map((c) => pl.col(c).str.strip().alias(c))) : raw;
  const strings = stripped.withRowIndex(ROW);
  const problems: DataProblem[] = [];
  // Checks are collected first and looked up one by one only when some row fails any of them:
  // a clean table costs one pass instead of one per check.
  const checks: { name: string; predicate: Polars.Expr; message: string }[] = [];
  const report = (name: string, predicate: Polars.Expr, message: string) =>
    checks.push({ name, predicate, message });
  const lookUp = ({ name, predicate, message }: (typeof checks)[number]) => {
    const hits = strings.filter(predicate).select(ROW, name).head(MAX_PROBLEMS + 1);
    const rows = hits.getColumn(ROW).toArray() as number[];
    const values = hits.getColumn(name).toArray() as (string | null)[];
    rows.forEach((r, i) => problems.push(problem(lineNumbers[r], name, values[i] ?? "", message)));
  };
  const typed: Polars.Expr[] = [];
  for (const a of ATTRIBUTES) {
    const value = pl.col(a.name);
    const missing = value.isNull().or(value.eq(pl.lit("")));
    report(a.name, missing, "the value is missing");
    if (isCategorical(a)) {
      const codes = a.codes.map((c) => c.code);
      report(
        a.name,
        value.isIn(codes).not().and(missing.not()),
        `unknown code; expected one of ${codes.join(", ")}`,
      );
      typed.push(value);
    } else {
      typed.push(validateNumber(a, report));
    }
  }
  if (labelled) {
    const value = pl.col(CLASS_COLUMN);
    report(
      CLASS_COLUMN,
      value.isIn(["1", "2"]).not().or(value.isNull()),
      "the class must be 1 (good) or 2 (bad)",
    );
    typed.push(value.eq(pl.lit("2")).cast(pl.Int8).alias("bad"));
  }
  const anyProblem = checks.map((c) => c.predicate).reduce((any, p) => any.or(p));
  const failing = strings.lazy().filter(anyProblem).select(pl.len().alias("n")).collectSync().getColumn("n");
  if (Number(failing.get(0)) > 0) checks.forEach(lookUp);
  if (problems.length) {
    problems.sort((x, y) => x.line - y.line);
    throw new DataError(source, problems.slice(0, MAX_PROBLEMS), problems.length > MAX_PROBLEMS);
  }
  const frame = strings.select(...typed);
  const bad = labelled ? Uint8Array.from(frame.getColumn("bad").toTypedArray() as Int8Array) : null;
  const ids = withIds
    ? (strings.getColumn(ID_COLUMN).toArray() as (string | null)[]).map((v) => v ?? "")
    : null;
  return { frame, lineNumbers, bad, ids };
}

const ROW = "__row";

/**
 * White space other than line breaks (JavaScript's \s plus U+0085, which Rust's `trim` also
 * strips): a text without any has nothing for `str.strip()` to remove, so the pass is skipped.
 */
const PADDING = /[^\S\n]|\u0085/;

type Reporter = (name: string, predicate: Polars.Expr, message: string) => void;

function validateNumber(a: NumericAttribute, report: Reporter): Polars.Expr {
  const pl = polars();
  const text = pl.col(a.name);
  const present = text.isNull().not().and(text.neq(pl.lit("")));
  const number = text.cast(pl.Float64, false);
  report(a.name, present.and(number.isNull()), "not a number");
  report(a.name, number.floor().neq(number), "expected a whole number");
  report(
    a.name,
    number.lt(a.min).or(number.gt(a.max)),
    `outside the accepted range ${a.min}–${a.max} ${a.unit.en}`,
  );
  return number.cast(pl.Int32).alias(a.name);
}

/** A short human summary of a table: rows, class balance, columns and types. */
export function summarise(table: CreditTable): string {
  const { frame, bad } = table;
  const lines = [`rows: ${frame.height}`];
  if (bad) {
    const nBad = bad.reduce((s, v) => s + v, 0);
    const pct = (n: number) => ((100 * n) / bad.length).toFixed(1);
    lines.push(
      `class balance: ${bad.length - nBad} good (${pct(bad.length - nBad)} %), ${nBad} bad (${pct(nBad)} %)`,
    );
  }
  lines.push("columns:");
  for (const name of frame.columns) {
    const series = frame.getColumn(name);
    const a = ATTRIBUTES.find((x) => x.name === name);
    const detail = a && a.kind === "numeric"
      ? `min ${series.min()}, max ${series.max()}`
      : `${series.nUnique()} distinct`;
    lines.push(
      `  ${name.padEnd(24)} ${String(series.dtype).replace(/^DataType\((.*)\)$/, "$1").padEnd(8)} ${
        a ? a.kind.padEnd(8) : "target  "
      } ${detail}`,
    );
  }
  return lines.join("\n");
}

/** Writes a table's frame as Parquet atomically (temp file + rename). */
export async function writeParquetAtomic(frame: Polars.DataFrame, path: string): Promise<void> {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    frame.writeParquet(tmp);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** The rows `rows` (0-based) of a table, in that order. */
export function selectRows(frame: Polars.DataFrame, rows: ArrayLike<number>): Polars.DataFrame {
  return frame.select(polars().all().gather(Array.from(rows)));
}
