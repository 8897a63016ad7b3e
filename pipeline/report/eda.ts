/**
 * Analysis functions behind the notebooks: data-quality checks, bad rate by category, weight of
 * evidence and information value, Cramér's V and correlations, cost curves, readers for a
 * run's artifacts, and small HTML/Markdown display helpers for the Deno Jupyter kernel. Cells call
 * these and chart the results with `pipeline/report/charts/mod.ts`; no analysis logic lives in a cell.
 *
 * Conventions: `bad` holds the target (1 bad, 0 good); weight of evidence is `ln(%good / %bad)`,
 * so a positive WoE marks a lower-risk group, as in credit scorecards.
 * @module
 */

import pl from "nodejs-polars";
import { type Costs, DEFAULT_COSTS, expectedCost } from "../model/metrics.ts";
import { ENGINEERED_FEATURES } from "../features/encoder.ts";
import {
  type Attribute,
  ATTRIBUTES,
  type CategoricalAttribute,
  codeLabel,
  isCategorical,
} from "../data/schema.ts";
import {
  DEFAULT_MODELS_DIR,
  type ModelVersion,
  parseCsv,
  productionModel,
  readRegistry,
  readRun,
  type RunRecord,
} from "../tracking/run.ts";

// ---------------------------------------------------------------------------------------------
// Counts and bad rates

/** Good and bad applicants in one group (a category or a bin). */
export interface GroupCounts {
  /** Category code or bin label; unique within one variable. */
  key: string;
  /** Readable label (the schema's English label for a code). */
  label: string;
  good: number;
  bad: number;
}

/** A group with its size and bad rate. */
export interface GroupBadRate extends GroupCounts {
  count: number;
  /** bad / count; 0 for an empty group. */
  badRate: number;
}

/** Adds size and bad rate to group counts. */
export function withBadRates(groups: readonly GroupCounts[]): GroupBadRate[] {
  return groups.map((g) => {
    const count = g.good + g.bad;
    return { ...g, count, badRate: count === 0 ? 0 : g.bad / count };
  });
}

/** Number of bad rows (label 1). */
export function countBad(bad: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < bad.length; i++) n += bad[i] === 1 ? 1 : 0;
  return n;
}

/** Good/bad counts per code of a categorical attribute, in schema order; codes never seen get zeros. */
export function countsByCategory(
  attribute: CategoricalAttribute,
  codes: readonly string[],
  bad: ArrayLike<number>,
): GroupCounts[] {
  sameLength(codes, bad);
  const index = new Map(attribute.codes.map((c, i) => [c.code, i]));
  const groups = attribute.codes.map((c) => ({ key: c.code, label: c.label.en, good: 0, bad: 0 }));
  for (let i = 0; i < codes.length; i++) {
    const at = index.get(codes[i]);
    if (at === undefined) throw new RangeError(`${attribute.name}: unknown code ${JSON.stringify(codes[i])}`);
    if (bad[i] === 1) groups[at].bad++;
    else groups[at].good++;
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// Binning numeric variables

/** How a numeric variable is cut into bins. */
export interface NumericBinning {
  /** Inclusive upper edge of every bin but the last: bin k holds `edges[k-1] < v <= edges[k]`. */
  readonly edges: readonly number[];
  /** One label per bin: its observed range for whole numbers ("13–18"), else its edges ("≤ 80.2"). */
  readonly labels: readonly string[];
  /** "value" when each distinct value is its own bin, "quantile" when cut at quantiles. */
  readonly method: "value" | "quantile";
}

/** Options of {@link numericBinning}. */
export interface BinningOptions {
  /** At most this many quantile bins. Default 5 (quintiles). */
  quantiles?: number;
  /** Variables with at most this many distinct values get one bin per value. Default 6. */
  maxDistinct?: number;
  /** Formats a value in a label. Default: integers as they are, others to 3 significant digits. */
  format?: (value: number) => string;
}

/** Formats a number for a bin label: integers plainly, others to three significant digits. */
export function formatBinValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

/**
 * Bins for a numeric variable: one per value when it has few distinct values (banded attributes
 * such as the instalment rate), else up to `quantiles` bins cut at the data's quantiles. Edges are
 * observed values, so tied values never straddle two bins.
 */
export function numericBinning(values: ArrayLike<number>, options: BinningOptions = {}): NumericBinning {
  const { quantiles = 5, maxDistinct = 6, format = formatBinValue } = options;
  if (!Number.isInteger(quantiles) || quantiles < 1) {
    throw new RangeError(`quantiles must be a positive integer, got ${quantiles}`);
  }
  if (values.length === 0) throw new RangeError("numericBinning needs at least one value");
  const sorted = Float64Array.from(values).sort();
  if (!sorted.every(Number.isFinite)) throw new RangeError("numericBinning needs finite values");
  const distinct = [...new Set(sorted)];
  let edges: number[];
  let method: NumericBinning["method"];
  if (distinct.length <= maxDistinct) {
    edges = distinct.slice(0, -1);
    method = "value";
  } else {
    const cuts = new Set<number>();
    for (let k = 1; k < quantiles; k++) {
      const cut = sorted[Math.ceil((k * sorted.length) / quantiles) - 1];
      if (cut < sorted[sorted.length - 1]) cuts.add(cut);
    }
    edges = [...cuts].sort((a, b) => a - b);
    method = "quantile";
  }
  const lows = new Array<number>(edges.length + 1).fill(Infinity);
  const highs = new Array<number>(edges.length + 1).fill(-Infinity);
  for (const v of sorted) {
    const bin = binIndex(edges, v);
    lows[bin] = Math.min(lows[bin], v);
    highs[bin] = Math.max(highs[bin], v);
  }
  const labels = sorted.every(Number.isInteger)
    ? lows.map((low, i) => low === highs[i] ? format(low) : `${format(low)}–${format(highs[i])}`)
    : lows.map((_, i) =>
      edges.length === 0
        ? `${format(lows[0])}–${format(highs[0])}`
        : i === 0
        ? `≤ ${format(edges[0])}`
        : i === edges.length
        ? `> ${format(edges[i - 1])}`
        : `${format(edges[i - 1])} < x ≤ ${format(edges[i])}`
    );
  return { edges, labels, method };
}

/** The bin a value falls in: the number of edges strictly below it. */
export function binIndex(edges: readonly number[], value: number): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Good/bad counts per bin of a numeric variable. */
export function countsByBin(
  values: ArrayLike<number>,
  bad: ArrayLike<number>,
  binning: NumericBinning,
): GroupCounts[] {
  sameLength(values, bad);
  const groups = binning.labels.map((label) => ({ key: label, label, good: 0, bad: 0 }));
  for (let i = 0; i < values.length; i++) {
    const g = groups[binIndex(binning.edges, values[i])];
    if (bad[i] === 1) g.bad++;
    else g.good++;
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// Weight of evidence and information value

/** Pseudo-count added to each bin's good and bad counts when a bin lacks one class. */
export const WOE_SMOOTHING = 0.5;

/** One row of a weight-of-evidence table. */
export interface WoeBin extends GroupBadRate {
  /** Share of all good applicants in this bin. */
  distGood: number;
  /** Share of all bad applicants in this bin. */
  distBad: number;
  /** ln(distGood / distBad): positive for lower-risk bins. */
  woe: number;
  /** (distGood − distBad) · WoE, this bin's part of the information value. */
  iv: number;
}

/** A variable's weight-of-evidence table and its information value. */
export interface WoeTable {
  bins: WoeBin[];
  iv: number;
  /** Whether the smoothing constant was applied (some bin had no good or no bad applicant). */
  smoothed: boolean;
  smoothing: number;
}

/**
 * Weight of evidence `ln(%good / %bad)` per group and information value `Σ (%good − %bad)·WoE`.
 * Empty groups are dropped; when a remaining group has no good or no bad applicant, `smoothing`
 * is added to every group's good and bad counts (and to the totals accordingly), keeping the log finite.
 */
export function weightOfEvidence(groups: readonly GroupCounts[], smoothing = WOE_SMOOTHING): WoeTable {
  if (!(smoothing > 0) || !Number.isFinite(smoothing)) {
    throw new RangeError(`smoothing must be a positive number, got ${smoothing}`);
  }
  const present = groups.filter((g) => g.good + g.bad > 0);
  const totalGood = present.reduce((s, g) => s + g.good, 0);
  const totalBad = present.reduce((s, g) => s + g.bad, 0);
  if (totalGood === 0 || totalBad === 0) {
    throw new RangeError(`weightOfEvidence needs both classes, got ${totalGood} good and ${totalBad} bad`);
  }
  const smoothed = present.some((g) => g.good === 0 || g.bad === 0);
  const a = smoothed ? smoothing : 0;
  const k = present.length;
  const bins = withBadRates(present).map((g) => {
    const distGood = (g.good + a) / (totalGood + k * a);
    const distBad = (g.bad + a) / (totalBad + k * a);
    const woe = Math.log(distGood / distBad);
    return { ...g, distGood, distBad, woe, iv: (distGood - distBad) * woe };
  });
  return { bins, iv: bins.reduce((s, b) => s + b.iv, 0), smoothed, smoothing };
}

/** Conventional strength of a predictor by its information value. */
export type IvStrength = "useless" | "weak" | "medium" | "strong";

/** The usual IV bands: below 0.02 useless, to 0.1 weak, to 0.3 medium, above strong. */
export const IV_BANDS: readonly { readonly below: number; readonly strength: IvStrength }[] = [
  { below: 0.02, strength: "useless" },
  { below: 0.1, strength: "weak" },
  { below: 0.3, strength: "medium" },
  { below: Infinity, strength: "strong" },
];

/** The strength band an information value falls in. */
export function ivStrength(iv: number): IvStrength {
  return IV_BANDS.find((band) => iv < band.below)!.strength;
}

/** The information value of one variable, ready to rank. */
export interface VariableIv {
  name: string;
  label: string;
  /** "nominal", "ordered", "numeric" for attributes; "engineered" for engineered features. */
  kind: string;
  /** How groups were formed: "category", "value" or "quantile". */
  grouping: string;
  iv: number;
  strength: IvStrength;
  table: WoeTable;
}

/** WoE table and IV of every attribute: categoricals by code, numerics binned by {@link numericBinning}. */
export function attributeInformationValues(
  frame: pl.DataFrame,
  bad: ArrayLike<number>,
  options: BinningOptions = {},
): VariableIv[] {
  return ATTRIBUTES.map((a) => {
    const column = frame.getColumn(a.name).toArray();
    const { groups, grouping } = isCategorical(a)
      ? { groups: countsByCategory(a, column as string[], bad), grouping: "category" }
      : numericGroups(column as number[], bad, options);
    return variableIv(a.name, a.label.en, a.kind, grouping, groups);
  });
}

/** WoE table and IV of each engineered feature, computed with its polars expression. */
export function engineeredInformationValues(
  frame: pl.DataFrame,
  bad: ArrayLike<number>,
  options: BinningOptions = {},
): VariableIv[] {
  const values = engineeredFeatureValues(frame);
  return ENGINEERED_FEATURES.map((f) => {
    const { groups, grouping } = numericGroups(values[f.name], bad, options);
    return variableIv(f.name, f.name, "engineered", grouping, groups);
  });
}

/** The engineered features' values for every row, by feature name. */
export function engineeredFeatureValues(frame: pl.DataFrame): Record<string, Float64Array> {
  const computed = frame.select(...ENGINEERED_FEATURES.map((f) => f.expression().alias(f.name)));
  return Object.fromEntries(
    ENGINEERED_FEATURES.map((
      f,
    ) => [f.name, Float64Array.from(computed.getColumn(f.name).toArray() as number[])]),
  );
}

/** Sorts by information value, strongest first (ties by name). */
export function rankByIv<T extends { name: string; iv: number }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => b.iv - a.iv || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function numericGroups(values: ArrayLike<number>, bad: ArrayLike<number>, options: BinningOptions) {
  const binning = numericBinning(values, options);
  return { groups: countsByBin(values, bad, binning), grouping: binning.method };
}

function variableIv(
  name: string,
  label: string,
  kind: string,
  grouping: string,
  groups: GroupCounts[],
): VariableIv {
  const table = weightOfEvidence(groups);
  return { name, label, kind, grouping, iv: table.iv, strength: ivStrength(table.iv), table };
}

// ---------------------------------------------------------------------------------------------
// Associations

/** A two-way table of counts: `counts[r][c]` rows with level `rows[r]` of x and `cols[c]` of y. */
export interface ContingencyTable {
  rows: string[];
  cols: string[];
  counts: number[][];
}

/** Cross-tabulates two categorical variables; levels appear in first-seen order. */
export function contingencyTable(x: ArrayLike<string>, y: ArrayLike<string>): ContingencyTable {
  sameLength(x, y);
  const rowIndex = new Map<string, number>();
  const colIndex = new Map<string, number>();
  const cells: [number, number][] = [];
  for (let i = 0; i < x.length; i++) {
    if (!rowIndex.has(x[i])) rowIndex.set(x[i], rowIndex.size);
    if (!colIndex.has(y[i])) colIndex.set(y[i], colIndex.size);
    cells.push([rowIndex.get(x[i])!, colIndex.get(y[i])!]);
  }
  const counts = Array.from({ length: rowIndex.size }, () => new Array<number>(colIndex.size).fill(0));
  for (const [r, c] of cells) counts[r][c]++;
  return { rows: [...rowIndex.keys()], cols: [...colIndex.keys()], counts };
}

/** Pearson's χ² statistic of independence for a table of counts; empty rows and columns are ignored. */
export function chiSquared(counts: readonly (readonly number[])[]): number {
  const rowSums = counts.map((row) => row.reduce((s, v) => s + v, 0));
  const colSums = counts[0]?.map((_, c) => counts.reduce((s, row) => s + row[c], 0)) ?? [];
  const n = rowSums.reduce((s, v) => s + v, 0);
  let chi2 = 0;
  for (let r = 0; r < counts.length; r++) {
    for (let c = 0; c < colSums.length; c++) {
      const expected = (rowSums[r] * colSums[c]) / n;
      if (expected > 0) chi2 += (counts[r][c] - expected) ** 2 / expected;
    }
  }
  return chi2;
}

/**
 * Cramér's V, `sqrt(χ² / (n · (min(r, c) − 1)))` over the non-empty rows and columns, without bias
 * correction: 0 for independence, 1 when one variable determines the other; 0 if either has one level.
 */
export function cramersV(counts: readonly (readonly number[])[]): number {
  const rows = counts.filter((row) => row.some((v) => v > 0));
  const keep = (rows[0] ?? []).map((_, c) => rows.some((row) => row[c] > 0));
  const trimmed = rows.map((row) => row.filter((_, c) => keep[c]));
  const r = trimmed.length;
  const c = trimmed[0]?.length ?? 0;
  if (r < 2 || c < 2) return 0;
  const n = trimmed.reduce((s, row) => s + row.reduce((t, v) => t + v, 0), 0);
  return Math.sqrt(chiSquared(trimmed) / (n * (Math.min(r, c) - 1)));
}

/** A cell of a square association matrix, shaped for `heatmapSpec`. */
export interface MatrixCell {
  x: string;
  y: string;
  value: number;
}

/** Cramér's V of every pair of named categorical columns (the diagonal is 1). */
export function cramersVMatrix(
  columns: readonly { name: string; values: ArrayLike<string> }[],
): MatrixCell[] {
  return pairwise(columns, (a, b) => cramersV(contingencyTable(a, b).counts));
}

/** Pearson's correlation coefficient; 0 when either variable is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b);
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/** Ranks from 1, ties sharing their average rank. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((i, j) => values[i] - values[j]);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    for (let k = start; k < end; k++) ranks[order[k]] = (start + 1 + end) / 2;
    start = end;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson's on average ranks. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(averageRanks(a), averageRanks(b));
}

/** Correlation (Pearson's by default) of every pair of named numeric columns. */
export function correlationMatrix(
  columns: readonly { name: string; values: ArrayLike<number> }[],
  method: "pearson" | "spearman" = "pearson",
): MatrixCell[] {
  return pairwise(columns, method === "pearson" ? pearson : spearman);
}

function pairwise<T>(
  columns: readonly { name: string; values: T }[],
  measure: (a: T, b: T) => number,
): MatrixCell[] {
  const cells: MatrixCell[] = [];
  for (const row of columns) {
    for (const col of columns) {
      cells.push({ x: col.name, y: row.name, value: row === col ? 1 : measure(row.values, col.values) });
    }
  }
  return cells;
}

// ---------------------------------------------------------------------------------------------
// Data quality and distributions

/** Quality of one attribute against the schema. */
export interface AttributeQuality {
  name: string;
  label: string;
  kind: Attribute["kind"];
  dtype: string;
  missing: number;
  distinct: number;
  /** Observed range ("4–72") or the codes seen ("4 of 5 codes"). */
  observed: string;
  /** What the schema accepts ("1–120 months") or how many codes it defines. */
  accepted: string;
  /** Whether every value lies in the schema's range or code list. */
  withinSchema: boolean;
  /** Schema codes that never occur in the data. */
  unusedCodes: string[];
}

/** Row count, duplicate rows and per-attribute quality checks of a loaded table. */
export interface QualityReport {
  rows: number;
  columns: number;
  duplicateRows: number;
  missingValues: number;
  attributes: AttributeQuality[];
}

/** Checks types, missing values, distinct values, ranges and codes against the schema, and duplicate rows. */
export function qualityReport(frame: pl.DataFrame): QualityReport {
  const attributes = ATTRIBUTES.map((a): AttributeQuality => {
    const series = frame.getColumn(a.name);
    const values = series.toArray() as (string | number | null)[];
    const present = values.filter((v) => v !== null);
    const distinct = new Set(present);
    const base = {
      name: a.name,
      label: a.label.en,
      kind: a.kind,
      dtype: String(series.dtype).replace(/^DataType\((.*)\)$/, "$1"),
      missing: values.length - present.length,
      distinct: distinct.size,
    };
    if (isCategorical(a)) {
      const codes = a.codes.map((c) => c.code);
      const unusedCodes = codes.filter((c) => !distinct.has(c));
      return {
        ...base,
        observed: `${codes.length - unusedCodes.length} of ${codes.length} codes`,
        accepted: `${codes.length} codes`,
        withinSchema: present.every((v) => codes.includes(v as string)),
        unusedCodes,
      };
    }
    const numbers = present as number[];
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    return {
      ...base,
      observed: `${min}–${max}`,
      accepted: `${a.min}–${a.max} ${a.unit.en}`,
      withinSchema: numbers.every((v) => Number.isInteger(v) && v >= a.min && v <= a.max),
      unusedCodes: [],
    };
  });
  const keys = new Set<string>();
  let duplicateRows = 0;
  const records = frame.select(...ATTRIBUTES.map((a) => a.name)).rows();
  for (const record of records) {
    const key = JSON.stringify(record);
    if (keys.has(key)) duplicateRows++;
    keys.add(key);
  }
  return {
    rows: frame.height,
    columns: frame.width,
    duplicateRows,
    missingValues: attributes.reduce((s, a) => s + a.missing, 0),
    attributes,
  };
}

/** Summary statistics of a numeric variable within one class (or all rows). */
export interface NumericSummary {
  group: "good" | "bad" | "all";
  n: number;
  mean: number;
  sd: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/** Quantile by linear interpolation between order statistics (R-7, as numpy and vega compute it). */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  return lo + 1 < sorted.length ? sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

/** Mean and sample standard deviation (0 for fewer than two values). */
export function meanAndSd(values: ArrayLike<number>): { mean: number; sd: number } {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
  return { mean, sd: n > 1 ? Math.sqrt(squares / (n - 1)) : 0 };
}

/** Count, mean, sample sd, min, quartiles and max of a numeric variable for good, bad and all rows. */
export function numericSummaryByClass(values: ArrayLike<number>, bad: ArrayLike<number>): NumericSummary[] {
  sameLength(values, bad);
  const groups = { good: [] as number[], bad: [] as number[], all: [] as number[] };
  for (let i = 0; i < values.length; i++) {
    groups[bad[i] === 1 ? "bad" : "good"].push(values[i]);
    groups.all.push(values[i]);
  }
  return (["good", "bad", "all"] as const).map((group) => {
    const sorted = Float64Array.from(groups[group]).sort();
    const n = sorted.length;
    const mean = sorted.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
    return {
      group,
      n,
      mean,
      sd,
      min: sorted[0],
      q1: quantile(sorted, 0.25),
      median: quantile(sorted, 0.5),
      q3: quantile(sorted, 0.75),
      max: sorted[n - 1],
    };
  });
}

/** Difference of the class means in units of the overall sample sd: `(mean bad − mean good) / sd`. */
export function standardisedMeanDifference(values: ArrayLike<number>, bad: ArrayLike<number>): number {
  const [good, badSummary, all] = numericSummaryByClass(values, bad);
  return all.sd === 0 ? 0 : (badSummary.mean - good.mean) / all.sd;
}

/** The riskiest and the safest group by bad rate among groups of at least `minCount` applicants. */
export function extremeGroups(
  groups: readonly GroupBadRate[],
  minCount = 20,
): { riskiest: GroupBadRate; safest: GroupBadRate } | null {
  const large = groups.filter((g) => g.count >= minCount);
  if (large.length < 2) return null;
  const byRate = [...large].sort((a, b) => b.badRate - a.badRate || b.count - a.count);
  return { riskiest: byRate[0], safest: byRate[byRate.length - 1] };
}

/** Pairs each value with its class name, the input of the by-class distribution charts. */
export function classValues(
  values: ArrayLike<number>,
  bad: ArrayLike<number>,
): { value: number; label: "good" | "bad" }[] {
  sameLength(values, bad);
  return Array.from({ length: values.length }, (_, i) => ({
    value: values[i],
    label: bad[i] === 1 ? "bad" as const : "good" as const,
  }));
}

// ---------------------------------------------------------------------------------------------
// Costs and calibration

/**
 * The Bayes-optimal threshold on a calibrated P(bad): declining costs `falsePositive·(1 − p)`,
 * approving costs `falseNegative·p`, so decline when `p > falsePositive / (falsePositive + falseNegative)`.
 */
export function bayesThreshold(costs: Costs = DEFAULT_COSTS): number {
  return costs.falsePositive / (costs.falsePositive + costs.falseNegative);
}

/** Each row's score is the bad rate of its group (e.g. its category): an in-sample, calibrated-by-construction score. */
export function groupBadRateScores(keys: ArrayLike<string>, bad: ArrayLike<number>): Float64Array {
  sameLength(keys, bad);
  const tally = new Map<string, { bad: number; count: number }>();
  for (let i = 0; i < keys.length; i++) {
    const t = tally.get(keys[i]) ?? { bad: 0, count: 0 };
    t.bad += bad[i] === 1 ? 1 : 0;
    t.count++;
    tally.set(keys[i], t);
  }
  return Float64Array.from({ length: keys.length }, (_, i) => {
    const t = tally.get(keys[i])!;
    return t.bad / t.count;
  });
}

/** Expected cost per applicant of the two trivial policies: approve everyone, decline everyone. */
export function trivialPolicyCosts(
  bad: ArrayLike<number>,
  costs: Costs = DEFAULT_COSTS,
): { approveAll: number; declineAll: number } {
  const scores = new Float64Array(bad.length);
  return {
    approveAll: expectedCost(bad, scores, Infinity, costs),
    declineAll: expectedCost(bad, scores, 0, costs),
  };
}

/**
 * The exact expected cost of every threshold in `range`, as points for a line chart. A sweep holds one
 * point per distinct score; any threshold between two consecutive scores classifies like the upper
 * one, so the curve is a staircase, which a line through the sweep's points alone would not show.
 */
export function costStaircase(
  sweep: readonly { threshold: number; cost: number }[],
  range: readonly [number, number] = [0, 1],
): { threshold: number; cost: number }[] {
  const [low, high] = range;
  const finite = sweep.filter((p) => Number.isFinite(p.threshold)).sort((a, b) => a.threshold - b.threshold);
  const beyond = sweep.find((p) => p.threshold === Infinity);
  const points: { threshold: number; cost: number }[] = [];
  let previous = low;
  for (const p of finite) {
    if (p.threshold < low || p.threshold > high) continue;
    points.push({ threshold: previous, cost: p.cost }, { threshold: p.threshold, cost: p.cost });
    previous = p.threshold;
  }
  if (beyond) points.push({ threshold: previous, cost: beyond.cost }, { threshold: high, cost: beyond.cost });
  return points;
}

/**
 * Standard error of the expected cost per applicant at `threshold`: the sample sd of the per-row
 * costs (0, `falsePositive` or `falseNegative`) over √n. A rough yardstick for how far a cost
 * measured on a small test part could move on another sample.
 */
export function expectedCostStandardError(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  costs: Costs = DEFAULT_COSTS,
): number {
  sameLength(labels, scores);
  const n = labels.length;
  const rowCost = (i: number) =>
    scores[i] >= threshold
      ? (labels[i] === 1 ? 0 : costs.falsePositive)
      : (labels[i] === 1 ? costs.falseNegative : 0);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += rowCost(i) / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (rowCost(i) - mean) ** 2;
  return Math.sqrt(squares / (n - 1)) / Math.sqrt(n);
}

// ---------------------------------------------------------------------------------------------
// Reading a run for the model report

/** One trial of `trials.csv`: its outcome and the hyperparameters it tried. */
export interface TrialRow {
  number: number;
  state: string;
  value: number | null;
  durationMs: number | null;
  params: Record<string, number | string>;
}

/** A point of a threshold sweep as stored in `curves.json` (null thresholds restored to Infinity). */
export interface StoredSweepPoint {
  threshold: number;
  cost: number;
  recall_bad: number;
  specificity: number;
  accuracy: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** The curves of `curves.json`. */
export interface RunCurves {
  roc: { threshold: number; fpr: number; tpr: number }[];
  pr: { threshold: number; precision: number; recall: number }[];
  threshold_sweep: StoredSweepPoint[];
  cv_threshold_sweep?: StoredSweepPoint[];
}

/** A run with its parsed artifacts. */
export interface RunArtifacts {
  run: RunRecord;
  trials: TrialRow[];
  predictions: { row: number; label: number; probability: number }[];
  curves: RunCurves;
  featureImportances: { name: string; importance: number }[];
}

export { parseCsv };

/** Columns of `trials.csv` that describe the trial rather than a hyperparameter. */
const TRIAL_COLUMNS = new Set(["number", "state", "value", "duration_ms", "error"]);

/**
 * Trials from `trials.csv` text. A hyperparameter column whose every non-empty value is numeric
 * becomes numbers; any other stays text (e.g. `maxFeatures` mixing "sqrt" and 0.35). Empty cells
 * mean the trial did not ask for that hyperparameter and are left out of its params.
 */
export function parseTrials(text: string): TrialRow[] {
  const records = parseCsv(text);
  const columns = Object.keys(records[0] ?? {}).filter((c) => !TRIAL_COLUMNS.has(c));
  const numeric = new Set(
    columns.filter((c) => records.every((r) => r[c] === "" || Number.isFinite(Number(r[c])))),
  );
  const number = (s: string | undefined) => (s === undefined || s === "" ? null : Number(s));
  return records.map((r) => ({
    number: Number(r.number),
    state: r.state,
    value: number(r.value),
    durationMs: number(r.duration_ms),
    params: Object.fromEntries(
      columns.filter((c) => r[c] !== "").map((c) => [c, numeric.has(c) ? Number(r[c]) : r[c]]),
    ),
  }));
}

/** Restores the `Infinity` thresholds that JSON stored as null. */
function restoreInfinity<T extends { threshold: number | null }>(points: T[]): (T & { threshold: number })[] {
  return points.map((p) => ({ ...p, threshold: p.threshold ?? Infinity }));
}

/** Reads a run's record and artifacts from `<modelsDir>/runs/<runId>/`. */
export async function readRunArtifacts(runId: string, modelsDir = DEFAULT_MODELS_DIR): Promise<RunArtifacts> {
  const run = await readRun(runId, modelsDir);
  if (!run) throw new Error(`run ${runId} not found under ${modelsDir}/runs`);
  const dir = `${modelsDir}/runs/${runId}`;
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  const curves = JSON.parse(await read("curves.json"));
  return {
    run,
    trials: parseTrials(await read("trials.csv")),
    predictions: parseCsv(await read("predictions.csv")).map((r) => ({
      row: Number(r.row),
      label: Number(r.label),
      probability: Number(r.probability),
    })),
    curves: {
      roc: restoreInfinity(curves.roc),
      pr: restoreInfinity(curves.pr),
      threshold_sweep: restoreInfinity(curves.threshold_sweep),
      ...(curves.cv_threshold_sweep
        ? { cv_threshold_sweep: restoreInfinity(curves.cv_threshold_sweep) }
        : {}),
    },
    featureImportances: JSON.parse(await read("feature_importances.json")),
  };
}

/** The production model's registry entry with its run's artifacts. */
export interface ProductionRun extends RunArtifacts {
  version: ModelVersion;
}

/** The production model's registry entry and its run's artifacts; throws when nothing is in production. */
export async function readProductionRun(modelsDir = DEFAULT_MODELS_DIR): Promise<ProductionRun> {
  const version = productionModel(await readRegistry(modelsDir));
  if (!version) throw new Error(`no production model in ${modelsDir}/registry.json; run deno task train`);
  return { version, ...(await readRunArtifacts(version.run_id, modelsDir)) };
}

/** How one hyperparameter relates to the objective across completed trials. */
export interface HyperparameterEffect {
  name: string;
  /** Number of completed trials that asked for it. */
  trials: number;
  /** Spearman correlation with the objective for numeric ones, else null. */
  spearman: number | null;
  /** Mean objective per level for text (and two-valued) ones, best level first. */
  levels: { level: string; trials: number; mean: number }[];
  /** The best completed trial's value of it. */
  best: number | string | null;
}

/** Per hyperparameter: rank correlation with the objective (numeric) or mean objective per level. */
export function hyperparameterEffects(
  trials: readonly TrialRow[],
  direction: "minimize" | "maximize",
): HyperparameterEffect[] {
  const complete = trials.filter((t) => t.state.toLowerCase() === "complete" && t.value !== null);
  const sign = direction === "minimize" ? 1 : -1;
  const best = [...complete].sort((a, b) => sign * (a.value! - b.value!) || a.number - b.number)[0];
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  return names.map((name) => {
    const asked = complete.filter((t) => name in t.params);
    const values = asked.map((t) => t.params[name]);
    const isNumeric = values.every((v) => typeof v === "number");
    const distinct = new Set(values.map(String));
    const levels = isNumeric && distinct.size > 2 ? [] : [...distinct].map((level) => {
      const at = asked.filter((t) => String(t.params[name]) === level);
      return { level, trials: at.length, mean: at.reduce((s, t) => s + t.value!, 0) / at.length };
    }).sort((a, b) => sign * (a.mean - b.mean) || (a.level < b.level ? -1 : 1));
    return {
      name,
      trials: asked.length,
      spearman: isNumeric && distinct.size > 1
        ? spearman(values as number[], asked.map((t) => t.value!))
        : null,
      levels,
      best: best && name in best.params ? best.params[name] : null,
    };
  });
}

/** Sums feature importances per source: one-hot columns ("purpose=A40") add up to their attribute. */
export function importanceByAttribute(
  items: readonly { name: string; importance: number }[],
): { name: string; importance: number }[] {
  const sums = new Map<string, number>();
  for (const { name, importance } of items) {
    const source = name.split("=")[0];
    sums.set(source, (sums.get(source) ?? 0) + importance);
  }
  return [...sums].map(([name, importance]) => ({ name, importance }))
    .sort((a, b) => b.importance - a.importance || (a.name < b.name ? -1 : 1));
}

/** Readable names of the metrics `metricsReport` logs, in the order a report lists them. */
export const METRIC_LABELS: Readonly<Record<string, string>> = {
  roc_auc: "ROC AUC",
  pr_auc: "PR AUC (average precision)",
  gini: "Gini (2·AUC − 1)",
  ks: "KS statistic",
  brier: "Brier score",
  recall_bad: "recall of bad (sensitivity)",
  specificity: "specificity (good approved)",
  precision: "precision of a decline",
  accuracy: "accuracy",
  balanced_accuracy: "balanced accuracy",
  f1: "F1",
  f2: "F2",
  cost: "expected cost per applicant",
  threshold: "decision threshold on P(bad)",
};

/** A one-hot feature name ("checking_status=A14") or attribute name as readable English. */
export function featureLabel(name: string): string {
  const [attributeName, code] = name.split("=");
  const a = ATTRIBUTES.find((x) => x.name === attributeName);
  if (!a) return name;
  if (code === undefined) return a.label.en;
  return `${a.label.en}: ${codeLabel(a.name, code) ?? code}`;
}

// ---------------------------------------------------------------------------------------------
// Display helpers

/** A column of {@link htmlTable}: a header and how to read the cell from a row. */
export interface HtmlColumn<T> {
  header: string;
  cell: (row: T) => string | number | null | undefined;
  /** Right-aligned by default for numbers, left for text. */
  align?: "left" | "right";
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/** A plain HTML table (escaped text, numbers right-aligned), optionally captioned. */
export function htmlTable<T>(
  rows: readonly T[],
  columns: readonly HtmlColumn<T>[],
  options: { caption?: string } = {},
): string {
  const cells = rows.map((row) => columns.map((c) => c.cell(row)));
  const alignOf = columns.map((c, j) =>
    c.align ??
      (cells.length > 0 && cells.every((r) => typeof r[j] === "number" || r[j] == null) ? "right" : "left")
  );
  const style = (j: number) => ` style="text-align:${alignOf[j]}"`;
  const text = (v: string | number | null | undefined) => escapeHtml(v == null ? "" : String(v));
  return [
    "<table>",
    ...(options.caption ? [`<caption>${escapeHtml(options.caption)}</caption>`] : []),
    `<thead><tr>${
      columns.map((c, j) => `<th${style(j)}>${escapeHtml(c.header)}</th>`).join("")
    }</tr></thead>`,
    "<tbody>",
    ...cells.map((r) => `<tr>${r.map((v, j) => `<td${style(j)}>${text(v)}</td>`).join("")}</tr>`),
    "</tbody>",
    "</table>",
  ].join("\n");
}

/** A value a Deno Jupyter cell displays as the given MIME bundle. */
export type Displayable = { [display: symbol]: () => Record<string, string> };

/** Wraps HTML so a Deno Jupyter cell displays it as `text/html` (with a plain-text fallback). */
export function jupyterHtml(html: string, plain = "(HTML table)"): Displayable {
  return { [Symbol.for("Jupyter.display")]: () => ({ "text/html": html, "text/plain": plain }) };
}

/** Wraps Markdown so a Deno Jupyter cell displays it as `text/markdown`. */
export function jupyterMarkdown(markdown: string): Displayable {
  return { [Symbol.for("Jupyter.display")]: () => ({ "text/markdown": markdown, "text/plain": markdown }) };
}

/** Milliseconds {@link show} waits after displaying, so the kernel has sent the outputs before the cell ends. */
export const DISPLAY_SETTLE_MS = 50;

/**
 * Displays each item in the running Deno Jupyter cell (anything `Deno.jupyter.display` accepts),
 * then waits {@link DISPLAY_SETTLE_MS}. The Deno 2.9 kernel forwards outputs to Jupyter on a
 * separate queue and can report a cell finished before they are sent, which headless clients such
 * as nbconvert then drop; the value of a cell's last expression is sent even later. So cells end in
 * `await show(...)`, never in a bare expression.
 */
export async function show(...items: unknown[]): Promise<void> {
  const jupyter = (Deno as unknown as { jupyter?: { display: (item: unknown) => Promise<void> } }).jupyter;
  if (!jupyter) throw new Error("show() needs the Deno Jupyter kernel (deno jupyter)");
  for (const item of items) await jupyter.display(item);
  await new Promise((resolve) => setTimeout(resolve, DISPLAY_SETTLE_MS));
}

/** A rate as a percentage with `digits` decimals ("30.0 %"). */
export function percent(value: number, digits = 1): string {
  return `${(100 * value).toFixed(digits)} %`;
}

/** A number with `digits` decimals. */
export function fixed(value: number, digits = 3): string {
  return value.toFixed(digits);
}

function sameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
}
