/**
 * Reasons in score points, the currency lenders quote and adverse-action notices rank by.
 *
 * The Shapley values explain the forest's raw P(bad); the score is a non-linear function of it
 * (Platt on logit(p), then log-odds points). Each attribute's points are its Shapley value scaled
 * by the secant of the score between the base value E[p] and the applicant's p:
 *
 *   points_i = φ_i · (score(p) − score(E[p])) / (p − E[p]),   base_points = score(E[p])
 *
 * so `base_points + Σ points_i = score(p)` holds by construction (Σ φ_i = p − E[p]). When p and
 * E[p] coincide the secant's limit, the score's derivative at p, is used. A calibration linear in
 * p would not remove the need: points are log-odds of the PD, which no calibration makes linear in
 * p. Signs follow the score: a negative number of points is an attribute that costs points.
 * @module
 */

import { type AttributeName, ATTRIBUTES, type Label } from "../data/schema.ts";
import type { Applicant } from "../data/schema.ts";
import { valueLabel } from "./reasons.ts";

/** Adverse-action reasons given for a decision that is not "approve". */
export const ADVERSE_ACTION_REASON_COUNT = 4;

/** An applicant's reasons in points. */
export interface PointsExplanation {
  /** Points with nothing known about the applicant: the score of the base value E[p]. */
  readonly basePoints: number;
  /** Per attribute, in schema order; `basePoints + Σ points` is the unrounded score. */
  readonly points: Float64Array;
  /** The secant slope used (points per unit of P(bad)). */
  readonly slope: number;
}

/** Below this gap between p and E[p] the secant is replaced by its limit, the derivative. */
const SECANT_MIN_GAP = 1e-9;

/**
 * Scales Shapley values of P(bad) into score points that add up to `score(probability)` exactly.
 * `score` maps a raw P(bad) to points; `derivative` is its derivative (used only in the limit).
 */
export function pointsFromContributions(
  probability: number,
  baseValue: number,
  contributions: ArrayLike<number>,
  score: (probability: number) => number,
  derivative: (probability: number) => number,
): PointsExplanation {
  // Σ φ rather than p − E[p]: the two agree to rounding, and Σ φ makes Σ points = score(p) − base.
  let gap = 0;
  for (let i = 0; i < contributions.length; i++) gap += contributions[i];
  const basePoints = score(baseValue);
  const slope = Math.abs(gap) < SECANT_MIN_GAP
    ? derivative(probability)
    : (score(probability) - basePoints) / gap;
  const points = new Float64Array(contributions.length);
  for (let i = 0; i < contributions.length; i++) points[i] = contributions[i] * slope;
  return { basePoints, points, slope };
}

/** One adverse-action reason: an attribute that cost points, in words. */
export interface AdverseActionReason {
  readonly attribute: AttributeName;
  /** Points the attribute moved the score by (negative: it cost points). */
  readonly points: number;
  /** E.g. "Checking account: < 0 DM (−23 points)". */
  readonly sentence: Label;
}

/**
 * The (up to) `count` attributes that cost the most points, most costly first (ties in schema
 * order). `excluded` is where attributes that must never be cited go (e.g. protected ones under a
 * fair-lending policy); none are excluded by default.
 */
export function adverseActionReasons(
  applicant: Applicant,
  points: ArrayLike<number>,
  options: { count?: number; excluded?: ReadonlySet<AttributeName> } = {},
): AdverseActionReason[] {
  const count = options.count ?? ADVERSE_ACTION_REASON_COUNT;
  const excluded = options.excluded ?? NO_EXCLUSIONS;
  const order: number[] = [];
  for (let i = 0; i < ATTRIBUTES.length; i++) {
    if (points[i] < 0 && !excluded.has(ATTRIBUTES[i].name)) order.push(i);
  }
  order.sort((a, b) => points[a] - points[b] || a - b);
  return order.slice(0, Math.max(0, count)).map((i) => {
    const a = ATTRIBUTES[i];
    const value = applicant[a.name];
    const amount = formatPoints(points[i]);
    return {
      attribute: a.name,
      points: points[i],
      sentence: {
        en: `${a.label.en}: ${valueLabel(a, value, "en")} (${amount} ${UNIT.en})`,
        es: `${a.label.es}: ${valueLabel(a, value, "es")} (${amount} ${UNIT.es})`,
      },
    };
  });
}

/** Signed points for a sentence: whole points, one decimal below one point, a true minus sign. */
export function formatPoints(points: number): string {
  const rounded = Math.abs(points) >= 0.95 ? Math.round(points) : Math.round(points * 10) / 10;
  const magnitude = Math.abs(rounded).toString();
  return rounded < 0 ? `\u2212${magnitude}` : `+${magnitude}`;
}

const NO_EXCLUSIONS: ReadonlySet<AttributeName> = new Set();
const UNIT: Label = { en: "points", es: "puntos" };
