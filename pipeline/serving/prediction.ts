/**
 * One applicant's prediction as the API answers it, and the extension point for what later work
 * adds to it (explanations as `reasons`, audit fields): an extension declares its fields with zod
 * schemas (they join the OpenAPI document) and computes them from the scored applicant.
 * @module
 */

import { z } from "@hono/zod-openapi";
import type { Decision } from "../model.ts";
import type { Applicant } from "../schema.ts";
import type { ServingModel } from "./model_holder.ts";

/** What an extension sees of one scored applicant. */
export interface PredictionContext {
  readonly applicant: Applicant;
  /** The forest's P(bad). */
  readonly probability: number;
  readonly decision: Decision;
  readonly serving: ServingModel;
  /** A query parameter of the request (e.g. an opt-out such as `explain=false`), if any. */
  readonly query: (name: string) => string | undefined;
}

/** Adds fields to every `/predict` answer. */
export interface PredictionExtension {
  /** Short name, for logs and errors. */
  readonly name: string;
  /** The fields it adds, for the OpenAPI document. */
  readonly fields: Record<string, z.ZodType>;
  /** The fields' values for one applicant. */
  extend(context: PredictionContext): Record<string, unknown>;
}

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

/** The extensions a default server runs. */
export const DEFAULT_EXTENSIONS: readonly PredictionExtension[] = [calibratedRisk];

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
      extension.extend({ applicant, probability, decision, serving, query: options.query }),
    );
  }
  return answer;
}
