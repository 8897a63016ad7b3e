/**
 * `POST /admin/reload`: swaps in the newly promoted model. Guarded by a bearer token from
 * `ADMIN_TOKEN`; without one the route does not exist (404). A reload that fails keeps the model
 * that was serving and answers 409 with the reason.
 * @module
 */

import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ModelLoadError } from "../../model/artifact.ts";
import { ErrorBody, ReloadAnswer } from "../api_schemas.ts";
import type { App, AppDeps } from "../context.ts";
import { requireBearer } from "../auth.ts";
import { ApiError } from "../errors.ts";

/** Registers the admin routes (only when a token is configured). */
export function registerAdminRoutes(app: App, deps: AppDeps): void {
  const token = deps.config.adminToken;
  if (!token) return;
  const { holder, logger, metrics } = deps;
  const json = (schema: typeof ErrorBody | typeof ReloadAnswer, description: string) => ({
    description,
    content: { "application/json": { schema } },
  });
  app.openapi(
    createRoute({
      method: "post",
      path: "/admin/reload",
      tags: ["operations"],
      summary: "Load the registry's production model and swap it in",
      description:
        "Requests in flight finish on the model they started with. Needs `Authorization: Bearer <ADMIN_TOKEN>`.",
      security: [{ bearer: [] }],
      responses: {
        200: json(ReloadAnswer, "The model now serving"),
        401: json(ErrorBody, "No bearer token"),
        403: json(ErrorBody, "Wrong token"),
        409: json(ErrorBody, "The new model was refused; the previous one keeps serving"),
      },
    }),
    async (c) => {
      await authorize(c, token);
      const previous = holder.current;
      try {
        const outcome = await holder.reload();
        metrics.reload(outcome.changed ? "swapped" : "unchanged");
        logger.info("model reload", {
          changed: outcome.changed,
          model_version: outcome.current.version,
          previous_version: previous?.version ?? null,
          sha256: outcome.current.sha256,
          request_id: c.get("requestId"),
        });
        return c.json({
          changed: outcome.changed,
          model_version: outcome.current.version,
          previous_version: previous?.version ?? null,
          run_id: outcome.current.runId,
          sha256: outcome.current.sha256,
          request_id: c.get("requestId"),
        }, 200);
      } catch (error) {
        if (!(error instanceof ModelLoadError)) throw error;
        metrics.reload("failed");
        logger.warn("model reload refused", { reason: error.message, request_id: c.get("requestId") });
        throw new ApiError(409, "reload_failed", error.message, {
          model_version: holder.current?.version ?? null,
        });
      }
    },
  );
}

function authorize(c: Context, token: string): Promise<void> {
  return requireBearer(c, token, "admin", "ADMIN_TOKEN");
}
