/**
 * The server's settings, read once from the environment and checked, so a typo in a variable
 * stops the start with a message instead of surfacing as odd behaviour later.
 * @module
 */

import { DEFAULT_MODELS_DIR } from "../tracking/mod.ts";
import type { LogLevel } from "./log.ts";

/** Everything the server can be told from outside. */
export interface ServerConfig {
  /** `PORT`: TCP port (0 picks a free one). */
  port: number;
  /** `HOST`: address to listen on. */
  hostname: string;
  /** `MODELS_DIR`: registry and runs. */
  modelsDir: string;
  /** `MODEL`: serve this artifact instead of the registry's production model. */
  modelPath?: string;
  /** `REVIEW_MARGIN`: P(bad) within this distance of the threshold is sent to review (0 = off). */
  reviewMargin: number;
  /** `BATCH_MAX_ROWS`: rows accepted in one JSON batch (refused on reading the row past it). */
  batchMaxRows: number;
  /** `BATCH_MAX_CSV_ROWS`: rows accepted in one CSV batch (refused on reading the row past it). */
  batchMaxCsvRows: number;
  /** `BATCH_MIN_FREE_BYTES`: new batches are refused (503) while the audit folder's disk has less free. */
  batchMinFreeBytes: number;
  /** `BATCH_SPOOL_DIR`: where a CSV batch's answer waits until its rows are committed (default: the audit folder). */
  batchSpoolDir?: string;
  /** `MAX_BODY_BYTES`: body limit of single-record routes. */
  maxBodyBytes: number;
  /** `MAX_BATCH_BODY_BYTES`: body limit of `/predict/batch`. */
  maxBatchBodyBytes: number;
  /** `ADMIN_TOKEN`: bearer token of `/admin/*`; admin routes answer 404 when unset. */
  adminToken?: string;
  /** `LOG_LEVEL` (debug, info, warn, error, off) or `LOG=off`. */
  logLevel: LogLevel;
  /**
   * `BATCH_WORKERS`: prediction worker threads of each replica (0 = score on the main thread).
   * Default {@link defaultBatchWorkers}: min(4, cores) shared among the `WORKERS` replicas.
   */
  batchWorkers: number;
  /** `BATCH_CONCURRENCY`: batches scored at once; more are answered 429 with Retry-After. */
  batchConcurrency: number;
  /** `BATCH_TOKEN`: when set, `POST /predict/batch` needs `Authorization: Bearer <BATCH_TOKEN>`. */
  batchToken?: string;
  /** `AUDIT_PATH` (or `AUDIT_DB`): the audit trail's SQLite file; null with `AUDIT=off`. */
  auditPath: string | null;
  /** `AUDIT_URL`: a `postgres://` URL; the trail is then on PostgreSQL instead of `auditPath`. */
  auditUrl?: string | null;
  /** `AUDIT_SYNC`: `full` (default) fsyncs each commit (survives a power cut); `normal` survives a killed process. */
  auditSync: "full" | "normal";
  /** `AUDIT_TRACE`: a path prefix; the SQLite trail's threads write their timings there on close (diagnosis). */
  auditTrace?: string;
  /** `AUDIT_TOKEN`: bearer token of `GET /audit` (the route is absent when unset; never `ADMIN_TOKEN`). */
  auditToken?: string;
  /** `AUDIT_RETENTION_DAYS`: `deno task audit:purge` deletes decisions older than this (unset: keep all). */
  auditRetentionDays?: number;
  /** `AUDIT_PSEUDONYM_KEY`: key of the batch row ids' pseudonyms (unset: a random key per process). */
  auditPseudonymKey?: string;
  /** `CLIENT_GUARD` (on, off): the TCP front that enforces the deadlines and the cap below (client_guard.ts). */
  clientGuard: boolean;
  /** `HEADER_TIMEOUT_SECONDS`: a request's headers must arrive within this of connecting or of the last answer. */
  headerTimeoutSeconds: number;
  /** `BODY_TIMEOUT_SECONDS`: the longest wait for each piece of a request body, and for each write of an answer. */
  bodyTimeoutSeconds: number;
  /** `MAX_CONNECTIONS`: client connections open at once; more are answered 503 and closed. */
  maxConnections: number;
  /** `SHUTDOWN_TIMEOUT_SECONDS`: how long a shutdown waits for requests in flight before closing them. */
  shutdownTimeoutSeconds: number;
  /**
   * `WORKERS`: replicas sharing the port (each with its own model copy and, unless `BATCH_WORKERS`
   * is set, its share of the default prediction pool).
   */
  workers: number;
  /** `DRIFT_WINDOW`: the latest decisions `/monitoring` compares with the training data. */
  driftWindow: number;
  /** `MONITORING_TOKEN`: bearer token of `GET /monitoring` (the route is absent when unset). */
  monitoringToken?: string;
  /**
   * `MONITORING_MIN_BIN`: k. Bin counts of an attribute are published only when each of its bins
   * holds at least k decisions, and a new report only when k decisions arrived since the last.
   */
  monitoringMinBin: number;
  /** `MONITORING_REFRESH_SECONDS`: how often the published report may be recomputed. */
  monitoringRefreshSeconds: number;
  /**
   * `MODEL_PUBLIC_KEY`: the Ed25519 public key (SPKI, base64 or PEM) models must be signed with;
   * unset, models are served unsigned as before.
   */
  modelPublicKey?: string;
  /** `MODEL_PUBLIC_KEY_FILE`: the same key read from a PEM file (outside the models folder). */
  modelPublicKeyFile?: string;
}

const CORES = Math.max(1, navigator.hardwareConcurrency || 1);

/**
 * `BATCH_WORKERS`'s default for one of `workers` replicas: min(4, cores) split among them, at least
 * one each. Each replica starts its own pool: min(4, cores) per replica ran 4 pool threads beside 2
 * replica threads with `WORKERS=2` on 2 cores, and `/predict` waited behind an explained batch.
 */
export function defaultBatchWorkers(cores: number, workers: number): number {
  return Math.max(1, Math.floor(Math.min(4, cores) / workers));
}

/** Defaults for everything not set. */
export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze({
  port: 8000,
  hostname: "0.0.0.0",
  modelsDir: DEFAULT_MODELS_DIR,
  reviewMargin: 0,
  batchMaxRows: 10_000,
  batchMaxCsvRows: 1_000_000,
  batchMinFreeBytes: 1024 * 1024 * 1024,
  maxBodyBytes: 1024 * 1024,
  maxBatchBodyBytes: 128 * 1024 * 1024,
  logLevel: "info",
  batchWorkers: defaultBatchWorkers(CORES, 1),
  batchConcurrency: 2,
  auditPath: "data/audit/audit.sqlite",
  auditSync: "full",
  workers: 1,
  clientGuard: true,
  headerTimeoutSeconds: 10,
  bodyTimeoutSeconds: 30,
  maxConnections: 1000,
  shutdownTimeoutSeconds: 10,
  driftWindow: 10_000,
  monitoringMinBin: 20,
  monitoringRefreshSeconds: 60,
});

/** A setting that cannot be used, naming the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "off"];

/** Reads the settings from environment variables (`get` defaults to `Deno.env.get`). */
export function configFromEnv(
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): ServerConfig {
  const integer = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const raw = get(name);
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(
        `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`,
      );
    }
    return value;
  };
  const margin = get("REVIEW_MARGIN");
  const reviewMargin = margin === undefined || margin === "" ? 0 : Number(margin);
  if (!(reviewMargin >= 0 && reviewMargin < 0.5)) {
    throw new ConfigError(
      `REVIEW_MARGIN must be a number from 0 to below 0.5, got ${JSON.stringify(margin)}`,
    );
  }
  const level = get("LOG") === "off" ? "off" : (get("LOG_LEVEL") || DEFAULT_CONFIG.logLevel).toLowerCase();
  if (!LEVELS.includes(level as LogLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(", ")}, got ${JSON.stringify(level)}`);
  }
  const token = get("ADMIN_TOKEN");
  if (token !== undefined && token !== "" && token.length < 16) {
    throw new ConfigError("ADMIN_TOKEN must be at least 16 characters long");
  }
  const audit = get("AUDIT") || "on";
  const auditSync = (get("AUDIT_SYNC") || DEFAULT_CONFIG.auditSync).toLowerCase();
  const auditToken = get("AUDIT_TOKEN");
  if (!["on", "off"].includes(audit) || !["full", "normal"].includes(auditSync)) {
    throw new ConfigError(
      `AUDIT must be on or off and AUDIT_SYNC full or normal, got ${audit}, ${auditSync}`,
    );
  }
  if (auditToken !== undefined && auditToken !== "" && auditToken.length < 16) {
    throw new ConfigError("AUDIT_TOKEN must be at least 16 characters long");
  }
  const batchToken = get("BATCH_TOKEN");
  if (batchToken !== undefined && batchToken !== "" && batchToken.length < 16) {
    throw new ConfigError("BATCH_TOKEN must be at least 16 characters long");
  }
  if (auditToken && auditToken === token) {
    throw new ConfigError(
      "AUDIT_TOKEN must differ from ADMIN_TOKEN: one reads personal data, the other swaps models",
    );
  }
  const guard = (get("CLIENT_GUARD") || "on").toLowerCase();
  if (!["on", "off"].includes(guard)) throw new ConfigError(`CLIENT_GUARD must be on or off, got ${guard}`);
  const monitoringToken = get("MONITORING_TOKEN") || undefined;
  if (monitoringToken !== undefined && monitoringToken.length < 16) {
    throw new ConfigError("MONITORING_TOKEN must be at least 16 characters long");
  }
  if (monitoringToken && monitoringToken === token) {
    throw new ConfigError(
      "MONITORING_TOKEN must differ from ADMIN_TOKEN: one reads drift, the other swaps models",
    );
  }
  const auditUrl = get("AUDIT_URL") || undefined;
  if (auditUrl !== undefined && !/^postgres(ql)?:\/\/[^/]/.test(auditUrl)) {
    throw new ConfigError(
      "AUDIT_URL must be a postgres:// URL (postgres://user:password@host:5432/database)",
    );
  }
  const pseudonymKey = get("AUDIT_PSEUDONYM_KEY") || undefined;
  if (pseudonymKey !== undefined && pseudonymKey.length < 16) {
    throw new ConfigError("AUDIT_PSEUDONYM_KEY must be at least 16 characters long");
  }
  const retention = get("AUDIT_RETENTION_DAYS");
  const workers = integer("WORKERS", DEFAULT_CONFIG.workers, 1, 64);
  const modelPublicKey = get("MODEL_PUBLIC_KEY") || undefined;
  const modelPublicKeyFile = get("MODEL_PUBLIC_KEY_FILE") || undefined;
  if (modelPublicKey && modelPublicKeyFile) {
    throw new ConfigError("set MODEL_PUBLIC_KEY or MODEL_PUBLIC_KEY_FILE, not both");
  }
  return {
    port: integer("PORT", DEFAULT_CONFIG.port, 0, 65_535),
    hostname: get("HOST") || DEFAULT_CONFIG.hostname,
    modelsDir: get("MODELS_DIR") || DEFAULT_CONFIG.modelsDir,
    modelPath: get("MODEL") || undefined,
    reviewMargin,
    batchMaxRows: integer("BATCH_MAX_ROWS", DEFAULT_CONFIG.batchMaxRows, 1),
    batchMaxCsvRows: integer("BATCH_MAX_CSV_ROWS", DEFAULT_CONFIG.batchMaxCsvRows, 1),
    batchMinFreeBytes: integer("BATCH_MIN_FREE_BYTES", DEFAULT_CONFIG.batchMinFreeBytes, 0),
    batchSpoolDir: get("BATCH_SPOOL_DIR") || undefined,
    maxBodyBytes: integer("MAX_BODY_BYTES", DEFAULT_CONFIG.maxBodyBytes, 1),
    maxBatchBodyBytes: integer("MAX_BATCH_BODY_BYTES", DEFAULT_CONFIG.maxBatchBodyBytes, 1),
    adminToken: token || undefined,
    logLevel: level as LogLevel,
    batchWorkers: integer("BATCH_WORKERS", defaultBatchWorkers(CORES, workers), 0, 64),
    batchConcurrency: integer("BATCH_CONCURRENCY", DEFAULT_CONFIG.batchConcurrency, 1, 64),
    batchToken: batchToken || undefined,
    auditPath: audit === "off" ? null : get("AUDIT_PATH") || get("AUDIT_DB") || DEFAULT_CONFIG.auditPath,
    auditUrl: audit === "off" ? null : auditUrl ?? null,
    auditSync: auditSync as ServerConfig["auditSync"],
    auditToken: auditToken || undefined,
    auditTrace: get("AUDIT_TRACE") || undefined,
    auditRetentionDays: retention === undefined || retention === ""
      ? undefined
      : integer("AUDIT_RETENTION_DAYS", 0, 1, 100 * 366),
    auditPseudonymKey: pseudonymKey,
    workers,
    clientGuard: guard === "on",
    headerTimeoutSeconds: integer("HEADER_TIMEOUT_SECONDS", DEFAULT_CONFIG.headerTimeoutSeconds, 1, 3600),
    bodyTimeoutSeconds: integer("BODY_TIMEOUT_SECONDS", DEFAULT_CONFIG.bodyTimeoutSeconds, 1, 3600),
    maxConnections: integer("MAX_CONNECTIONS", DEFAULT_CONFIG.maxConnections, 1, 1_000_000),
    shutdownTimeoutSeconds: integer(
      "SHUTDOWN_TIMEOUT_SECONDS",
      DEFAULT_CONFIG.shutdownTimeoutSeconds,
      0,
      3600,
    ),
    driftWindow: integer("DRIFT_WINDOW", DEFAULT_CONFIG.driftWindow, 1, 1_000_000),
    monitoringToken,
    monitoringMinBin: integer("MONITORING_MIN_BIN", DEFAULT_CONFIG.monitoringMinBin, 1, 1_000_000),
    monitoringRefreshSeconds: integer(
      "MONITORING_REFRESH_SECONDS",
      DEFAULT_CONFIG.monitoringRefreshSeconds,
      1,
      86_400,
    ),
    modelPublicKey,
    modelPublicKeyFile,
  };
}
