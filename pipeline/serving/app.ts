/**
 * The prediction service's application: routes, validation, errors, logging, metrics, docs and the
 * browser app's static files, composed from this package's parts. Tests build it in-process with
 * {@link createApp} and call `app.request()`.
 * @module
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import { ServedWindow } from "./drift_window.ts";
import type { FreeSpace } from "./batch_disk.ts";
import { SCHEMA_VERSION } from "../data/schema.ts";
import { DecisionTrail, Pseudonymiser } from "./audit/log.ts";
import type { AuditStore } from "./audit/store.ts";
import { DEFAULT_CONFIG, type ServerConfig } from "./config.ts";
import type { App, AppDeps, AppEnv } from "./context.ts";
import { registerDocs } from "./docs.ts";
import { body, errorResponse, requestIdOf, validationHook } from "./errors.ts";
import { Logger } from "./log.ts";
import { ServerMetrics } from "./prometheus.ts";
import { ModelHolder } from "./model_holder.ts";
import { observe } from "./observe.ts";
import { PredictionPool } from "./predict_pool.ts";
import { DEFAULT_EXTENSIONS, type PredictionExtension } from "./prediction.ts";
import { registerAdminRoutes } from "./routes/admin.ts";
import { registerAuditRoutes } from "./routes/audit.ts";
import { registerMonitoringRoutes } from "./routes/monitoring.ts";
import { registerDashboardRoutes } from "./routes/dashboard.ts";
import { registerFlowRoutes } from "./routes/flows.ts";
import { registerInfoRoutes } from "./routes/info.ts";
import { registerPredictRoutes } from "./routes/predict.ts";
import { staticFiles } from "./static_files.ts";

/** The browser app's folder, found from this file so any working directory (and `deno compile`) works. */
export const STATIC_ROOT = new URL("../../static/", import.meta.url);

/** What {@link createApp} needs; everything but the model holder has a default. */
export interface CreateAppOptions {
  holder: ModelHolder;
  config?: Partial<ServerConfig>;
  logger?: Logger;
  metrics?: ServerMetrics;
  /** Worker pool for large batches; none by default (the caller owns and closes it). */
  pool?: PredictionPool | null;
  extensions?: readonly PredictionExtension[];
  staticRoot?: URL;
  /** The audit trail decisions are recorded in before they are answered; none by default (the caller closes it). */
  audit?: AuditStore | null;
  /** The clock of `/monitoring`'s refresh periods (tests pass their own). */
  clock?: () => number;
  /** Free disk space under a folder, for batch admission (default: `statfs`). */
  freeSpace?: FreeSpace;
}

/** Builds the application: routes, validation, errors, logging, metrics, docs and static files. */
export function createApp(options: CreateAppOptions): App {
  const config: ServerConfig = { ...DEFAULT_CONFIG, modelsDir: options.holder.modelsDir, ...options.config };
  const deps: AppDeps = {
    holder: options.holder,
    config,
    logger: options.logger ?? new Logger(config.logLevel),
    metrics: options.metrics ?? new ServerMetrics(),
    pool: options.pool ?? null,
    extensions: options.extensions ?? DEFAULT_EXTENSIONS,
    staticRoot: options.staticRoot ?? STATIC_ROOT,
    audit: options.audit ?? null,
    freeSpace: options.freeSpace,
  };
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use("*", observe(deps.logger, deps.metrics));
  app.onError((error, c) =>
    errorResponse(c, error, requestIdOf(c), (fault) =>
      deps.logger.error("request failed", {
        error: fault,
        method: c.req.method,
        path: c.req.path,
        request_id: requestIdOf(c),
      }))
  );
  app.notFound((c) =>
    c.json(body("not_found", `no route ${c.req.method} ${c.req.path}`, requestIdOf(c)), 404)
  );

  // The drift window exists only for the private /monitoring route.
  const window = config.monitoringToken ? new ServedWindow(config.driftWindow) : null;
  const trail = new DecisionTrail(deps.audit ?? null, window, {
    reviewMargin: config.reviewMargin,
    pseudonyms: new Pseudonymiser(config.auditPseudonymKey),
  });
  // The window is read back from the trail (on its reader) before the first request is handled.
  let seeding: Promise<unknown> | null = trail.seedWindow().catch((error) =>
    deps.logger.warn("the drift window could not be read back from the audit trail", { error })
  ).finally(() => seeding = null);
  app.use("*", async (_c, next) => {
    if (seeding) await seeding;
    await next();
  });
  registerInfoRoutes(app, deps);
  registerPredictRoutes(app, deps, trail);
  registerAdminRoutes(app, deps);
  registerAuditRoutes(app, deps, trail.audit);
  registerMonitoringRoutes(app, deps, window, options.clock);
  registerDashboardRoutes(app, deps);
  registerFlowRoutes(app, deps);
  registerDocs(app);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  let document: unknown;
  app.get("/openapi.json", (c) => {
    document ??= app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "Credit risk API",
        version: SCHEMA_VERSION,
        description: "Predicts bad credit risk on the Statlog German Credit attributes. " +
          "Validation errors answer 422 naming every offending field.",
      },
    });
    return c.json(document as Record<string, unknown>);
  });
  app.get("/*", staticFiles(deps.staticRoot));
  return app;
}
