/**
 * Fairness figures with bootstrap 95 % intervals, for the groupings of `fairness.ts` (age under 25 vs
 * 25 and over; women, `personal_status` A92 or A95, vs men — A95 never occurs in the data): approval
 * rate per group, disparate impact, the share of good applicants declined per group and the
 * equal-opportunity difference, and calibration within each group (mean PD against the observed bad
 * rate). The groups are small (about 190 under 25, 310 women in 1,000): a figure without its interval
 * misleads.
 *
 * Method: percentile bootstrap, seeded. Within each grouping the protected and the reference group are
 * resampled separately (stratified: each resample keeps both group sizes), and an applicant is
 * resampled with all of its predictions (nested CV scores every row once per repeat), so repeated
 * predictions of one person are not counted as independent. The interval is the 2.5 and 97.5
 * percentiles of the resampled figures. A figure whose denominator is empty is `undefined`
 * (estimate and interval null, with the reason), never NaN.
 * @module
 */

import type { Applicant } from "../data/schema.ts";
import { Random } from "../random.ts";
import { quantile } from "../stats.ts";
import { FAIRNESS_GROUPINGS } from "./fairness.ts";

/** A figure, its 95 % interval, and why it is undefined when it is. */
export interface Interval {
  estimate: number | null;
  low: number | null;
  high: number | null;
  /** Set when the estimate or its interval is undefined: which denominator was empty. */
  undefined_reason?: string;
}

/** One group's figures. */
export interface GroupFigures {
  group: string;
  /** Applicants in the group, and predictions of them (more than applicants under repeated CV). */
  applicants: number;
  predictions: number;
  approval_rate: Interval;
  /** Share of good applicants declined (the false-decline rate of equal opportunity). */
  good_declined_rate: Interval;
  /** Mean served PD, observed bad rate, and PD minus bad rate (calibration in the large, within the group). */
  mean_pd: Interval | null;
  bad_rate: Interval;
  calibration_gap: Interval | null;
}

/** One grouping's comparison. */
export interface GroupingFigures {
  attribute: string;
  protected: GroupFigures;
  reference: GroupFigures;
  /** Protected approval rate over reference approval rate (four-fifths rule: ≥ 0.8). */
  disparate_impact: Interval;
  /** Protected minus reference approval rate among good applicants (0 is equal opportunity). */
  equal_opportunity_difference: Interval;
  note?: string;
}

/** The whole report, with its method stated. */
export interface FairnessIntervals {
  method: string;
  resamples: number;
  seed: number;
  level: number;
  groupings: GroupingFigures[];
}

/** Decisions (and optionally PDs) on labelled applicants; `applicant[j]` is prediction j's applicant index. */
export interface FairnessInput {
  applicants: readonly Pick<Applicant, "age" | "personal_status">[];
  /** Per applicant: 1 bad, 0 good. */
  labels: ArrayLike<number>;
  /** Per prediction. */
  applicant: ArrayLike<number>;
  declined: ArrayLike<boolean>;
  pd?: ArrayLike<number>;
}

/** Bootstrap settings. */
export interface IntervalOptions {
  resamples: number;
  seed: number;
}

/** 2,000 resamples, seed 20261128 (the protocol's seed). */
export const DEFAULT_INTERVAL_OPTIONS: IntervalOptions = { resamples: 2000, seed: 20261128 };

/** The method in one sentence, as reports state it. */
export function describeIntervalMethod(options: IntervalOptions): string {
  return `percentile bootstrap 95 % intervals, ${options.resamples} resamples, seed ${options.seed}; ` +
    `protected and reference groups resampled separately (sizes fixed), each applicant with all its predictions`;
}

// Per-applicant sufficient statistics: predictions, approvals, summed PD.
interface Stats {
  k: Float64Array;
  approved: Float64Array;
  pd: Float64Array;
  bad: Uint8Array;
}

// Totals over a (resampled) group.
interface Totals {
  n: number;
  approved: number;
  good: number;
  goodDeclined: number;
  bad: number;
  pd: number;
}

/** Fairness figures with bootstrap intervals; throws a RangeError on inconsistent input. */
export function fairnessIntervals(
  input: FairnessInput,
  options: IntervalOptions = DEFAULT_INTERVAL_OPTIONS,
): FairnessIntervals {
  const stats = applicantStats(input);
  if (!Number.isInteger(options.resamples) || options.resamples < 1) {
    throw new RangeError(`resamples must be a whole number ≥ 1, got ${options.resamples}`);
  }
  const withPd = input.pd !== undefined;
  const groupings = Object.values(FAIRNESS_GROUPINGS).map((g, gi): GroupingFigures => {
    const members = (want: boolean) => {
      const out: number[] = [];
      input.applicants.forEach((a, i) => {
        if (stats.k[i] > 0 && g.isProtected(a as Applicant) === want) out.push(i);
      });
      return Int32Array.from(out);
    };
    const protectedRows = members(true);
    const referenceRows = members(false);
    const point = [totals(stats, protectedRows), totals(stats, referenceRows)] as const;
    // One generator per grouping, so adding a grouping does not move the others' intervals.
    const rng = new Random(options.seed + gi);
    const replicates: [Totals, Totals][] = [];
    for (let b = 0; b < options.resamples; b++) {
      replicates.push([resampleTotals(stats, protectedRows, rng), resampleTotals(stats, referenceRows, rng)]);
    }
    const figure = (f: (t: readonly [Totals, Totals]) => number | string) =>
      interval(f(point), replicates.map(f));
    const group = (side: 0 | 1, name: string): GroupFigures => ({
      group: name,
      applicants: (side === 0 ? protectedRows : referenceRows).length,
      predictions: point[side].n,
      approval_rate: figure((t) => ratio(t[side].approved, t[side].n, `no applicants ${name}`)),
      good_declined_rate: figure((t) =>
        ratio(t[side].goodDeclined, t[side].good, `no good applicants ${name}`)
      ),
      mean_pd: withPd ? figure((t) => ratio(t[side].pd, t[side].n, `no applicants ${name}`)) : null,
      bad_rate: figure((t) => ratio(t[side].bad, t[side].n, `no applicants ${name}`)),
      calibration_gap: withPd
        ? figure((t) =>
          difference(
            ratio(t[side].pd, t[side].n, `no applicants ${name}`),
            ratio(t[side].bad, t[side].n, `no applicants ${name}`),
          )
        )
        : null,
    });
    const approval = (t: readonly [Totals, Totals], side: 0 | 1) =>
      ratio(t[side].approved, t[side].n, `no applicants ${side === 0 ? g.protected : g.reference}`);
    const goodApproval = (t: readonly [Totals, Totals], side: 0 | 1) => {
      const r = ratio(
        t[side].goodDeclined,
        t[side].good,
        `no good applicants ${side === 0 ? g.protected : g.reference}`,
      );
      return typeof r === "string" ? r : 1 - r;
    };
    return {
      attribute: g.label,
      protected: group(0, g.protected),
      reference: group(1, g.reference),
      disparate_impact: figure((t) => {
        const p = approval(t, 0);
        const r = approval(t, 1);
        if (typeof p === "string") return p;
        if (typeof r === "string") return r;
        return r === 0 ? `no ${g.reference} applicant approved` : p / r;
      }),
      equal_opportunity_difference: figure((t) => difference(goodApproval(t, 0), goodApproval(t, 1))),
      ...(gi === 1
        ? { note: "women are personal_status A92 or A95; A95 (single women) never occurs in the data" }
        : {}),
    };
  });
  return {
    method: describeIntervalMethod(options),
    resamples: options.resamples,
    seed: options.seed,
    level: 0.95,
    groupings,
  };
}

/** Fairness intervals of one decision per applicant (a test split, or out-of-fold decisions). */
export function fairnessIntervalsOfDecisions(
  applicants: readonly Pick<Applicant, "age" | "personal_status">[],
  labels: ArrayLike<number>,
  declined: ArrayLike<boolean>,
  pd?: ArrayLike<number>,
  options: IntervalOptions = DEFAULT_INTERVAL_OPTIONS,
): FairnessIntervals {
  return fairnessIntervals({
    applicants,
    labels,
    applicant: Array.from({ length: applicants.length }, (_, i) => i),
    declined,
    pd,
  }, options);
}

function applicantStats(input: FairnessInput): Stats {
  const n = input.applicants.length;
  if (input.labels.length !== n) throw new RangeError(`${n} applicants but ${input.labels.length} labels`);
  const m = input.applicant.length;
  if (input.declined.length !== m) {
    throw new RangeError(`${m} predictions but ${input.declined.length} decisions`);
  }
  if (input.pd && input.pd.length !== m) throw new RangeError(`${m} predictions but ${input.pd.length} PDs`);
  const stats: Stats = {
    k: new Float64Array(n),
    approved: new Float64Array(n),
    pd: new Float64Array(n),
    bad: new Uint8Array(n),
  };
  for (let i = 0; i < n; i++) {
    const label = input.labels[i];
    if (label !== 0 && label !== 1) throw new RangeError(`label of applicant ${i} is ${label}, not 0 or 1`);
    stats.bad[i] = label;
  }
  for (let j = 0; j < m; j++) {
    const i = input.applicant[j];
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`prediction ${j} names applicant ${i}`);
    stats.k[i]++;
    if (!input.declined[j]) stats.approved[i]++;
    if (input.pd) {
      const p = input.pd[j];
      if (!(p >= 0 && p <= 1)) throw new RangeError(`PD of prediction ${j} is ${p}, not in [0, 1]`);
      stats.pd[i] += p;
    }
  }
  return stats;
}

function emptyTotals(): Totals {
  return { n: 0, approved: 0, good: 0, goodDeclined: 0, bad: 0, pd: 0 };
}

function add(t: Totals, s: Stats, i: number): void {
  t.n += s.k[i];
  t.approved += s.approved[i];
  t.pd += s.pd[i];
  if (s.bad[i]) t.bad += s.k[i];
  else {
    t.good += s.k[i];
    t.goodDeclined += s.k[i] - s.approved[i];
  }
}

function totals(s: Stats, rows: Int32Array): Totals {
  const t = emptyTotals();
  for (const i of rows) add(t, s, i);
  return t;
}

function resampleTotals(s: Stats, rows: Int32Array, rng: Random): Totals {
  const t = emptyTotals();
  for (let j = 0; j < rows.length; j++) add(t, s, rows[rng.int(rows.length)]);
  return t;
}

// A figure is a number, or a string saying why it is undefined.
function ratio(a: number, b: number, whyUndefined: string): number | string {
  return b === 0 ? whyUndefined : a / b;
}

function difference(a: number | string, b: number | string): number | string {
  if (typeof a === "string") return a;
  if (typeof b === "string") return b;
  return a - b;
}

function interval(point: number | string, replicates: (number | string)[]): Interval {
  if (typeof point === "string") {
    return { estimate: null, low: null, high: null, undefined_reason: point };
  }
  const undefinedCount = replicates.filter((r) => typeof r === "string").length;
  if (undefinedCount > 0) {
    const reason = replicates.find((r) => typeof r === "string") as string;
    return {
      estimate: point,
      low: null,
      high: null,
      undefined_reason:
        `interval undefined: ${reason} in ${undefinedCount} of ${replicates.length} resamples`,
    };
  }
  const sorted = Float64Array.from(replicates as number[]).sort();
  return { estimate: point, low: quantile(sorted, 0.025), high: quantile(sorted, 0.975) };
}
