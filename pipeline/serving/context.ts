/**
 * What the route groups share: the Hono environment type and the server's parts, passed in
 * explicitly so every route group can be built (and tested) with its own.
 * @module
 */

import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ServerConfig } from "./config.ts";
import type { Logger } from "./log.ts";
import type { ServerMetrics } from "./prometheus.ts";
import type { ModelHolder, ServingModel } from "./model_holder.ts";
import type { PredictionPool } from "./predict_pool.ts";
import type { PredictionExtension } from "./prediction.ts";
import type { AuditStore } from "./audit/store.ts";
import { ApiError } from "./errors.ts";
import type { FreeSpace } from "./batch_disk.ts";

/** Per-request variables. */
export type AppEnv = { Variables: { requestId: string; correlationId?: string } };

/**
 * What the server hands `app.fetch` beside the request: the connection, and for a `/predict`
 * whose body the server has already read (server.ts), that body as text.
 */
export interface ServeBindings {
  info?: Deno.ServeHandlerInfo<Deno.NetAddr>;
  bodyText?: string;
  /** When the server began reading that body (`performance.now()`): the request's duration counts from it. */
  receivedAt?: number;
}

/** The application type. */
export type App = OpenAPIHono<AppEnv>;

/** The server's parts. */
export interface AppDeps {
  readonly holder: ModelHolder;
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  /** Workers for large batches, or null to score on the request's thread. */
  readonly pool: PredictionPool | null;
  readonly extensions: readonly PredictionExtension[];
  /** The folder served at `/` (a file URL ending in `/`). */
  readonly staticRoot: URL;
  /** The audit trail, or null when it is off; `/ready` and `/metrics` report its health. */
  readonly audit?: AuditStore | null;
  /** Free disk space under a folder, for batch admission (default: `statfs`); tests inject their own. */
  readonly freeSpace?: FreeSpace;
}

/** The model serving now, or 503 when none is loaded yet. */
export function requireModel(holder: ModelHolder): ServingModel {
  const serving = holder.current;
  if (!serving) {
    throw new ApiError(503, "model_unavailable", "no model is loaded yet; train one and POST /admin/reload");
  }
  return serving;
}

/**
 * Answers whose whole body is already in memory (a `/predict` decision): the server counts them
 * as produced at once. Any other answer may still be streaming, so the client guard's idle
 * deadline starts only once its body has been read to the end, which costs a stream wrapper
 * around the body (and Deno's fast path for in-memory bodies) on every answer.
 */
export const inMemoryAnswers: WeakSet<Response> = new WeakSet();
