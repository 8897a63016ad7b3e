/**
 * Impurity of a two-class node from its class weights. Entropy is in bits, as in scikit-learn,
 * so `minImpurityDecrease` means the same number in both libraries.
 * @module
 */

/** Numeric code of a criterion, so hot loops branch on an integer. */
export const GINI = 0;
/** Numeric code of the entropy criterion. */
export const ENTROPY = 1;

/** Impurity of a node holding weights `w0` (class 0) and `w1` (class 1). */
export function impurity(criterion: number, w0: number, w1: number): number {
  const w = w0 + w1;
  if (w <= 0) return 0;
  const p0 = w0 / w;
  const p1 = w1 / w;
  if (criterion === GINI) return 1 - p0 * p0 - p1 * p1;
  let h = 0;
  if (p0 > 0) h -= p0 * Math.log2(p0);
  if (p1 > 0) h -= p1 * Math.log2(p1);
  return h;
}

/**
 * A score that ranks the splits of one node like the impurity decrease does, but is cheaper:
 * it drops the terms every split of the node shares (scikit-learn's proxy improvement).
 */
export function proxyImprovement(
  criterion: number,
  l0: number,
  l1: number,
  r0: number,
  r1: number,
): number {
  const wl = l0 + l1;
  const wr = r0 + r1;
  if (criterion === GINI) return (l0 * l0 + l1 * l1) / wl + (r0 * r0 + r1 * r1) / wr;
  return xlogx(l0) + xlogx(l1) + xlogx(r0) + xlogx(r1) - xlogx(wl) - xlogx(wr);
}

function xlogx(x: number): number {
  return x > 0 ? x * Math.log(x) : 0;
}
