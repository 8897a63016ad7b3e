/**
 * The engineered features' record formulas, without polars: what the batch workers import to
 * compute them (encoder.ts adds each one's table formula). Their order is the encoder's.
 * @module
 */

import type { Applicant, AttributeName } from "../data/schema.ts";

/** An engineered feature's name, meaning, sources and record formula. */
export interface EngineeredRecord {
  readonly name: string;
  readonly description: string;
  /** The raw attributes it is computed from; explanations attribute its effect back to them. */
  readonly sources: readonly AttributeName[];
  readonly record: (a: Applicant) => number;
}

/** Upper bounds (exclusive) of the age bands; a band is the count of bounds at or below the age. */
export const AGE_BAND_BOUNDS = [25, 35, 50, 65] as const;

/** The engineered features (record formulas), in the order they follow the attributes. */
export const ENGINEERED_RECORDS: readonly EngineeredRecord[] = [
  {
    name: "monthly_instalment",
    description: "credit amount divided by duration: the DM repaid each month before interest",
    sources: ["credit_amount", "duration"],
    record: (a) => a.credit_amount / a.duration,
  },
  {
    name: "amount_per_age_year",
    description: "credit amount divided by age: a large loan for a young applicant is a larger stretch",
    sources: ["credit_amount", "age"],
    record: (a) => a.credit_amount / a.age,
  },
  {
    name: "income_proxy",
    description:
      "monthly instalment divided by the instalment-rate band, which scales with disposable income",
    sources: ["credit_amount", "duration", "installment_commitment"],
    record: (a) => a.credit_amount / a.duration / a.installment_commitment,
  },
  {
    name: "age_band",
    description: "age band: 0 under 25, 1 25–34, 2 35–49, 3 50–64, 4 65 and over",
    sources: ["age"],
    record: (a) => AGE_BAND_BOUNDS.reduce((band, bound) => band + (a.age >= bound ? 1 : 0), 0),
  },
];
