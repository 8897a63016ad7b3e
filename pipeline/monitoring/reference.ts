/**
 * The training distribution a model is compared against: per attribute (and for the score) the
 * proportion of training rows in each bin. Numeric attributes and the score are cut at the training
 * deciles; categorical attributes count each code of the schema.
 *
 * The reference travels in the model artifact (`reference`, written by `train.ts` from the
 * training part and its out-of-fold scores), because a model may be trained on another file; this
 * module owns its format and the schema a stored one is checked against. A leaf of the data path:
 * the artifact imports its type, so it imports no model code.
 * @module
 */

import { z } from "zod";
import { ATTRIBUTES, isCategorical } from "../data/schema.ts";
import { binIndex, quantileEdges } from "../stats.ts";

/** Bins of the decile cut used for numeric attributes and the score. */
export const NUMERIC_BINS = 10;

/** Numeric bins: bin k holds values ≤ `edges[k]` (and above the edge before); the last bin holds the rest. */
export interface NumericBins {
  kind: "numeric";
  edges: number[];
  /** Training proportions, one per bin (`edges.length + 1`). */
  proportions: number[];
}

/** Categorical bins: one per code of the schema. */
export interface CategoricalBins {
  kind: "categorical";
  codes: string[];
  proportions: number[];
}

/** One attribute's (or the score's) training distribution. */
export type Bins = NumericBins | CategoricalBins;

/** The training distribution a model is compared against; stored as the artifact's `reference`. */
export interface DriftReference {
  format_version: 1;
  /** Where the rows came from, in words. */
  source: string;
  rows: number;
  attributes: Record<string, Bins>;
  /** The distribution of P(bad), with what it was computed on; null when unknown. */
  score: (NumericBins & { of: string; rows: number }) | null;
}

const proportions = z.array(z.number().min(0).max(1));
const numericBins = z.object({
  kind: z.literal("numeric"),
  edges: z.array(z.number()),
  proportions,
}).refine((b) => b.proportions.length === b.edges.length + 1, "one proportion per bin");
const categoricalBins = z.object({ kind: z.literal("categorical"), codes: z.array(z.string()), proportions })
  .refine((b) => b.proportions.length === b.codes.length, "one proportion per code");

/** The schema a stored reference must satisfy before it is used. */
export const driftReferenceSchema = z.object({
  format_version: z.literal(1),
  source: z.string(),
  rows: z.number().int().positive(),
  attributes: z.record(z.string(), z.union([numericBins, categoricalBins])),
  score: z.intersection(numericBins, z.object({ of: z.string(), rows: z.number().int().positive() }))
    .nullable(),
});

/** The training distribution of the applicants (and their scores, when given). */
export function buildReference(
  applicants: readonly Record<string, unknown>[],
  scores: ArrayLike<number> | null,
  description: { source: string; score?: string },
): DriftReference {
  const n = applicants.length;
  if (n === 0) throw new RangeError("a drift reference needs at least one row");
  const attributes: Record<string, Bins> = {};
  for (const a of ATTRIBUTES) {
    if (isCategorical(a)) {
      const codes = a.codes.map((c) => c.code as string);
      const counts = new Array(codes.length).fill(0);
      for (const row of applicants) {
        const k = codes.indexOf(row[a.name] as string);
        if (k >= 0) counts[k]++;
      }
      attributes[a.name] = { kind: "categorical", codes, proportions: counts.map((c) => c / n) };
    } else {
      const values = applicants.map((row) => row[a.name] as number);
      attributes[a.name] = numericReference(values);
    }
  }
  const score = scores && scores.length > 0
    ? { ...numericReference(scores), of: description.score ?? "P(bad)", rows: scores.length }
    : null;
  return { format_version: 1, source: description.source, rows: n, attributes, score };
}

function numericReference(values: ArrayLike<number>): NumericBins {
  const edges = quantileEdges(values, NUMERIC_BINS);
  const counts = new Array(edges.length + 1).fill(0);
  for (let i = 0; i < values.length; i++) counts[binIndex(edges, values[i])]++;
  return { kind: "numeric", edges, proportions: counts.map((c) => c / values.length) };
}
