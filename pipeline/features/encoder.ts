/**
 * Feature engineering and encoding. The encoder is fitted on training rows only, serialises to
 * versioned JSON, and turns one applicant record (the API path) and a whole polars table (the batch
 * path) into exactly the same numbers.
 * @module
 */

import type Polars from "nodejs-polars";
import { polars } from "../data/polars.ts";
import {
  type Applicant,
  type AttributeName,
  ATTRIBUTES,
  type CategoricalAttribute,
  checkValue,
  isCategorical,
  SCHEMA_VERSION,
} from "../data/schema.ts";
import type { Matrix } from "../forest/mod.ts";
import { AGE_BAND_BOUNDS, ENGINEERED_RECORDS, type EngineeredRecord } from "./engineered.ts";

/** An analyst's feature computed from raw attributes, defined once for records and for tables. */
export interface EngineeredFeature extends EngineeredRecord {
  readonly expression: () => Polars.Expr;
}

export { AGE_BAND_BOUNDS };

/** Each engineered feature's table formula (its record formula is in engineered.ts). */
const EXPRESSIONS: Readonly<Record<string, (pl: typeof Polars) => Polars.Expr>> = {
  monthly_instalment: (pl) =>
    pl.col("credit_amount").cast(pl.Float64).div(pl.col("duration").cast(pl.Float64)),
  amount_per_age_year: (pl) => pl.col("credit_amount").cast(pl.Float64).div(pl.col("age").cast(pl.Float64)),
  income_proxy: (pl) =>
    pl.col("credit_amount").cast(pl.Float64).div(pl.col("duration").cast(pl.Float64)).div(
      pl.col("installment_commitment").cast(pl.Float64),
    ),
  age_band: (pl) =>
    AGE_BAND_BOUNDS.map((bound) => pl.col("age").gtEq(bound).cast(pl.Float64)).reduce((sum, e) => sum.add(e)),
};

/** The engineered features, in the order they follow the attributes. */
export const ENGINEERED_FEATURES: readonly EngineeredFeature[] = ENGINEERED_RECORDS.map((f) => ({
  ...f,
  expression: () => EXPRESSIONS[f.name](polars()),
}));

/** How the encoder represents attributes. */
export interface EncoderOptions {
  /** Ordered attributes as one ordinal column (rank in the schema) rather than one-hot columns. */
  readonly orderedAsOrdinal: boolean;
  /** Append the engineered features. */
  readonly engineered: boolean;
  /**
   * Attributes the model may not see (its attribute profile, `data/profile.ts`): they get no column,
   * nor does any engineered feature whose `sources` name one, and they are never read from a record.
   */
  readonly excluded: readonly AttributeName[];
}

/** Default encoding: ordinal ranks for ordered attributes (trees split them in order) and engineered features. */
export const DEFAULT_ENCODER_OPTIONS: EncoderOptions = {
  orderedAsOrdinal: true,
  engineered: true,
  excluded: [],
};

/** Format version of the encoder's JSON. */
export const ENCODER_FORMAT_VERSION = 1;

/** One output column: its name and the raw attributes it derives from. */
export interface FeatureColumn {
  readonly name: string;
  readonly sources: readonly AttributeName[];
}

/** The encoder's JSON form. */
export interface EncoderJSON {
  readonly formatVersion: number;
  readonly schemaVersion: string;
  readonly options: EncoderOptions;
  /** Codes seen in the training rows, per one-hot encoded attribute, in schema order. */
  readonly levels: Record<string, string[]>;
}

/** An unusable value at transform time, naming the attribute and the value. */
export class EncodingError extends Error {
  constructor(readonly attribute: string, readonly value: unknown, message: string) {
    super(`${attribute}: ${message}`);
    this.name = "EncodingError";
  }
}

type Step =
  | { kind: "numeric"; name: AttributeName; column: number }
  | { kind: "ordinal"; name: AttributeName; column: number; ranks: ReadonlyMap<string, number> }
  | { kind: "onehot"; name: AttributeName; column: number; slots: ReadonlyMap<string, number> }
  | { kind: "engineered"; feature: EngineeredFeature; column: number };

/**
 * Encodes applicants into feature rows. One-hot columns exist only for codes seen in training; a
 * valid code never seen there encodes as all zeros (as scikit-learn's `handle_unknown="ignore"`),
 * while a code outside the schema is an error.
 */
export class FeatureEncoder {
  readonly options: EncoderOptions;
  readonly levels: Readonly<Record<string, readonly string[]>>;
  readonly columns: readonly FeatureColumn[];
  readonly #steps: readonly Step[];

  private constructor(options: EncoderOptions, levels: Record<string, string[]>) {
    this.options = options;
    this.levels = levels;
    const steps: Step[] = [];
    const columns: FeatureColumn[] = [];
    const excluded = new Set<string>(options.excluded);
    for (const a of ATTRIBUTES) {
      if (excluded.has(a.name)) continue;
      if (!isCategorical(a)) {
        steps.push({ kind: "numeric", name: a.name, column: columns.length });
        columns.push({ name: a.name, sources: [a.name] });
      } else if (a.kind === "ordered" && options.orderedAsOrdinal) {
        const ranks = new Map(a.codes.map((c, i) => [c.code, i]));
        steps.push({ kind: "ordinal", name: a.name, column: columns.length, ranks });
        columns.push({ name: a.name, sources: [a.name] });
      } else {
        const seen = levels[a.name] ?? [];
        steps.push({
          kind: "onehot",
          name: a.name,
          column: columns.length,
          slots: new Map(seen.map((c, i) => [c, i])),
        });
        for (const c of seen) columns.push({ name: `${a.name}=${c}`, sources: [a.name] });
      }
    }
    if (options.engineered) {
      for (const feature of ENGINEERED_FEATURES) {
        if (feature.sources.some((source) => excluded.has(source))) continue;
        steps.push({ kind: "engineered", feature, column: columns.length });
        columns.push({ name: feature.name, sources: feature.sources });
      }
    }
    this.#steps = steps;
    this.columns = columns;
  }

  /** Learns the one-hot levels from training rows (records or a table); nothing else is learned. */
  static fit(
    training: readonly Applicant[] | Polars.DataFrame,
    options: Partial<EncoderOptions> = {},
  ): FeatureEncoder {
    const resolved: { -readonly [K in keyof EncoderOptions]: EncoderOptions[K] } = {
      ...DEFAULT_ENCODER_OPTIONS,
      ...options,
    };
    checkExcluded(resolved.excluded);
    resolved.excluded = ATTRIBUTES.map((a) => a.name).filter((n) => resolved.excluded.includes(n));
    const levels: Record<string, string[]> = {};
    for (const a of ATTRIBUTES) {
      if (!isCategorical(a) || (a.kind === "ordered" && resolved.orderedAsOrdinal)) continue;
      if (resolved.excluded.includes(a.name)) continue;
      const present = new Set<string>(
        Array.isArray(training)
          ? training.map((row) => row[a.name] as string)
          : ((training as Polars.DataFrame).getColumn(a.name).unique().toArray() as string[]),
      );
      levels[a.name] = a.codes.map((c) => c.code).filter((c) => present.has(c));
    }
    return new FeatureEncoder(resolved, levels);
  }

  /** Restores an encoder from its JSON form. */
  static fromJSON(json: EncoderJSON): FeatureEncoder {
    if (json?.formatVersion !== ENCODER_FORMAT_VERSION) {
      throw new TypeError(
        `encoder formatVersion ${json?.formatVersion} is not supported (expected ${ENCODER_FORMAT_VERSION})`,
      );
    }
    if (json.schemaVersion !== SCHEMA_VERSION) {
      throw new TypeError(
        `encoder was built for schema ${json.schemaVersion}, this is schema ${SCHEMA_VERSION}`,
      );
    }
    for (const [name, codes] of Object.entries(json.levels)) {
      const a = ATTRIBUTES.find((x) => x.name === name);
      if (!a || !isCategorical(a)) throw new TypeError(`encoder levels name an unknown attribute ${name}`);
      for (const c of codes) {
        if (!a.codes.some((d) => d.code === c)) {
          throw new TypeError(`encoder levels of ${name} hold unknown code ${c}`);
        }
      }
    }
    // An encoder saved before profiles existed has no `excluded`: it saw every attribute.
    const options = { ...DEFAULT_ENCODER_OPTIONS, ...json.options };
    checkExcluded(options.excluded);
    for (const name of options.excluded) {
      if (name in json.levels) throw new TypeError(`encoder levels name the excluded attribute ${name}`);
    }
    return new FeatureEncoder(options, structuredClone(json.levels));
  }

  /** The JSON form (versioned). */
  toJSON(): EncoderJSON {
    return {
      formatVersion: ENCODER_FORMAT_VERSION,
      schemaVersion: SCHEMA_VERSION,
      options: { ...this.options, excluded: [...this.options.excluded] },
      levels: structuredClone(this.levels) as Record<string, string[]>,
    };
  }

  /** Number of output columns. */
  get nFeatures(): number {
    return this.columns.length;
  }

  /** Output column names. */
  get featureNames(): string[] {
    return this.columns.map((c) => c.name);
  }

  /** Encodes one applicant into `out` (or a new row); throws EncodingError for an invalid value. */
  transformOne(applicant: Applicant, out: Float64Array = new Float64Array(this.nFeatures)): Float64Array {
    out.fill(0);
    for (const step of this.#steps) {
      if (step.kind === "engineered") {
        out[step.column] = step.feature.record(applicant);
        continue;
      }
      const value = applicant[step.name];
      if (step.kind === "numeric") {
        if (typeof value !== "number" || !Number.isFinite(value)) {
          throw new EncodingError(step.name, value, `expected a number, got ${JSON.stringify(value)}`);
        }
        out[step.column] = value;
      } else if (step.kind === "ordinal") {
        const rank = step.ranks.get(value as string);
        if (rank === undefined) throw this.#unknown(step.name, value);
        out[step.column] = rank;
      } else {
        const slot = step.slots.get(value as string);
        if (slot !== undefined) out[step.column + slot] = 1;
        else if (!isSchemaCode(step.name, value)) throw this.#unknown(step.name, value);
      }
    }
    return out;
  }

  /** Encodes many applicant records. */
  transformRecords(applicants: readonly Applicant[]): Matrix {
    const cols = this.nFeatures;
    const data = new Float64Array(applicants.length * cols);
    for (let r = 0; r < applicants.length; r++) {
      this.transformOne(applicants[r], data.subarray(r * cols, (r + 1) * cols));
    }
    return { data, rows: applicants.length, cols };
  }

  /** Encodes a validated table with polars expressions (the batch path). */
  transformFrame(frame: Polars.DataFrame): Matrix {
    const pl = polars();
    const expressions: Polars.Expr[] = [];
    for (const step of this.#steps) {
      if (step.kind === "engineered") {
        expressions.push(step.feature.expression().alias(step.feature.name));
      } else if (step.kind === "numeric") {
        expressions.push(pl.col(step.name).cast(pl.Float64));
      } else if (step.kind === "ordinal") {
        this.#checkCodes(frame, step.name, [...step.ranks.keys()]);
        expressions.push(
          pl.col(step.name).replace([...step.ranks.keys()], [...step.ranks.values()]).cast(pl.Float64),
        );
      } else {
        this.#checkCodes(frame, step.name, schemaCodes(step.name));
        for (const code of step.slots.keys()) {
          expressions.push(pl.col(step.name).eq(pl.lit(code)).cast(pl.Float64).alias(`${step.name}=${code}`));
        }
      }
    }
    const encoded = frame.select(...expressions);
    const rows = encoded.height;
    const cols = this.nFeatures;
    const data = new Float64Array(rows * cols);
    const columns = encoded.getColumns().map((series) => series.toTypedArray() as Float64Array);
    // Row-major output written a tile of rows at a time: column-at-a-time over the whole table
    // strides through memory and costs several times more.
    for (let start = 0; start < rows; start += TILE_ROWS) {
      const end = Math.min(rows, start + TILE_ROWS);
      for (let c = 0; c < cols; c++) {
        const values = columns[c];
        for (let r = start, o = start * cols + c; r < end; r++, o += cols) data[o] = values[r];
      }
    }
    return { data, rows, cols };
  }

  #checkCodes(frame: Polars.DataFrame, name: string, allowed: string[]) {
    const unknown = frame.getColumn(name).unique().toArray().filter((v) => !allowed.includes(v as string));
    if (unknown.length) throw this.#unknown(name, unknown[0]);
  }

  #unknown(name: string, value: unknown): EncodingError {
    const a = ATTRIBUTES.find((x) => x.name === name)!;
    return new EncodingError(name, value, checkValue(a, value) ?? `unknown code ${JSON.stringify(value)}`);
  }
}

const TILE_ROWS = 256;

function checkExcluded(excluded: unknown): asserts excluded is readonly AttributeName[] {
  if (!Array.isArray(excluded)) throw new TypeError(`encoder excluded must be a list of attribute names`);
  for (const name of excluded) {
    if (!ATTRIBUTES.some((a) => a.name === name)) {
      throw new TypeError(
        `encoder excludes ${JSON.stringify(name)}, which is not an attribute of the schema`,
      );
    }
  }
}

function schemaCodes(name: string): string[] {
  return (ATTRIBUTES.find((a) => a.name === name) as CategoricalAttribute).codes.map((c) => c.code);
}

function isSchemaCode(name: string, value: unknown): boolean {
  return typeof value === "string" && schemaCodes(name).includes(value);
}
