/**
 * The shape of a prediction extension, apart from the extensions themselves (prediction.ts) so that
 * the API schemas, which list the fields extensions add, and the extensions, which use those
 * schemas, do not import each other.
 * @module
 */

import type { z } from "@hono/zod-openapi";
import type { Decision } from "../model/artifact.ts";
import type { Applicant } from "../data/schema.ts";
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
  /** The attributes' Shapley values when already computed off this thread (the worker pool). */
  readonly contributions?: Float64Array;
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
