/**
 * The reference a served model is compared against: the one stored in its artifact, or, for an
 * older artifact without one, one built from the rows of a data file (by default
 * `data/german.data`, scored by the model itself, so its score reference is in-sample). Apart from
 * reference.ts because it needs the model, whose artifact in turn holds a reference.
 * @module
 */

import { DEFAULT_DATA_PATH, loadCreditTable, toApplicants } from "../data/etl.ts";
import type { CreditModel } from "../model/artifact.ts";
import { buildReference, type DriftReference, driftReferenceSchema } from "./reference.ts";

/** The artifact's stored reference, or null when it has none (or a malformed one). */
export function storedReference(model: CreditModel): DriftReference | null {
  const stored = (model.artifact as { reference?: unknown }).reference;
  if (stored === undefined || stored === null) return null;
  const parsed = driftReferenceSchema.safeParse(stored);
  return parsed.success ? parsed.data as DriftReference : null;
}

/** A reference built from a data file's rows, with the model's own scores of them. */
export async function referenceFromData(
  model: CreditModel,
  path = DEFAULT_DATA_PATH,
): Promise<DriftReference> {
  const table = await loadCreditTable(path);
  const scores = model.probabilities(model.encoder.transformFrame(table.frame));
  return buildReference(toApplicants(table.frame), scores, {
    source: `all rows of ${path} (the artifact has no training reference)`,
    score: `P(bad) of the served model on the rows of ${path} (in-sample where it was trained on them)`,
  });
}

/** The model's reference: the stored one, else one built from `dataPath`. */
export async function referenceFor(
  model: CreditModel,
  dataPath = DEFAULT_DATA_PATH,
): Promise<{ reference: DriftReference; origin: "artifact" | "data" }> {
  const stored = storedReference(model);
  if (stored) return { reference: stored, origin: "artifact" };
  return { reference: await referenceFromData(model, dataPath), origin: "data" };
}
