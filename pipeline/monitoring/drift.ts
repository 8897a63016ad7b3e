/**
 * Population stability index (PSI): how far the applicants a model sees now have moved from the
 * ones it was trained on, per attribute and for the score. Numeric attributes and the score are
 * cut at the training deciles; categorical attributes count each code. For every bin,
 * `PSI = Σ (actual − expected) · ln(actual / expected)`, with proportions floored at
 * {@link PSI_FLOOR} so an empty bin adds a large but finite term. The usual bands: below 0.1
 * stable, 0.1 to 0.25 watch, above 0.25 act.
 *
 * The training reference travels in the model artifact (`reference`, written by `train.ts` from
 * the training part and its out-of-fold scores), because a model may be trained on another file;
 * an older artifact without one is compared against the rows of a data file instead (by default
 * `data/german.data`, scored by the model itself, so its score reference is in-sample).
 *
 * `deno task drift INPUT.csv [--models-dir DIR] [--model PATH] [--data PATH] [--json]` prints the
 * comparison of a file against the production model's reference; exit status 0 whatever the
 * bands say, 1 when the file or the model cannot be read, 2 for a usage mistake.
 * @module
 */

import { parseArgs } from "node:util";
import { z } from "zod";
import { DataError, DEFAULT_DATA_PATH, loadCreditTable, toApplicants } from "../data/etl.ts";
import { CreditModel, ModelLoadError } from "../model/artifact.ts";
import { ATTRIBUTES, isCategorical } from "../data/schema.ts";
import { DEFAULT_MODELS_DIR, productionModel, readRegistry } from "../tracking/run.ts";

/** The PSI bands' limits: below `watch` is stable, above `act` calls for action. */
export const PSI_LIMITS = { watch: 0.1, act: 0.25 } as const;

/** What a PSI value calls for. */
export type DriftBand = "stable" | "watch" | "act";

/** The bands in words, as `/monitoring` documents them. */
export const PSI_BAND_TEXT: Readonly<Record<DriftBand, string>> = {
  stable: "psi < 0.1",
  watch: "0.1 ≤ psi ≤ 0.25",
  act: "psi > 0.25",
};

/** Proportions below this count as this much, so an empty bin cannot make the PSI infinite. */
export const PSI_FLOOR = 1e-4;

/** Bins of the decile cut used for numeric attributes and the score. */
export const NUMERIC_BINS = 10;

/** The band of a PSI value. */
export function psiBand(psi: number): DriftBand {
  return psi < PSI_LIMITS.watch ? "stable" : psi <= PSI_LIMITS.act ? "watch" : "act";
}

/** Numeric bins: bin k holds values ≤ `edges[k]` (and above the edge before); the last bin holds the rest. */
export interface NumericBins {
  kind: "numeric";
  edges: number[];
  /** Training proportions, one per bin (`edges.length + 1`). */
  proportions: number[];
}

/** Categorical bins: one per code of the schema. */
export interface CategoricalBins {
  kind: "categorical";
  codes: string[];
  proportions: number[];
}

/** One attribute's (or the score's) training distribution. */
export type Bins = NumericBins | CategoricalBins;

/** The training distribution a model is compared against; stored as the artifact's `reference`. */
export interface DriftReference {
  format_version: 1;
  /** Where the rows came from, in words. */
  source: string;
  rows: number;
  attributes: Record<string, Bins>;
  /** The distribution of P(bad), with what it was computed on; null when unknown. */
  score: (NumericBins & { of: string; rows: number }) | null;
}

const proportions = z.array(z.number().min(0).max(1));
const numericBins = z.object({
  kind: z.literal("numeric"),
  edges: z.array(z.number()),
  proportions,
}).refine((b) => b.proportions.length === b.edges.length + 1, "one proportion per bin");
const categoricalBins = z.object({ kind: z.literal("categorical"), codes: z.array(z.string()), proportions })
  .refine((b) => b.proportions.length === b.codes.length, "one proportion per code");

/** The schema a stored reference must satisfy before it is used. */
export const driftReferenceSchema = z.object({
  format_version: z.literal(1),
  source: z.string(),
  rows: z.number().int().positive(),
  attributes: z.record(z.string(), z.union([numericBins, categoricalBins])),
  score: z.intersection(numericBins, z.object({ of: z.string(), rows: z.number().int().positive() }))
    .nullable(),
});

/** Cut points at the deciles of `values` (nearest rank), without repeats or the maximum itself. */
export function quantileEdges(values: ArrayLike<number>, bins = NUMERIC_BINS): number[] {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return [];
  const max = sorted[sorted.length - 1];
  const edges: number[] = [];
  for (let q = 1; q < bins; q++) {
    const edge = sorted[Math.max(0, Math.ceil((q / bins) * sorted.length) - 1)];
    if (edge < max && edge !== edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

/** The bin of a numeric value. */
export function numericBin(edges: readonly number[], value: number): number {
  let k = 0;
  while (k < edges.length && value > edges[k]) k++;
  return k;
}

/** The training distribution of the applicants (and their scores, when given). */
export function buildReference(
  applicants: readonly Record<string, unknown>[],
  scores: ArrayLike<number> | null,
  description: { source: string; score?: string },
): DriftReference {
  const n = applicants.length;
  if (n === 0) throw new RangeError("a drift reference needs at least one row");
  const attributes: Record<string, Bins> = {};
  for (const a of ATTRIBUTES) {
    if (isCategorical(a)) {
      const codes = a.codes.map((c) => c.code as string);
      const counts = new Array(codes.length).fill(0);
      for (const row of applicants) {
        const k = codes.indexOf(row[a.name] as string);
        if (k >= 0) counts[k]++;
      }
      attributes[a.name] = { kind: "categorical", codes, proportions: counts.map((c) => c / n) };
    } else {
      const values = applicants.map((row) => row[a.name] as number);
      attributes[a.name] = numericReference(values);
    }
  }
  const score = scores && scores.length > 0
    ? { ...numericReference(scores), of: description.score ?? "P(bad)", rows: scores.length }
    : null;
  return { format_version: 1, source: description.source, rows: n, attributes, score };
}

function numericReference(values: ArrayLike<number>): NumericBins {
  const edges = quantileEdges(values);
  const counts = new Array(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) counts[numericBin(edges, values[i])]++;
  return { kind: "numeric", edges, proportions: counts.map((c) => c / values.length) };
}

/** PSI of observed counts against expected proportions; null when nothing was observed. */
export function psi(expected: readonly number[], counts: readonly number[]): number | null {
  const total = counts.reduce((s, c) => s + c, 0);
  if (total === 0) return null;
  let sum = 0;
  for (let k = 0; k < expected.length; k++) {
    const e = Math.max(expected[k], PSI_FLOOR);
    const a = Math.max(counts[k] / total, PSI_FLOOR);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** One bin of a comparison. */
export interface BinDrift {
  label: string;
  /** Training proportion. */
  expected: number;
  /** Observed proportion (0 when nothing was observed). */
  actual: number;
  count: number;
}

/** One attribute's (or the score's) comparison. */
export interface Drift {
  name: string;
  kind: "numeric" | "categorical";
  /** Null when no row was observed. */
  psi: number | null;
  band: DriftBand | null;
  /** Rows observed. */
  rows: number;
  bins: BinDrift[];
}

/** A whole comparison: every attribute in schema order, then the score. */
export interface DriftReport {
  reference: { source: string; rows: number };
  rows: number;
  attributes: Drift[];
  /** Null when the reference has no score distribution. */
  score: Drift | null;
  /** The attribute or score with the highest PSI. */
  worst: { name: string; psi: number; band: DriftBand } | null;
}

/** Counts observed rows into a reference's bins and reports the PSI of each. */
export class DriftCounter {
  readonly reference: DriftReference;
  #rows = 0;
  readonly #counts: Map<string, number[]>;
  readonly #codeBins: Map<string, Map<string, number>>;
  readonly #scoreCounts: number[] | null;

  constructor(reference: DriftReference) {
    this.reference = reference;
    this.#counts = new Map();
    this.#codeBins = new Map();
    for (const [name, bins] of Object.entries(reference.attributes)) {
      this.#counts.set(name, new Array(bins.proportions.length).fill(0));
      if (bins.kind === "categorical") this.#codeBins.set(name, new Map(bins.codes.map((c, k) => [c, k])));
    }
    this.#scoreCounts = reference.score ? new Array(reference.score.proportions.length).fill(0) : null;
  }

  /** Counts one applicant. */
  add(applicant: Readonly<Record<string, unknown>>): void {
    this.#rows++;
    for (const [name, counts] of this.#counts) this.addValue(name, applicant[name], counts);
  }

  /** Counts one attribute value (used by callers that hold columns rather than records). */
  addValue(name: string, value: unknown, counts = this.#counts.get(name)): void {
    if (!counts) return;
    const codes = this.#codeBins.get(name);
    if (codes) {
      const k = codes.get(value as string);
      if (k !== undefined) counts[k]++;
    } else if (typeof value === "number") {
      counts[numericBin((this.reference.attributes[name] as NumericBins).edges, value)]++;
    }
  }

  /** Counts rows without values (for {@link addValue} callers). */
  addRows(n: number): void {
    this.#rows += n;
  }

  /** Counts one score (P(bad)). */
  addScore(probability: number): void {
    if (this.#scoreCounts) this.#scoreCounts[numericBin(this.reference.score!.edges, probability)]++;
  }

  /** The comparison so far. */
  report(): DriftReport {
    const attributes = Object.entries(this.reference.attributes).map(([name, bins]) =>
      compare(name, bins, this.#counts.get(name)!)
    );
    const score = this.reference.score && this.#scoreCounts
      ? compare("score", this.reference.score, this.#scoreCounts, 4)
      : null;
    let worst: DriftReport["worst"] = null;
    for (const d of score ? [...attributes, score] : attributes) {
      if (d.psi !== null && (worst === null || d.psi > worst.psi)) {
        worst = { name: d.name, psi: d.psi, band: d.band! };
      }
    }
    return {
      reference: { source: this.reference.source, rows: this.reference.rows },
      rows: this.#rows,
      attributes,
      score,
      worst,
    };
  }
}

function compare(name: string, bins: Bins, counts: readonly number[], digits?: number): Drift {
  const total = counts.reduce((s, c) => s + c, 0);
  const value = psi(bins.proportions, counts);
  const labels = bins.kind === "categorical" ? bins.codes : numericLabels(bins.edges, digits);
  return {
    name,
    kind: bins.kind,
    psi: value,
    band: value === null ? null : psiBand(value),
    rows: total,
    bins: bins.proportions.map((expected, k) => ({
      label: labels[k],
      expected,
      actual: total ? counts[k] / total : 0,
      count: counts[k],
    })),
  };
}

function numericLabels(edges: readonly number[], digits?: number): string[] {
  const show = (x: number) => digits === undefined ? String(x) : String(Number(x.toPrecision(digits)));
  if (edges.length === 0) return ["all"];
  return [
    `≤ ${show(edges[0])}`,
    ...edges.slice(1).map((e, k) => `(${show(edges[k])}, ${show(e)}]`),
    `> ${show(edges[edges.length - 1])}`,
  ];
}

/** The artifact's stored reference, or null when it has none (or a malformed one). */
export function storedReference(model: CreditModel): DriftReference | null {
  const stored = (model.artifact as { reference?: unknown }).reference;
  if (stored === undefined || stored === null) return null;
  const parsed = driftReferenceSchema.safeParse(stored);
  return parsed.success ? parsed.data as DriftReference : null;
}

/** A reference built from a data file's rows, with the model's own scores of them. */
export async function referenceFromData(
  model: CreditModel,
  path = DEFAULT_DATA_PATH,
): Promise<DriftReference> {
  const table = await loadCreditTable(path);
  const scores = model.probabilities(model.encoder.transformFrame(table.frame));
  return buildReference(toApplicants(table.frame), scores, {
    source: `all rows of ${path} (the artifact has no training reference)`,
    score: `P(bad) of the served model on the rows of ${path} (in-sample where it was trained on them)`,
  });
}

/** The model's reference: the stored one, else one built from `dataPath`. */
export async function referenceFor(
  model: CreditModel,
  dataPath = DEFAULT_DATA_PATH,
): Promise<{ reference: DriftReference; origin: "artifact" | "data" }> {
  const stored = storedReference(model);
  if (stored) return { reference: stored, origin: "artifact" };
  return { reference: await referenceFromData(model, dataPath), origin: "data" };
}

/**
 * The most recent served decisions, kept in memory for `/monitoring`: each attribute value and
 * P(bad) in flat typed arrays (a ring), binned only when a report is asked for, so recording costs
 * a few stores per decision and a model reload needs no re-recording.
 */
export class ServedWindow {
  readonly capacity: number;
  readonly #values: Float64Array;
  readonly #scores: Float64Array;
  readonly #models: Int32Array;
  readonly #times: Float64Array;
  readonly #modelKeys = new Map<string, number>();
  #next = 0;
  #size = 0;

  constructor(capacity = 10_000) {
    if (!(Number.isInteger(capacity) && capacity > 0)) {
      throw new RangeError(`window capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#values = new Float64Array(capacity * ATTRIBUTES.length);
    this.#scores = new Float64Array(capacity);
    this.#models = new Int32Array(capacity);
    this.#times = new Float64Array(capacity);
  }

  /** Decisions held. */
  get size(): number {
    return this.#size;
  }

  /** Records one decision: the applicant, its P(bad), the model (run id) that scored it, when. */
  add(
    applicant: Readonly<Record<string, unknown>>,
    probability: number,
    model: string,
    time = Date.now(),
  ): void {
    const at = this.#next;
    const base = at * ATTRIBUTES.length;
    for (let i = 0; i < ATTRIBUTES.length; i++) {
      const codes = CODE_INDEX[i];
      const value = applicant[ATTRIBUTES[i].name];
      this.#values[base + i] = codes ? codes.get(value as string) ?? -1 : Number(value);
    }
    this.#scores[at] = probability;
    let key = this.#modelKeys.get(model);
    if (key === undefined) this.#modelKeys.set(model, key = this.#modelKeys.size);
    this.#models[at] = key;
    this.#times[at] = time;
    this.#next = (at + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  /** The oldest and newest decision times (ms since the epoch), or nulls when empty. */
  span(): { from: number | null; to: number | null } {
    if (this.#size === 0) return { from: null, to: null };
    const oldest = this.#size < this.capacity ? 0 : this.#next;
    const newest = (this.#next - 1 + this.capacity) % this.capacity;
    return { from: this.#times[oldest], to: this.#times[newest] };
  }

  /** PSI of the window against a reference; the score counts only decisions of model `model`. */
  report(reference: DriftReference, model: string): DriftReport {
    const counter = new DriftCounter(reference);
    counter.addRows(this.#size);
    const names = ATTRIBUTES.map((a) => a.name);
    for (let r = 0; r < this.#size; r++) {
      const base = r * ATTRIBUTES.length;
      for (let i = 0; i < ATTRIBUTES.length; i++) {
        const codes = CODE_LIST[i];
        const value = this.#values[base + i];
        counter.addValue(names[i], codes ? codes[value] : value);
      }
    }
    const key = this.#modelKeys.get(model);
    if (key !== undefined) {
      for (let r = 0; r < this.#size; r++) if (this.#models[r] === key) counter.addScore(this.#scores[r]);
    }
    return counter.report();
  }
}

/** Per attribute, code → index (categorical) or null (numeric); and the reverse lists. */
const CODE_INDEX: readonly (ReadonlyMap<string, number> | null)[] = ATTRIBUTES.map((a) =>
  isCategorical(a) ? new Map(a.codes.map((c, k) => [c.code as string, k])) : null
);
const CODE_LIST: readonly (readonly string[] | null)[] = ATTRIBUTES.map((a) =>
  isCategorical(a) ? a.codes.map((c) => c.code as string) : null
);

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `usage: deno task drift INPUT.csv [options]
  --models-dir DIR   registry and runs (default models); the production model is compared against
  --model PATH       compare against this artifact's reference instead (sha256 not verified)
  --data PATH        rows to build the reference from when the artifact has none
                     (default data/german.data)
  --json             print the report as JSON`;

/** Formats a report as a fixed-width table. */
export function formatDriftTable(report: DriftReport): string {
  const rows = [...report.attributes, ...(report.score ? [report.score] : [])];
  const width = Math.max(9, ...rows.map((d) => d.name.length));
  const lines = [
    `${"attribute".padEnd(width)}  ${"kind".padEnd(11)}  ${"PSI".padStart(7)}  band`,
    `${"-".repeat(width)}  ${"-".repeat(11)}  ${"-".repeat(7)}  ------`,
    ...rows.map((d) =>
      `${d.name.padEnd(width)}  ${d.kind.padEnd(11)}  ${
        (d.psi === null ? "–" : d.psi.toFixed(4)).padStart(7)
      }  ${d.band ?? "–"}`
    ),
  ];
  const count = (band: DriftBand) => rows.filter((d) => d.band === band).length;
  lines.push(
    "",
    `${report.rows} rows against ${report.reference.rows} reference rows (${report.reference.source})`,
    `stable ${count("stable")}, watch ${count("watch")}, act ${count("act")}` +
      (report.worst
        ? `; highest ${report.worst.name} ${report.worst.psi.toFixed(4)} (${report.worst.band})`
        : ""),
    `bands: ${Object.values(PSI_BAND_TEXT).join(", ")}`,
  );
  return lines.join("\n");
}

/** Runs the command; returns the exit status. */
export async function runDrift(
  args: string[],
  out: (text: string) => void = console.log,
  err: (text: string) => void = console.error,
): Promise<number> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "models-dir": { type: "string" },
        model: { type: "string" },
        data: { type: "string" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    err(`drift: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    err(`drift: expected one input file, got ${positionals.length}\n${USAGE}`);
    return 2;
  }
  try {
    const model = await loadModel(values["models-dir"] ?? DEFAULT_MODELS_DIR, values.model);
    const { reference, origin } = await referenceFor(model, values.data ?? DEFAULT_DATA_PATH);
    const table = await loadCreditTable(positionals[0]);
    const counter = new DriftCounter(reference);
    for (const applicant of toApplicants(table.frame)) counter.add(applicant);
    for (const p of model.probabilities(model.encoder.transformFrame(table.frame))) counter.addScore(p);
    const report = counter.report();
    if (values.json) {
      out(
        JSON.stringify({ input: positionals[0], run_id: model.artifact.run_id, origin, ...report }, null, 2),
      );
    } else {
      out(`${positionals[0]} against model run ${model.artifact.run_id} (reference from the ${origin})\n`);
      out(formatDriftTable(report));
    }
    return 0;
  } catch (error) {
    if (error instanceof DataError || error instanceof ModelLoadError) {
      err(`drift: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

async function loadModel(modelsDir: string, path: string | undefined): Promise<CreditModel> {
  if (path !== undefined) return (await CreditModel.load(path)).model;
  let registry;
  try {
    registry = await readRegistry(modelsDir);
  } catch (error) {
    throw new ModelLoadError(`cannot read the model registry: ${(error as Error).message}`);
  }
  const entry = productionModel(registry);
  if (!entry) {
    throw new ModelLoadError(`${modelsDir}/registry.json has no production model; use --model PATH`);
  }
  const artifact = entry.artifact.startsWith("/") ? entry.artifact : `${modelsDir}/${entry.artifact}`;
  return (await CreditModel.load(artifact, entry.sha256)).model;
}

if (import.meta.main) Deno.exit(await runDrift(Deno.args));
