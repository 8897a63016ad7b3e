/**
 * One applicant's prediction as the API answers it, and the extension point for what later work
 * adds to it (explanations as `reasons`, audit fields): an extension declares its fields with zod
 * schemas (they join the OpenAPI document) and computes them from the scored applicant.
 * @module
 */

import { z } from "@hono/zod-openapi";
import type { Decision } from "../model/artifact.ts";
import { type Applicant, ATTRIBUTE_NAMES, type AttributeName } from "../data/schema.ts";
import { AdverseActionReason, Reason } from "./api_schemas.ts";
import { adverseActionReasons } from "../model/points.ts";
import { REASONS_NEVER_CITE } from "../model/reasons.ts";
import type { ServingModel } from "./model_holder.ts";
import type { PredictionExtension } from "./prediction_extension.ts";

export type { PredictionContext, PredictionExtension } from "./prediction_extension.ts";

/** The calibrated probability of default and the credit score, from the artifact's calibrator and scale. */
export const calibratedRisk: PredictionExtension = {
  name: "calibrated-risk",
  fields: {
    pd: z.number().min(0).max(1).openapi({
      description: "Calibrated probability of default (Platt scaling).",
    }),
    pd_threshold: z.number().min(0).max(1).openapi({
      description: "The decision threshold on the PD scale.",
    }),
    score: z.number().openapi({
      description: "Credit score points (higher is safer), on the artifact's scale.",
    }),
  },
  extend: ({ probability, serving }) => ({
    pd: serving.model.pd(probability),
    pd_threshold: serving.model.pdThreshold,
    score: Math.round(serving.model.score(probability)),
  }),
};

/**
 * Why the forest gave its P(bad): exact TreeSHAP contributions of the 20 attributes, the same in
 * score points (adding up to the score), the largest five as reasons in English and Spanish, and
 * for a decision that is not "approve" the attributes that cost the most points as adverse-action
 * reasons. `explain=false` leaves them out (faster).
 */
export const explanation: PredictionExtension = {
  name: "explanation",
  fields: {
    base_value: z.number().optional().openapi({
      description:
        "P(bad) with nothing known about the applicant; base_value + Σ contributions = probability_bad.",
    }),
    contributions: z.record(z.string(), z.number()).optional().openapi({
      description: "Every attribute's signed contribution to P(bad) (exact TreeSHAP over attributes).",
    }),
    base_points: z.number().optional().openapi({
      description: "Score points with nothing known about the applicant (the score of `base_value`); " +
        "base_points + Σ points_contributions = the score before it is rounded.",
    }),
    points_contributions: z.record(z.string(), z.number()).optional().openapi({
      description: "Every attribute's signed effect on the score in points (negative: it cost points): " +
        "its contribution scaled by the secant (score(p) − base_points) / (p − base_value).",
    }),
    reasons: z.array(Reason).optional().openapi({
      description:
        "The five largest contributions by magnitude, largest first, never a protected attribute " +
        "(personal_status, age, foreign_worker). Absent with `explain=false`.",
    }),
    adverse_action_reasons: z.array(AdverseActionReason).optional().openapi({
      description: "For a decision that is not `approve`: the (up to) four attributes that cost the most " +
        "points, most costly first, never a protected attribute. Absent for approvals and with `explain=false`.",
    }),
  },
  extend: ({ applicant, probability, decision, serving, query, contributions: computed }) => {
    const wanted = query("explain");
    if (wanted === "false" || wanted === "0") return {};
    const { model } = serving;
    const { baseValue, contributions, reasons } = computed
      ? model.explanationFrom(applicant, computed)
      : model.explain(applicant);
    const { basePoints, points } = model.points(probability, baseValue, contributions);
    const byName = (values: Float64Array) =>
      Object.fromEntries(ATTRIBUTE_NAMES.map((name, i) => [name, values[i]]));
    return {
      base_value: baseValue,
      contributions: byName(contributions),
      base_points: basePoints,
      points_contributions: byName(points),
      reasons: reasons.map((r) => ({ ...r, points: points[ATTRIBUTE_INDEX.get(r.attribute)!] })),
      ...(decision === "approve" ? {} : {
        adverse_action_reasons: adverseActionReasons(applicant, points, {
          excluded: ADVERSE_ACTION_EXCLUDED,
        }),
      }),
    };
  },
};

/** Each attribute's position in the contributions, built once rather than per request. */
const ATTRIBUTE_INDEX: ReadonlyMap<string, number> = new Map(ATTRIBUTE_NAMES.map((name, i) => [name, i]));

/**
 * Attributes adverse-action reasons must never cite: the protected ones (personal_status, age,
 * foreign_worker), under every attribute profile. A `fair` model gives them no points at all; a
 * `full` model may, and they still are not given as a reason.
 */
export const ADVERSE_ACTION_EXCLUDED: ReadonlySet<AttributeName> = REASONS_NEVER_CITE;

/** The extensions a default server runs. */
export const DEFAULT_EXTENSIONS: readonly PredictionExtension[] = [calibratedRisk, explanation];

/** The core of a `/predict` answer. */
export interface Prediction {
  probability_bad: number;
  decision: Decision;
  threshold: number;
  review_margin: number;
  model_version: number | null;
  run_id: string;
  request_id: string;
  [extension: string]: unknown;
}

/** Scores one validated applicant and builds the answer. */
export function predict(
  serving: ServingModel,
  applicant: Applicant,
  options: {
    reviewMargin: number;
    requestId: string;
    extensions: readonly PredictionExtension[];
    query: (name: string) => string | undefined;
    /** The attributes' Shapley values, when computed on a worker. */
    contributions?: Float64Array;
  },
): Prediction {
  const { model } = serving;
  const probability = model.probabilityOne(applicant);
  const decision = model.decide(probability, options.reviewMargin);
  const answer: Prediction = {
    probability_bad: probability,
    decision,
    threshold: model.threshold,
    review_margin: options.reviewMargin,
    model_version: serving.version,
    run_id: serving.runId,
    request_id: options.requestId,
  };
  for (const extension of options.extensions) {
    Object.assign(
      answer,
      extension.extend({
        applicant,
        probability,
        decision,
        serving,
        query: options.query,
        contributions: options.contributions,
      }),
    );
  }
  return answer;
}
