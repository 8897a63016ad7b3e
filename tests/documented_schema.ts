/**
 * The attributes as documented, written out by hand for tests to judge values with, independently
 * of `pipeline/data/schema.ts`: the codes are the UCI codebook's (data/README.md: `A11` …, with
 * `A47` and `A95` defined but unused); the accepted ranges are the ones a lender accepts, as the
 * form, the OpenAPI document and the README state them ("17 is outside the accepted range
 * 18–100"). Changing either is a decision to make here too, not a side effect.
 * @module
 */

/** Accepted whole-number ranges of the 7 numeric attributes. */
export const DOCUMENTED_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  duration: [1, 120],
  credit_amount: [1, 1_000_000],
  installment_commitment: [1, 4],
  residence_since: [1, 4],
  age: [18, 100],
  existing_credits: [1, 10],
  num_dependents: [0, 20],
};

const codes = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

/** The codebook's codes of the 13 categorical attributes (A47 and A95 never occur but are valid). */
export const DOCUMENTED_CODES: Readonly<Record<string, readonly string[]>> = {
  checking_status: codes("A1", 1, 4),
  credit_history: codes("A3", 0, 4),
  purpose: [...codes("A4", 0, 9), "A410"],
  savings_status: codes("A6", 1, 5),
  employment: codes("A7", 1, 5),
  personal_status: codes("A9", 1, 5),
  other_parties: codes("A10", 1, 3),
  property_magnitude: codes("A12", 1, 4),
  other_payment_plans: codes("A14", 1, 3),
  housing: codes("A15", 1, 3),
  job: codes("A17", 1, 4),
  own_telephone: codes("A19", 1, 2),
  foreign_worker: codes("A20", 1, 2),
};

/** Whether `value` is acceptable for attribute `name` by the documentation above. */
export function documentedValid(name: string, value: unknown): boolean {
  const range = DOCUMENTED_RANGES[name];
  if (range) {
    return typeof value === "number" && Number.isInteger(value) && value >= range[0] && value <= range[1];
  }
  const allowed = DOCUMENTED_CODES[name];
  if (!allowed) throw new Error(`${name} is not a documented attribute`);
  return typeof value === "string" && allowed.includes(value);
}
