/**
 * The decision rule on its own, without the model around it, so threads that only score (the
 * batch workers) need not load the whole artifact module.
 * @module
 */

/** What the model decides for an applicant. */
export type Decision = "approve" | "decline" | "review";

/** The decision for P(bad) against `threshold`: within `reviewMargin` of it the case goes to a person. */
export function decideAt(probability: number, threshold: number, reviewMargin = 0): Decision {
  if (reviewMargin > 0 && Math.abs(probability - threshold) < reviewMargin) return "review";
  return probability >= threshold ? "decline" : "approve";
}
