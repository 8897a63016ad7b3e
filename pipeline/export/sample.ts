/**
 * Valid applicants drawn from the schema alone (every code, every whole number in each accepted
 * range) with a seeded generator: inputs the training data never showed, to check an exported
 * graph far from the 1,000 rows. Credit amounts are drawn log-uniformly, so small loans are as
 * common as the huge ones a uniform draw up to 1,000,000 DM would give.
 * @module
 */

import { type Applicant, ATTRIBUTES, isCategorical } from "../data/schema.ts";
import { Random } from "../random.ts";

/** `count` valid applicants from `seed`; the same seed gives the same applicants. */
export function sampleApplicants(count: number, seed: number): Applicant[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count must be a whole number, got ${count}`);
  }
  const random = new Random(seed);
  const applicants: Applicant[] = [];
  for (let r = 0; r < count; r++) {
    const record: Record<string, string | number> = {};
    for (const a of ATTRIBUTES) {
      if (isCategorical(a)) {
        record[a.name] = a.codes[random.int(a.codes.length)].code;
      } else if (a.min > 0 && a.max / a.min > 1000) {
        const value = Math.floor(Math.exp(random.uniform(Math.log(a.min), Math.log(a.max + 1))));
        record[a.name] = Math.min(a.max, Math.max(a.min, value));
      } else {
        record[a.name] = a.min + random.int(a.max - a.min + 1);
      }
    }
    applicants.push(record as unknown as Applicant);
  }
  return applicants;
}
