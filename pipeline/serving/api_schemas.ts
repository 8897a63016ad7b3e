/**
 * The zod schemas of the API's requests and answers, for validation and for `/openapi.json`.
 * The applicant itself is the schema module's `applicantSchema`: defined once, here only named.
 * @module
 */

import { z } from "@hono/zod-openapi";
import { applicantSchema, ATTRIBUTE_NAMES, EXAMPLE_APPLICANT } from "../data/schema.ts";
import type { PredictionExtension } from "./prediction_extension.ts";

/**
 * One applicant (request of `/predict`, item of a JSON batch). Wrapped in a schema built here:
 * zod gives a schema its `.openapi` method when it is built, so the schema module's own object
 * lacks it whenever that module loads before `@hono/zod-openapi` (the same fields, rules and
 * strictness either way).
 */
export const Applicant = z.strictObject(applicantSchema.shape).openapi("Applicant", {
  example: EXAMPLE_APPLICANT,
});

/** One field's problem. */
export const FieldIssue = z.object({
  field: z.string().openapi({ description: "The attribute (or `(body)`, `(row)`, a header column)." }),
  message: z.string(),
  row: z.number().int().optional(),
  line: z.number().int().optional(),
}).openapi("FieldIssue");

/** Every error answer. */
export const ErrorBody = z.object({
  error: z.string().openapi({ example: "validation_error" }),
  message: z.string(),
  request_id: z.string(),
  issues: z.array(FieldIssue).optional(),
}).openapi("Error");

/** The answer of `/predict`, with the extensions' fields. */
export function predictionSchema(extensions: readonly PredictionExtension[]) {
  const fields = Object.assign({}, ...extensions.map((e) => e.fields));
  return z.object({
    probability_bad: z.number().min(0).max(1).openapi({ description: "The forest's P(bad risk)." }),
    decision: z.enum(["approve", "decline", "review"]).openapi({
      description: "decline when probability_bad ≥ threshold; review within review_margin of it (when set).",
    }),
    threshold: z.number(),
    review_margin: z.number(),
    model_version: z.number().int().nullable(),
    run_id: z.string(),
    request_id: z.string(),
    ...fields,
  }).openapi("Prediction");
}

const Attribute = z.enum(ATTRIBUTE_NAMES as [string, ...string[]]);
const Direction = z.enum(["raises", "lowers"]).openapi({ description: "The sign of `contribution`." });
const Bilingual = z.object({ en: z.string(), es: z.string() });

/** One attribute's signed share of P(bad) in a batch row. */
export const BatchReason = z.object({
  attribute: Attribute,
  contribution: z.number().openapi({ description: "Change in P(bad) the attribute accounts for." }),
  direction: Direction,
}).openapi("BatchReason");

/** One reason of a `/predict` answer, ready for the form. */
export const Reason = z.object({
  attribute: Attribute,
  label: Bilingual.openapi({ description: "The attribute's label." }),
  value: z.union([z.string(), z.number()]).openapi({
    description: "The applicant's value (code or number).",
  }),
  value_label: Bilingual.openapi({ description: "The value in words (code label, or number with unit)." }),
  contribution: z.number().openapi({
    description: "Exact TreeSHAP value of the attribute: the change in P(bad) it accounts for.",
  }),
  points: z.number().openapi({
    description: "The same contribution in score points (negative: it cost points).",
  }),
  direction: Direction,
  sentence: Bilingual.openapi({
    description: 'E.g. "Checking account (No checking account) lowers the risk".',
  }),
}).openapi("Reason");

/** One adverse-action reason: an attribute that cost the applicant points. */
export const AdverseActionReason = z.object({
  attribute: Attribute,
  points: z.number().openapi({ description: "Points the attribute cost (negative)." }),
  sentence: Bilingual.openapi({ description: 'E.g. "Checking account: < 0 DM (−23 points)".' }),
}).openapi("AdverseActionReason");

/** One row of a batch answer. */
export const BatchRow = z.object({
  row: z.number().int().openapi({ description: "1-based data row." }),
  line: z.number().int().optional().openapi({ description: "Line in the uploaded CSV." }),
  id: z.string().optional(),
  probability_bad: z.number(),
  decision: z.enum(["approve", "decline", "review"]),
  reasons: z.array(BatchReason).optional().openapi({
    description: "With `explain=true`: the 3 largest attribute contributions, largest first.",
  }),
}).openapi("BatchRow");

/** One rejected row of a batch. */
export const BatchError = z.object({
  row: z.number().int(),
  line: z.number().int().optional(),
  id: z.string().optional(),
  issues: z.array(FieldIssue),
}).openapi("BatchRowError");

/** The JSON answer of `/predict/batch`. */
export const BatchAnswer = z.object({
  model_version: z.number().int().nullable(),
  run_id: z.string(),
  threshold: z.number(),
  review_margin: z.number(),
  request_id: z.string(),
  rows: z.number().int(),
  scored: z.number().int(),
  rejected: z.number().int().openapi({ description: "Rejected rows, all of them (as `errors_total`)." }),
  predictions: z.array(BatchRow),
  errors: z.array(BatchError).openapi({
    description: "The first rejected rows in row order, at most 1,000; the others are only counted.",
  }),
  errors_total: z.number().int().openapi({ description: "All rejected rows, listed or not." }),
  errors_truncated: z.boolean().openapi({
    description: "True when `errors` lists fewer rows than `errors_total`.",
  }),
  errors_note: z.string().optional().openapi({
    description: "When truncated: how many rows were rejected and how many are listed.",
  }),
}).openapi("BatchAnswer");

/** `GET /model`. */
export const ModelInfo = z.object({
  model_version: z.number().int().nullable(),
  stage: z.string().nullable(),
  run_id: z.string(),
  sha256: z.string(),
  verified: z.boolean().openapi({ description: "sha256 checked against the registry." }),
  signed_by: z.string().nullable().openapi({
    description:
      "Id of the MODEL_PUBLIC_KEY its Ed25519 signature was verified with; null when no key is configured.",
  }),
  format_version: z.number().int(),
  schema_version: z.string(),
  created_at: z.string(),
  loaded_at: z.string(),
  objective: z.string(),
  threshold: z.number(),
  pd_threshold: z.number().openapi({ description: "The decision threshold on the calibrated PD scale." }),
  review_margin: z.number(),
  params: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()).openapi({
    description: "Headline metrics with their `protocol`.",
  }),
  features: z.array(z.object({ name: z.string(), sources: z.array(z.string()) })),
  attributes: z.array(z.string()),
  attribute_profile: z.object({ name: z.string(), excluded: z.array(z.string()) }).openapi({
    description: "What the model cannot see: `excluded` attributes are accepted (for fairness monitoring) " +
      "but never reach the model. `full` for models trained before profiles existed.",
  }),
}).openapi("ModelInfo");

/** `GET /health`. */
export const Health = z.object({ status: z.literal("ok"), uptime_s: z.number() }).openapi("Health");

/** `GET /ready`. */
export const Readiness = z.object({
  status: z.enum(["ready", "not_ready"]),
  model_version: z.number().int().nullable().optional(),
  run_id: z.string().optional(),
  cause: z.string().optional().openapi({
    description: "Why the server is not ready (no model, audit trail down).",
  }),
}).openapi("Readiness");

/** `POST /admin/reload`. */
export const ReloadAnswer = z.object({
  changed: z.boolean(),
  model_version: z.number().int().nullable(),
  previous_version: z.number().int().nullable(),
  run_id: z.string(),
  sha256: z.string(),
  request_id: z.string(),
}).openapi("ReloadAnswer");

/** A run as `models/runs/<id>/run.json` holds it. */
export const RunRecord = z.record(z.string(), z.unknown()).openapi("Run", {
  description: "run_id, experiment, status, params, metrics, tags, steps, artifacts (MLflow vocabulary).",
});
