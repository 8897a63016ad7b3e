/**
 * The prediction service on a real socket: {@link startServer} serves the app with graceful
 * shutdown, and {@link serveMain} is what `deno task serve` (serve.ts) and `deno task start` run.
 * @module
 */

import { createApp, type CreateAppOptions } from "./app.ts";
import { ModelLoadError } from "../model/artifact.ts";
import { importPublicKey, type ModelPublicKey, SigningKeyError } from "../model/signature.ts";
import { AuditError, type AuditStore, openAuditLog } from "./audit/log.ts";
import { defaultModelsDir, healthcheck, parseServeFlags, SERVE_USAGE } from "./flags.ts";
import { ConfigError, configFromEnv, DEFAULT_CONFIG, type ServerConfig } from "./config.ts";
import { type App, inMemoryAnswers, type ServeBindings } from "./context.ts";
import { concatChunks, declaredWithin, mediaTypeOf, UTF8 } from "./body.ts";
import { ApiError, body } from "./errors.ts";
import { ClientGuard, type GuardedConnection } from "./client_guard.ts";
import { DeadlineQueue } from "./deadline_queue.ts";
import { ServerMetrics } from "./prometheus.ts";
import { Logger } from "./log.ts";
import { ModelHolder } from "./model_holder.ts";
import { PredictionPool } from "./predict_pool.ts";
import { type ReplicaHooks, superviseReplicas } from "./replicas.ts";

/** A server listening on a socket. */
export interface RunningServer {
  readonly url: URL;
  /** `Deno.serve`'s server with the client guard off; behind the guard, null (it serves each connection). */
  readonly server: Deno.HttpServer<Deno.NetAddr> | null;
  readonly app: App;
  /** The front enforcing the slow-client deadlines and the connection cap, or null when off. */
  readonly guard: ClientGuard | null;
  /** Resolves once the server has stopped serving (after {@link shutdown}). */
  readonly finished: Promise<void>;
  /** Requests being handled now (bodies still arriving included). */
  readonly inFlight: () => number;
  /**
   * Drains, then stops: requests in flight finish (their bodies may still be arriving), new ones
   * are answered 503 with `Connection: close`; after `SHUTDOWN_TIMEOUT_SECONDS` the connections
   * still open are closed; then the socket closes and the workers stop.
   */
  shutdown(): Promise<void>;
}

/** The default of how long a shutdown waits for requests in flight (`SHUTDOWN_TIMEOUT_SECONDS`). */
export const DRAIN_TIMEOUT_MS = DEFAULT_CONFIG.shutdownTimeoutSeconds * 1000;

/** Serves the app on `config.hostname:config.port` (port 0 picks a free one). */
export function startServer(options: CreateAppOptions): RunningServer {
  const config: ServerConfig = { ...DEFAULT_CONFIG, modelsDir: options.holder.modelsDir, ...options.config };
  const logger = options.logger ?? new Logger(config.logLevel);
  const metrics = options.metrics ?? new ServerMetrics();
  const pool = options.pool !== undefined
    ? options.pool
    : config.batchWorkers > 0
    ? new PredictionPool(config.batchWorkers).warm()
    : null;
  const app = createApp({ ...options, config, logger, metrics, pool });
  const bodyTimeoutMs = config.bodyTimeoutSeconds * 1000;
  const bodyDeadlines = new DeadlineQueue(bodyTimeoutMs);
  let guard: ClientGuard | null = null;
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  // Deno's own shutdown cuts request bodies still being read, so requests are counted and drained first.
  const handler = async (
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    connection?: GuardedConnection,
  ): Promise<Response> => {
    if (draining) {
      return Response.json(body("shutting_down", "the server is shutting down; retry", ""), {
        status: 503,
        headers: { Connection: "close", "Retry-After": "1" },
      });
    }
    inFlight++;
    let finished = false;
    const finish = () => {
      if (!finished) connection?.requestFinished();
      finished = true;
    };
    connection?.requestStarted();
    let stalled = false;
    try {
      const onStall = () => {
        stalled = true;
        connection?.drop();
      };
      let timed = request;
      let bodyText: string | undefined;
      let receivedAt: number | undefined;
      if (request.body !== null) {
        if (isSmallPredict(request, config.maxBodyBytes)) {
          receivedAt = performance.now();
          const read = await readBodyWithin(request, bodyDeadlines, bodyTimeoutMs);
          if (read.ok) bodyText = read.text;
          else {
            if (read.error instanceof ApiError) onStall();
            timed = failingBody(request, read.error);
          }
        } else timed = withBodyDeadline(request, bodyTimeoutMs, onStall);
      }
      let response = await app.fetch(timed, { info, bodyText, receivedAt } satisfies ServeBindings);
      // Whatever the app made of a body cut short (a parse error), the answer is the timeout.
      if (stalled) response = stalledAnswer(response, bodyTimeoutMs);
      if (!connection || inMemoryAnswers.has(response) || response.body === null) {
        finish();
        return response;
      }
      // The next request's header deadline starts when this answer has been produced, not before;
      // meanwhile each chunk the client takes keeps its send deadline.
      return new Response(streamed(response.body, connection, finish), response);
    } catch (error) {
      finish();
      throw error;
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };
  const onError = (error: unknown) => {
    logger.error("unhandled server error", { error });
    return Response.json(body("internal_error", "the server failed", ""), { status: 500 });
  };
  let server: Deno.HttpServer<Deno.NetAddr> | null = null;
  if (config.clientGuard) {
    guard = ClientGuard.listen({
      hostname: config.hostname,
      port: config.port,
      // Replicas started by `WORKERS=N` share the port; the kernel spreads connections among them.
      reusePort: config.workers > 1,
      headerTimeoutMs: config.headerTimeoutSeconds * 1000,
      sendTimeoutMs: bodyTimeoutMs,
      maxConnections: config.maxConnections,
      handler,
      onError,
      onClose: (reason) => metrics.connectionClosed(reason),
    });
    const counted = guard;
    metrics.countConnections(() => counted.connections);
  } else {
    server = Deno.serve({
      port: config.port,
      hostname: config.hostname,
      reusePort: config.workers > 1,
      onListen: () => {},
      onError,
    }, (request, info) => handler(request, info));
  }
  const address = guard?.addr ?? server!.addr;
  const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  const url = new URL(`http://${host}:${address.port}/`);
  logger.info("listening", {
    url: url.href,
    model_version: options.holder.current?.version ?? null,
    client_guard: guard !== null,
  });
  let stopping: Promise<void> | undefined;
  // Behind the guard no Deno.serve finishes: the shutdown's end is the server's.
  const stopped = Promise.withResolvers<void>();
  const finished = server ? server.finished : stopped.promise;
  const shutdown = async () => {
    const deadline = performance.now() + config.shutdownTimeoutSeconds * 1000;
    const until = (work: Promise<unknown>) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return Promise.race([
        work,
        new Promise<void>((resolve) =>
          timer = setTimeout(resolve, Math.max(0, deadline - performance.now()))
        ),
      ]).finally(() => clearTimeout(timer));
    };
    draining = true;
    await guard?.stopAccepting();
    guard?.closeIdle();
    if (inFlight > 0) await until(new Promise<void>((resolve) => (drained = resolve)));
    // Deno's shutdown sends the answers under way and closes each connection after its answer;
    // what is still open at the deadline (a stalled upload) is closed rather than waited for.
    if (guard) {
      guard.shutdownConnections();
      await until(guard.allClosed());
      await guard.close();
    } else {
      const closing = server!.shutdown();
      await until(closing);
      await closing;
    }
    pool?.close();
    bodyDeadlines.close();
    logger.info("stopped");
  };
  return {
    url,
    server,
    app,
    guard,
    finished,
    inFlight: () => inFlight,
    shutdown: () => stopping ??= shutdown().finally(stopped.resolve),
  };
}

/**
 * Whether `request` is a `POST /predict` with a JSON body of a declared length within `limit`:
 * the one request whose body every route reads whole, so the server reads it before the app
 * (see {@link readBodyWithin}). Anything else is left to the app, behind {@link withBodyDeadline}.
 */
function isSmallPredict(request: Request, limit: number): boolean {
  if (request.method !== "POST") return false;
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", start);
  if ((query < 0 ? url.length : query) - start !== 8 || !url.startsWith("/predict", start)) return false;
  const headers = request.headers;
  return declaredWithin(headers.get("content-length"), limit) &&
    mediaTypeOf(headers.get("content-type")) === "application/json";
}

/**
 * The whole body as text, under the same deadline as {@link withBodyDeadline} (every read within
 * `ms`, kept by `deadlines`), read straight from Deno's own stream: the app then gets the original
 * request and the text beside it, where a wrapped stream and a copied Request cost ~30–80 µs of
 * the HTTP thread per `/predict` (measured; see bench/README.md).
 */
async function readBodyWithin(
  request: Request,
  deadlines: DeadlineQueue,
  ms: number,
): Promise<{ ok: true; text: string } | { ok: false; error: unknown }> {
  const reader = request.body!.getReader();
  let timedOut: ApiError | null = null;
  const expired = () => {
    timedOut = bodyTimeout(ms);
    reader.cancel(timedOut).catch(() => {});
  };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let deadline = deadlines.start(expired);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      deadline.cancel();
      if (timedOut) return { ok: false, error: timedOut };
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      deadline = deadlines.start(expired);
    }
  } catch (error) {
    return { ok: false, error: timedOut ?? error };
  } finally {
    deadline.cancel();
  }
  return { ok: true, text: UTF8.decode(concatChunks(chunks, size)) };
}

/** `request` with a body that fails with `error` when read: the app answers as it would have to the read failing. */
function failingBody(request: Request, error: unknown): Request {
  return requestWithBody(request, new ReadableStream({ start: (controller) => controller.error(error) }));
}

/**
 * `request` with `stream` as its body. Built from the URL, not from `request`: a Request copied
 * from another follows its abort signal, and Deno then aborts that signal with a new DOMException
 * (a stack trace captured) after every answer: ~20 µs a request, measured. No route reads the signal.
 */
function requestWithBody(request: Request, stream: ReadableStream<Uint8Array>): Request {
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: stream,
    duplex: "half",
  } as RequestInit);
}

/** The 408 that replaces the app's answer to a request whose body stalled. */
function stalledAnswer(answered: Response, ms: number): Response {
  answered.body?.cancel().catch(() => {});
  const requestId = answered.headers.get("X-Request-Id") ?? "";
  const headers = new Headers(answered.headers);
  headers.delete("content-length");
  headers.set("Connection", "close");
  return Response.json(
    body("request_timeout", `the request body stalled: no data for ${ms / 1000} s`, requestId),
    { status: 408, headers },
  );
}

/** Thrown into a request body that stalled: the handler answers 408. */
function bodyTimeout(ms: number): ApiError {
  return new ApiError(408, "request_timeout", `the request body stalled for ${ms / 1000} s`);
}

/**
 * The request with a body whose every read must complete within `ms` (pulled on demand, so the
 * time the app spends between reads does not count). On a stall, `stalled` runs (the guard drops
 * the connection) and the read fails with 408.
 */
function withBodyDeadline(request: Request, ms: number, stalled: () => void): Request {
  const reader = request.body!.getReader();
  const timed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(bodyTimeout(ms)), ms)
      );
      try {
        const { done, value } = await Promise.race([reader.read(), deadline]);
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        if (error instanceof ApiError) {
          stalled();
          reader.cancel(error).catch(() => {});
        }
        controller.error(error);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  return requestWithBody(request, timed);
}

/**
 * `body` as sent on a guarded `connection`: each chunk waits for the client under the send
 * deadline (from when it is offered until the next is asked for), and `done` runs once when the
 * body has been read to its end, failed or been cancelled.
 */
function streamed(
  body: ReadableStream<Uint8Array>,
  connection: GuardedConnection,
  done: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    connection.chunkTaken();
    done();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      connection.chunkTaken();
      try {
        const next = await reader.read();
        if (next.done) {
          end();
          controller.close();
        } else {
          controller.enqueue(next.value);
          connection.chunkOffered();
        }
      } catch (error) {
        end();
        controller.error(error);
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * The public key of `MODEL_PUBLIC_KEY` (or `MODEL_PUBLIC_KEY_FILE`), or undefined when neither is
 * set. A key file inside the models folder is refused: whoever can write a model there could then
 * also replace the key that vouches for it.
 */
export async function modelPublicKey(
  config: Pick<ServerConfig, "modelPublicKey" | "modelPublicKeyFile" | "modelsDir">,
): Promise<ModelPublicKey | undefined> {
  if (config.modelPublicKey) return await importPublicKey(config.modelPublicKey, "MODEL_PUBLIC_KEY");
  const file = config.modelPublicKeyFile;
  if (!file) return undefined;
  let real: string;
  let text: string;
  try {
    real = await Deno.realPath(file);
    text = await Deno.readTextFile(real);
  } catch (error) {
    throw new SigningKeyError(`MODEL_PUBLIC_KEY_FILE ${file} cannot be read: ${(error as Error).message}`);
  }
  const models = await Deno.realPath(config.modelsDir).catch(() => null);
  if (models !== null && (real === models || real.startsWith(`${models}/`))) {
    throw new SigningKeyError(
      `MODEL_PUBLIC_KEY_FILE ${file} is inside the models folder ${config.modelsDir}: keep the key ` +
        `in deployment config, where whoever writes models cannot replace it`,
    );
  }
  return await importPublicKey(text, `MODEL_PUBLIC_KEY_FILE ${file}`);
}

/**
 * `deno task serve`: loads the model (exit 1 when it is refused), serves, and stops cleanly on
 * SIGINT/SIGTERM. With `WORKERS=N` (N > 1) it runs N replicas on worker threads sharing the port
 * (replicas.ts); each replica runs this same function with `replica` hooks instead of signals.
 */
export async function serveMain(args: string[] = [], replica?: ReplicaHooks): Promise<number> {
  let config: ServerConfig;
  let flags;
  try {
    flags = parseServeFlags(args);
    const env = {
      MODELS_DIR: defaultModelsDir(new URL("../../serve.ts", import.meta.url).href),
      ...flags.env,
    };
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
  if (!replica && config.workers > 1) return await superviseReplicas(args, config, logger);
  let publicKey: ModelPublicKey | undefined;
  try {
    publicKey = await modelPublicKey(config);
  } catch (error) {
    if (!(error instanceof SigningKeyError)) throw error;
    console.error(`serve: ${error.message}`);
    return 2;
  }
  let holder: ModelHolder;
  try {
    holder = await ModelHolder.open(
      { modelsDir: config.modelsDir, modelPath: config.modelPath, publicKey },
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
      signed_by: serving.signedBy,
      path: serving.path,
    });
    if (!serving.verified) logger.warn("the model is not in the registry: its sha256 could not be verified");
  } else {
    logger.warn(
      "no production model yet: /ready answers 503 until a model is trained and POST /admin/reload",
    );
  }
  let audit: AuditStore | null;
  try {
    audit = await openAuditLog(config, { writerLock: replica?.writerLock });
  } catch (error) {
    if (!(error instanceof AuditError)) throw error;
    console.error(`serve: ${error.message}`);
    return 1;
  }
  logger.info("audit trail", {
    backend: audit?.backend ?? null,
    location: audit?.location ?? null,
    synchronous: audit?.synchronous ?? null,
  });
  if (audit && !config.auditPseudonymKey) {
    logger.warn(
      "AUDIT_PSEUDONYM_KEY is unset: batch row ids are pseudonymised with a key of this process only",
    );
  }
  if (replica) {
    // A replica listens only once every replica is prepared (replicas.ts).
    const go = await Promise.race([replica.prepared(), replica.stopping.then(() => "stop" as const)]);
    if (go === "stop") {
      await audit?.close();
      return 0;
    }
    if (go !== undefined) config = { ...config, port: go };
  }
  const running = startServer({ holder, config, logger, audit });
  if (replica) {
    replica.listening(running.url);
    await replica.stopping;
    await running.shutdown();
    await audit?.close();
    return 0;
  }
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
  await running.finished;
  await running.shutdown();
  await audit?.close();
  for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  return 0;
}
