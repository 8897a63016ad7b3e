/**
 * Reweighing (Kamiran & Calders 2012, "Data preprocessing techniques for classification without
 * discrimination"): each training row gets the weight `P(s) · P(y) / P(s, y)`, estimated by counts on
 * the training rows, so that in the weighted data the label is independent of the protected group `s`.
 * The protected attributes are read at training time only: the weights multiply each row's bootstrap
 * count in every tree (the forest's `sampleWeight`), and the model itself need not see the attributes.
 * Groups are the joint cells of `monitoring/fairness.ts`'s groupings (age under 25 × female).
 * @module
 */

import type { Applicant } from "../data/schema.ts";
import { FAIRNESS_GROUPINGS } from "../monitoring/fairness.ts";

/** The bias mitigations a training or nested run can apply. */
export const MITIGATIONS = ["none", "reweigh"] as const;

/** A mitigation's name. */
export type Mitigation = (typeof MITIGATIONS)[number];

/** The joint fairness cell of an applicant: bit k set when it is in grouping k's protected group. */
export function fairnessCell(applicant: Applicant): number {
  let cell = 0;
  Object.values(FAIRNESS_GROUPINGS).forEach((g, k) => {
    if (g.isProtected(applicant)) cell |= 1 << k;
  });
  return cell;
}

/**
 * Kamiran–Calders weights `n_s · n_y / (n · n_{s,y})` of rows with group `groups[i]` and 0/1 label
 * `y[i]`. A (group, label) cell with no rows gets no weight because no row needs one; the weights of
 * each label sum to its count, so the class balance the forest's sampler sees is unchanged.
 */
export function reweighingWeights(groups: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  if (groups.length !== y.length) throw new RangeError("groups and labels must be equally long");
  const n = y.length;
  const bySY = new Map<string, number>();
  const byS = new Map<number, number>();
  const byY = [0, 0];
  for (let i = 0; i < n; i++) {
    const label = y[i];
    if (label !== 0 && label !== 1) throw new RangeError(`label ${label} at row ${i} is not 0 or 1`);
    byS.set(groups[i], (byS.get(groups[i]) ?? 0) + 1);
    byY[label]++;
    const key = `${groups[i]}:${label}`;
    bySY.set(key, (bySY.get(key) ?? 0) + 1);
  }
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    weights[i] = (byS.get(groups[i])! * byY[y[i]]) / (n * bySY.get(`${groups[i]}:${y[i]}`)!);
  }
  return weights;
}
