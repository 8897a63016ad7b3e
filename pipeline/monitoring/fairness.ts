/**
 * Fairness report: how decisions fall across age groups (under 25 vs 25 and over) and sexes (from
 * `personal_status`), with the four-fifths rule on approval rates and the equal-opportunity
 * difference (the gap in approval rates among applicants who were in fact good).
 * @module
 */

import type { Applicant } from "../data/schema.ts";

/** The protected attributes reported on, each splitting applicants into a protected and a reference group. */
export const FAIRNESS_GROUPINGS = {
  age: {
    label: "age",
    protected: "under 25",
    reference: "25 and over",
    isProtected: (a: Pick<Applicant, "age">) => a.age < 25,
  },
  sex: {
    label: "sex (from personal_status)",
    protected: "female",
    reference: "male",
    isProtected: (a: Pick<Applicant, "personal_status">) =>
      a.personal_status === "A92" || a.personal_status === "A95",
  },
} as const;

/** Outcome rates of one group. */
export interface GroupOutcome {
  group: string;
  count: number;
  bad_count: number;
  approval_rate: number;
  /** Share of bad applicants declined. */
  recall_bad: number;
  /** Share of good applicants declined. */
  false_decline_rate: number;
}

/** One grouping's comparison. */
export interface FairnessComparison {
  attribute: string;
  protected: GroupOutcome;
  reference: GroupOutcome;
  /** Protected approval rate over reference approval rate. */
  disparate_impact: number;
  /** Protected minus reference approval rate among good applicants. */
  equal_opportunity_difference: number;
  /** Set when disparate impact falls below 0.8 (the four-fifths rule). */
  warning: string | null;
}

/** Outcome rates of the rows selected by `member`. */
export function groupOutcome(
  group: string,
  labels: ArrayLike<number>,
  declined: ArrayLike<boolean>,
  member: ArrayLike<boolean>,
): GroupOutcome {
  let count = 0, bad = 0, approved = 0, caught = 0, good = 0, falseDeclines = 0;
  for (let i = 0; i < labels.length; i++) {
    if (!member[i]) continue;
    count++;
    if (!declined[i]) approved++;
    if (labels[i] === 1) {
      bad++;
      if (declined[i]) caught++;
    } else {
      good++;
      if (declined[i]) falseDeclines++;
    }
  }
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return {
    group,
    count,
    bad_count: bad,
    approval_rate: ratio(approved, count),
    recall_bad: ratio(caught, bad),
    false_decline_rate: ratio(falseDeclines, good),
  };
}

/** The fairness report of decisions on labelled applicants. */
export function fairnessReport(
  applicants: readonly Applicant[],
  labels: ArrayLike<number>,
  declined: ArrayLike<boolean>,
): FairnessComparison[] {
  if (applicants.length !== labels.length || labels.length !== declined.length) {
    throw new RangeError(`applicants, labels and decisions must be equally long`);
  }
  return Object.values(FAIRNESS_GROUPINGS).map((g) => {
    const isProtected = applicants.map((a) => g.isProtected(a as Applicant));
    const protectedOutcome = groupOutcome(g.protected, labels, declined, isProtected);
    const referenceOutcome = groupOutcome(g.reference, labels, declined, isProtected.map((p) => !p));
    const disparateImpact = referenceOutcome.approval_rate === 0
      ? 0
      : protectedOutcome.approval_rate / referenceOutcome.approval_rate;
    return {
      attribute: g.label,
      protected: protectedOutcome,
      reference: referenceOutcome,
      disparate_impact: disparateImpact,
      equal_opportunity_difference: (1 - protectedOutcome.false_decline_rate) -
        (1 - referenceOutcome.false_decline_rate),
      warning: disparateImpact < 0.8
        ? `disparate impact ${disparateImpact.toFixed(2)} < 0.8: ${g.protected} applicants are approved at ${
          (100 * protectedOutcome.approval_rate).toFixed(0)
        } % vs ${(100 * referenceOutcome.approval_rate).toFixed(0)} % (four-fifths rule)`
        : null,
    };
  });
}
