/**
 * Good and bad applicants per group (a category or a bin) and the bad rate of each group: the
 * counts every other EDA table starts from.
 * @module
 */

import type { CategoricalAttribute } from "../../data/schema.ts";

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

/** Throws a RangeError when two paired columns differ in length (a value per row and a label per row). */
export function sameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
}
