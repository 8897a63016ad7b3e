/**
 * The credit-risk prediction service: `deno task serve`.
 *
 * Settings come from the environment (see `pipeline/serving/config.ts`): `PORT` (8000), `HOST`,
 * `MODELS_DIR` (models), `MODEL` (an artifact instead of the registry's production model),
 * `REVIEW_MARGIN`, `BATCH_MAX_ROWS`, `MAX_BODY_BYTES`, `MAX_BATCH_BODY_BYTES`, `ADMIN_TOKEN`,
 * `BATCH_WORKERS`, `LOG_LEVEL` / `LOG=off`.
 *
 * Tests build the app in-process with {@link createApp} and call `app.request()`; {@link startServer}
 * runs it on a real socket with graceful shutdown.
 * @module
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import { ModelLoadError } from "./pipeline/model/artifact.ts";
import { ServedWindow } from "./pipeline/serving/drift_window.ts";
import { SCHEMA_VERSION } from "./pipeline/data/schema.ts";
import { AuditError, type AuditLog, DecisionTrail, openAuditLog } from "./pipeline/serving/audit/log.ts";
import { defaultModelsDir, healthcheck, parseServeFlags, SERVE_USAGE } from "./pipeline/serving/cli.ts";
import { ConfigError, configFromEnv, DEFAULT_CONFIG, type ServerConfig } from "./pipeline/serving/config.ts";
import type { App, AppDeps, AppEnv } from "./pipeline/serving/context.ts";
import { registerDocs } from "./pipeline/serving/docs.ts";
import { body, errorResponse, requestIdOf, validationHook } from "./pipeline/serving/errors.ts";
import { Logger } from "./pipeline/serving/log.ts";
import { ServerMetrics } from "./pipeline/serving/prometheus.ts";
import { ModelHolder } from "./pipeline/serving/model_holder.ts";
import { observe } from "./pipeline/serving/observe.ts";
import { PredictionPool } from "./pipeline/serving/predict_pool.ts";
import { DEFAULT_EXTENSIONS, type PredictionExtension } from "./pipeline/serving/prediction.ts";
import { registerAdminRoutes } from "./pipeline/serving/routes/admin.ts";
import { registerAuditRoutes } from "./pipeline/serving/routes/audit.ts";
import { registerMonitoringRoutes } from "./pipeline/serving/routes/monitoring.ts";
import { registerDashboardRoutes } from "./pipeline/serving/routes/dashboard.ts";
import { registerInfoRoutes } from "./pipeline/serving/routes/info.ts";
import { registerPredictRoutes } from "./pipeline/serving/routes/predict.ts";
import { staticFiles } from "./pipeline/serving/static_files.ts";

/** The browser app's folder, found from this file so any working directory (and `deno compile`) works. */
export const STATIC_ROOT = new URL("./static/", import.meta.url);

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
  audit?: AuditLog | null;
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

  registerInfoRoutes(app, deps);
  const trail = new DecisionTrail(options.audit ?? null, new ServedWindow(config.driftWindow));
  trail.seedWindow();
  registerPredictRoutes(app, deps, trail);
  registerAdminRoutes(app, deps);
  registerAuditRoutes(app, deps, trail.audit);
  registerMonitoringRoutes(app, deps, trail.window!);
  registerDashboardRoutes(app, deps);
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

/** A server listening on a socket. */
export interface RunningServer {
  readonly url: URL;
  readonly server: Deno.HttpServer<Deno.NetAddr>;
  readonly app: App;
  /** Requests being handled now (bodies still arriving included). */
  readonly inFlight: () => number;
  /**
   * Drains, then stops: requests in flight finish (their bodies may still be arriving), new ones
   * are answered 503 with `Connection: close`, then the socket closes and the workers stop.
   */
  shutdown(): Promise<void>;
}

/** How long a shutdown waits for requests in flight before closing anyway. */
export const DRAIN_TIMEOUT_MS = 30_000;

/** Serves the app on `config.hostname:config.port` (port 0 picks a free one). */
export function startServer(options: CreateAppOptions): RunningServer {
  const config: ServerConfig = { ...DEFAULT_CONFIG, modelsDir: options.holder.modelsDir, ...options.config };
  const logger = options.logger ?? new Logger(config.logLevel);
  const pool = options.pool !== undefined
    ? options.pool
    : config.batchWorkers > 0
    ? new PredictionPool(config.batchWorkers).warm()
    : null;
  const app = createApp({ ...options, config, logger, pool });
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  // Deno's own shutdown cuts request bodies still being read, so requests are counted and drained first.
  const handler = async (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> => {
    if (draining) {
      return Response.json(body("shutting_down", "the server is shutting down; retry", ""), {
        status: 503,
        headers: { Connection: "close", "Retry-After": "1" },
      });
    }
    inFlight++;
    try {
      return await app.fetch(request, { info });
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: () => {},
    onError: (error) => {
      logger.error("unhandled server error", { error });
      return Response.json(body("internal_error", "the server failed", ""), { status: 500 });
    },
  }, handler);
  const host = server.addr.hostname.includes(":") ? `[${server.addr.hostname}]` : server.addr.hostname;
  const url = new URL(`http://${host}:${server.addr.port}/`);
  logger.info("listening", { url: url.href, model_version: options.holder.current?.version ?? null });
  let stopping: Promise<void> | undefined;
  const shutdown = async () => {
    draining = true;
    if (inFlight > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (drained = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
    }
    await server.shutdown();
    pool?.close();
    logger.info("stopped");
  };
  return { url, server, app, inFlight: () => inFlight, shutdown: () => stopping ??= shutdown() };
}

/** `deno task serve`: loads the model (exit 1 when it is refused), serves, and stops cleanly on SIGINT/SIGTERM. */
export async function main(args: string[] = []): Promise<number> {
  let config: ServerConfig;
  let flags;
  try {
    flags = parseServeFlags(args);
    const env = { MODELS_DIR: defaultModelsDir(import.meta.url), ...flags.env };
    config = configFromEnv((name) => flags!.env[name] || Deno.env.get(name) || env[name as keyof typeof env]);
  } catch (error) {
    if (!(error instanceof ConfigError) && !(error instanceof TypeError)) throw error;
    console.error(`serve: ${error.message}\n${SERVE_USAGE}`);
    return 2;
  }
  if (flags.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  if (flags.healthcheck) return (await healthcheck(config.port)) ? 0 : 1;
  const logger = new Logger(config.logLevel);
  let holder: ModelHolder;
  try {
    holder = await ModelHolder.open(
      { modelsDir: config.modelsDir, modelPath: config.modelPath },
      { allowEmpty: config.modelPath === undefined },
    );
  } catch (error) {
    if (!(error instanceof ModelLoadError)) throw error;
    logger.error("model refused", { reason: error.message });
    console.error(`serve: ${error.message}`);
    return 1;
  }
  const serving = holder.current;
  if (serving) {
    logger.info("model loaded", {
      model_version: serving.version,
      run_id: serving.runId,
      sha256: serving.sha256,
      verified: serving.verified,
      path: serving.path,
    });
    if (!serving.verified) logger.warn("the model is not in the registry: its sha256 could not be verified");
  } else {
    logger.warn(
      "no production model yet: /ready answers 503 until a model is trained and POST /admin/reload",
    );
  }
  let audit: AuditLog | null;
  try {
    audit = await openAuditLog(config);
  } catch (error) {
    if (!(error instanceof AuditError)) throw error;
    console.error(`serve: ${error.message}`);
    return 1;
  }
  logger.info("audit trail", { path: audit?.path ?? null, synchronous: audit?.synchronous ?? null });
  const running = startServer({ holder, config, logger, audit });
  let signalled = false;
  const stop = (signal: Deno.Signal) => {
    if (signalled) {
      logger.warn("second signal: exiting without waiting", { signal, in_flight: running.inFlight() });
      Deno.exit(1);
    }
    signalled = true;
    logger.info("shutting down", { signal, in_flight: running.inFlight() });
    running.shutdown();
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => [signal, () => stop(signal)] as const);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  await running.server.finished;
  await running.shutdown();
  await audit?.close();
  for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
