/**
 * Population stability index (PSI): how far the applicants a model sees now have moved from the
 * ones it was trained on, per attribute and for the score, counted into the bins of a
 * {@link DriftReference}. For every bin, `PSI = Σ (actual − expected) · ln(actual / expected)`,
 * with proportions floored at {@link PSI_FLOOR} so an empty bin adds a large but finite term. The
 * usual bands: below 0.1 stable, 0.1 to 0.25 watch, above 0.25 act.
 * @module
 */

import { binIndex } from "../stats.ts";
import type { Bins, DriftReference, NumericBins } from "./reference.ts";

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

/** The band of a PSI value. */
export function psiBand(psi: number): DriftBand {
  return psi < PSI_LIMITS.watch ? "stable" : psi <= PSI_LIMITS.act ? "watch" : "act";
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
      counts[binIndex((this.reference.attributes[name] as NumericBins).edges, value)]++;
    }
  }

  /** Counts rows without values (for {@link addValue} callers). */
  addRows(n: number): void {
    this.#rows += n;
  }

  /** Counts one score (P(bad)). */
  addScore(probability: number): void {
    if (this.#scoreCounts) this.#scoreCounts[binIndex(this.reference.score!.edges, probability)]++;
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
