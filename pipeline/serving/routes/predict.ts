/**
 * `POST /predict` (one applicant, validated by zod against the schema module's applicant schema)
 * and `POST /predict/batch` (a JSON array or a CSV upload, rows checked one by one so the valid
 * ones are scored and the others reported with their row numbers).
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { Applicant, BatchAnswer, ErrorBody, predictionSchema } from "../api_schemas.ts";
import { registerBatchRoute } from "../batch_route.ts";
import { DecisionTrail } from "../audit/log.ts";
import { jsonBody } from "../body.ts";
import { type App, type AppDeps, type AppEnv, inMemoryAnswers, requireModel } from "../context.ts";
import { fastPredictInput } from "../predict_fast.ts";
import type { ServingModel } from "../model_holder.ts";
import type { Applicant as ApplicantValue } from "../../data/schema.ts";
import { predict } from "../prediction.ts";

const errors = (statuses: readonly number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, {
      description: ERROR_DESCRIPTIONS[status],
      content: { "application/json": { schema: ErrorBody } },
    }]),
  );

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Malformed JSON or a bad query parameter",
  413: "Body over the limit (or too many rows)",
  415: "Wrong Content-Type",
  422: "Schema violations, naming every offending field",
  503: "No model loaded yet",
};

/** Registers the prediction routes. */
export function registerPredictRoutes(
  app: App,
  deps: AppDeps,
  trail: DecisionTrail = new DecisionTrail(null, null),
): void {
  const { holder, config, metrics, extensions } = deps;

  const predictRoute = createRoute({
    method: "post",
    path: "/predict",
    tags: ["predict"],
    summary: "Score one applicant",
    description: "Attribute names from the schema, categorical values as codes (e.g. `A11`).",
    middleware: [jsonBody(() => config.maxBodyBytes)] as const,
    request: {
      query: z.object({
        explain: z.enum(["true", "false"]).optional().openapi({
          description: "`false` leaves out `reasons`, `contributions` and `base_value` (faster).",
        }),
      }),
      body: { required: true, content: { "application/json": { schema: Applicant } } },
    },
    responses: {
      200: {
        description: "The probability of bad risk and the decision, with the reasons behind it",
        content: { "application/json": { schema: predictionSchema(extensions) } },
      },
      ...errors([400, 413, 415, 422, 503]),
    },
  });

  /** The answer to a validated applicant, the same whichever way it was validated. */
  const answer = async (
    c: Context<AppEnv>,
    applicant: ApplicantValue,
    query: (name: string) => string | undefined,
  ) => {
    const serving = requireModel(holder);
    const prediction = predict(serving, applicant, {
      reviewMargin: config.reviewMargin,
      requestId: c.get("requestId"),
      extensions,
      query,
      contributions: await explainOnPool(deps, serving, applicant, query("explain")),
    });
    await trail.predicted(prediction, applicant, serving, c.get("correlationId") ?? null); // durable before the answer
    metrics.predictions(prediction.decision);
    c.header("Cache-Control", "no-store");
    // deno-lint-ignore no-explicit-any
    const response = c.json(prediction as any, 200);
    inMemoryAnswers.add(response);
    return response;
  };

  // Registered first: answers the common request itself, or passes it on to the route below.
  app.post("/predict", async (c, next) => {
    const fast = fastPredictInput(c, config.maxBodyBytes);
    if (fast === null) return await next();
    const { explain } = fast;
    return await answer(c, fast.applicant, (name) => name === "explain" ? explain : undefined);
  });

  app.openapi(predictRoute, (c) => {
    const applicant = c.req.valid("json");
    // Each c.req.query() parses the URL again: the extensions ask for the same few names.
    const queried = new Map<string, string | undefined>();
    const query = (name: string) => {
      if (!queried.has(name)) queried.set(name, c.req.query(name));
      return queried.get(name);
    };
    return answer(c, applicant, query);
  });

  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/predict/batch",
    tags: ["predict"],
    summary: "Score many applicants",
    description:
      `A JSON array of applicants (at most ${config.batchMaxRows} rows; each may carry an \`id\`) ` +
      "or a CSV upload (`text/csv`, a header of attribute names, optional `id` column passed through). " +
      "Invalid rows are reported with their row (and CSV line) numbers while the valid rows are scored; " +
      "`strict=true` rejects the whole batch instead. The answer is JSON or CSV as `Accept` prefers. " +
      "Only the first 1,000 rejected rows are described in detail: JSON gives `errors_total` and " +
      "`errors_truncated`; CSV answers carry `X-Errors-Total` (and `X-Errors-Truncated` when cut short), " +
      "later rejected rows only a short `error` placeholder.",
    request: {
      query: z.object({
        strict: z.enum(["true", "false"]).optional().openapi({
          description: "Reject the batch if any row is invalid.",
        }),
        explain: z.enum(["true", "false"]).optional().openapi({
          description:
            "Add each row's 3 largest attribute contributions (exact TreeSHAP): `reasons` in JSON, " +
            '`reason_1`…`reason_3` columns such as "checking_status:-0.081" in CSV. At most 10,000 rows.',
        }),
      }),
      body: {
        required: true,
        content: {
          "application/json": { schema: z.array(Applicant) },
          "text/csv": {
            schema: z.string().openapi({ example: "id,checking_status,duration,…\na-1,A11,6,…" }),
          },
        },
      },
    },
    responses: {
      200: {
        description: "Scores and per-row errors",
        content: {
          "application/json": { schema: BatchAnswer },
          "text/csv": {
            schema: z.string().openapi({ example: "row,line,id,probability_bad,decision,error" }),
          },
        },
      },
      ...errors([400, 413, 415, 422, 503]),
    },
  });

  registerBatchRoute(app, deps, trail, deps.freeSpace);
}

/**
 * The applicant's attribute Shapley values computed on the worker pool, so that explanations use
 * every core and keep the event loop free; undefined (explained inline) without a pool or when
 * `explain=false`.
 */
function explainOnPool(
  deps: AppDeps,
  serving: ServingModel,
  applicant: ApplicantValue,
  explain: string | undefined,
): Promise<Float64Array | undefined> | undefined {
  if (!deps.pool || explain === "false" || explain === "0") return undefined;
  const { model } = serving;
  return deps.pool.explain(
    serving.sha256,
    { forest: model.forest, players: model.players },
    model.encodeOne(applicant),
    1,
  ).catch((error: Error) => {
    // A worker that cannot explain (e.g. denied a read its kernel needs) must not fail the
    // decision: the request thread explains instead, with the same values.
    deps.logger.error("explanation worker failed; explaining on the request thread", {
      error: error.message,
    });
    return undefined;
  });
}
