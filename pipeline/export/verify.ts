/**
 * Checking an exported graph against the project, without importing a runtime: the graph's
 * inputs built from applicant records, the project's own scores for the same records, and how far
 * a runtime's outputs are from them (largest difference, decisions changed). The export test and
 * the benchmark run the graph with onnxruntime and hand its outputs here.
 * @module
 */

import type { CreditModel } from "../model/artifact.ts";
import { type Applicant, ATTRIBUTES, isCategorical } from "../data/schema.ts";

/** One graph input as plain data: `[N, 1]` strings or doubles. */
export type FeedColumn =
  | { readonly type: "string"; readonly data: string[]; readonly dims: readonly [number, 1] }
  | { readonly type: "float64"; readonly data: Float64Array; readonly dims: readonly [number, 1] };

/** The graph's inputs for `applicants`, keyed by attribute name. */
export function feedColumns(applicants: readonly Applicant[]): Record<string, FeedColumn> {
  const n = applicants.length;
  const feeds: Record<string, FeedColumn> = {};
  for (const a of ATTRIBUTES) {
    feeds[a.name] = isCategorical(a)
      ? { type: "string", data: applicants.map((r) => r[a.name] as string), dims: [n, 1] }
      : { type: "float64", data: Float64Array.from(applicants, (r) => r[a.name] as number), dims: [n, 1] };
  }
  return feeds;
}

/** P(bad) and PD as the project computes them (the batch path: encoder, packed forest, calibrator). */
export interface ProjectScores {
  readonly probability: Float64Array;
  readonly pd: Float64Array;
}

/** The project's scores for `applicants`. */
export function projectScores(model: CreditModel, applicants: readonly Applicant[]): ProjectScores {
  const probability = model.probabilities(model.encoder.transformRecords(applicants));
  return { probability, pd: model.calibrator.transformAll(probability) };
}

/** How a runtime's outputs compare with the project's. */
export interface Agreement {
  readonly rows: number;
  /** Largest |Δ| of `probability_bad`. */
  readonly maxAbsDiffProbability: number;
  /** Largest |Δ| of `pd`. */
  readonly maxAbsDiffPd: number;
  /** Rows whose served decision (decline when P(bad) ≥ threshold) differs. */
  readonly decisionsChanged: number;
  /** Rows whose P(bad) is bit-identical. */
  readonly identicalProbability: number;
  /** The closest any row's project P(bad) comes to the threshold. */
  readonly closestToThreshold: number;
}

/** Compares a runtime's outputs with the project's scores under `model`'s decision rule. */
export function compareScores(
  model: CreditModel,
  ours: ProjectScores,
  theirs: { probability: ArrayLike<number>; pd: ArrayLike<number> },
): Agreement {
  const rows = ours.probability.length;
  if (theirs.probability.length !== rows || theirs.pd.length !== rows) {
    throw new RangeError(`expected ${rows} rows, got ${theirs.probability.length} and ${theirs.pd.length}`);
  }
  let maxP = 0, maxPd = 0, changed = 0, identical = 0, closest = Infinity;
  for (let i = 0; i < rows; i++) {
    const p = ours.probability[i], q = theirs.probability[i];
    // NaN never compares below a bound, so a NaN output counts as an infinite difference.
    const dp = Math.abs(p - q), dpd = Math.abs(ours.pd[i] - theirs.pd[i]);
    maxP = Math.max(maxP, Number.isNaN(dp) ? Infinity : dp);
    maxPd = Math.max(maxPd, Number.isNaN(dpd) ? Infinity : dpd);
    if (model.decide(p) !== model.decide(q)) changed++;
    if (p === q) identical++;
    closest = Math.min(closest, Math.abs(p - model.threshold));
  }
  return {
    rows,
    maxAbsDiffProbability: maxP,
    maxAbsDiffPd: maxPd,
    decisionsChanged: changed,
    identicalProbability: identical,
    closestToThreshold: closest,
  };
}
