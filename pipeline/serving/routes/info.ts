/**
 * Read-only routes: liveness, readiness, the served model, the attribute schema, the runs and
 * the metrics.
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { ATTRIBUTE_NAMES, schemaDocument } from "../../data/schema.ts";
import { listRuns, readRun } from "../../tracking/mod.ts";
import { ErrorBody, Health, ModelInfo, Readiness, RunRecord } from "../api_schemas.ts";
import { type App, type AppDeps, requireModel } from "../context.ts";
import { ApiError } from "../errors.ts";
import { htmlPageFor } from "../static_files.ts";
import { renderAuditMetrics } from "../audit/metrics.ts";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** Run ids as tracking writes them; anything else never reaches the file system. */
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Registers the read-only routes. */
export function registerInfoRoutes(app: App, deps: AppDeps): void {
  const { holder, config, metrics } = deps;
  const started = performance.now();
  /** The last readiness probe of the audit trail, shown as `audit_up` (null before the first). */
  let auditUp: boolean | null = null;

  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      tags: ["operations"],
      summary: "Liveness",
      responses: { 200: json(Health, "The process is up") },
    }),
    (c) => c.json({ status: "ok" as const, uptime_s: Math.round(performance.now() - started) / 1000 }, 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/ready",
      tags: ["operations"],
      summary: "Readiness: a model is loaded and the audit trail takes writes",
      responses: {
        200: json(Readiness, "Ready to predict"),
        503: json(
          Readiness,
          "No model loaded yet, or the audit trail cannot be written (`cause` says which)",
        ),
      },
    }),
    async (c) => {
      c.header("Cache-Control", "no-store");
      const serving = holder.current;
      if (!serving) return c.json({ status: "not_ready" as const, cause: "no model is loaded" }, 503);
      if (deps.audit) {
        const health = await deps.audit.health();
        auditUp = health.ok;
        if (!health.ok) return c.json({ status: "not_ready" as const, cause: health.cause }, 503);
      }
      return c.json({ status: "ready" as const, model_version: serving.version, run_id: serving.runId }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/model",
      tags: ["model"],
      summary: "The served model: version, sha256, threshold, metrics with their protocol, features",
      responses: { 200: json(ModelInfo, "The served model"), 503: json(ErrorBody, "No model loaded yet") },
    }),
    (c) => {
      const serving = requireModel(holder);
      const { artifact, encoder } = serving.model;
      return c.json({
        model_version: serving.version,
        stage: serving.stage,
        run_id: serving.runId,
        sha256: serving.sha256,
        verified: serving.verified,
        signed_by: serving.signedBy,
        format_version: artifact.format_version,
        schema_version: artifact.schema_version,
        created_at: artifact.created_at,
        loaded_at: serving.loadedAt,
        objective: artifact.objective,
        threshold: artifact.threshold,
        pd_threshold: serving.model.pdThreshold,
        review_margin: config.reviewMargin,
        params: artifact.params,
        metrics: artifact.metrics,
        features: encoder.columns.map((f) => ({ name: f.name, sources: [...f.sources] })),
        attributes: [...ATTRIBUTE_NAMES],
        attribute_profile: {
          name: serving.model.profile.name,
          excluded: [...serving.model.profile.excluded],
        },
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/schema",
      tags: ["model"],
      summary: "The attribute schema: names, codes, labels (en/es), ranges, groups",
      responses: { 200: json(z.record(z.string(), z.unknown()).openapi("Schema"), "The attribute schema") },
    }),
    (c) => {
      c.header("Cache-Control", "public, max-age=300");
      return c.json(schemaDocument() as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs",
      tags: ["runs"],
      summary: "Training runs, newest first (the runs page for browsers)",
      responses: { 200: json(z.array(RunRecord), "Runs, newest first") },
    }),
    // deno-lint-ignore no-explicit-any
    async (c): Promise<any> => {
      const page = await htmlPageFor(c, deps.staticRoot, "runs.html");
      if (page) return page;
      return c.json(await listRuns(config.modelsDir), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs/{id}",
      tags: ["runs"],
      summary: "One run",
      request: { params: z.object({ id: z.string().openapi({ example: "20260101-120000-abc123" }) }) },
      responses: {
        200: json(RunRecord, "The run's record"),
        400: json(ErrorBody, "Not a run id"),
        404: json(ErrorBody, "No such run"),
      },
    }),
    async (c) => {
      const id = c.req.valid("param").id;
      if (!RUN_ID.test(id)) {
        throw new ApiError(400, "bad_request", "a run id is 1–64 letters, digits, '_' or '-'");
      }
      const run = await readRun(id, config.modelsDir);
      if (!run) throw new ApiError(404, "not_found", `no run ${id}`);
      return c.json(run as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/metrics",
      tags: ["operations"],
      summary: "Prometheus metrics (text format 0.0.4)",
      responses: { 200: { description: "Metrics", content: { "text/plain": { schema: z.string() } } } },
    }),
    (c) => {
      c.header("Cache-Control", "no-store");
      const audit = deps.audit ? renderAuditMetrics(deps.audit.metrics(), auditUp) : "";
      return c.text(metrics.render(holder.current) + audit, 200, {
        "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
      });
    },
  );
}
