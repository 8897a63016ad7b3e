/**
 * The audit trail: every decision served (each `/predict` answer and each scored row of
 * `/predict/batch`) is one row, committed before the answer is sent, in SQLite (the embedded
 * default, `AUDIT_PATH`) or PostgreSQL (`AUDIT_URL`, replicas sharing one trail).
 *
 * | module | job |
 * | --- | --- |
 * | `store.ts` | the contract both backends keep, group commit's request side, the errors |
 * | `sqlite.ts`, `worker.ts` | the SQLite trail and its writer, checkpointer and reader threads |
 * | `postgres.ts` | the PostgreSQL trail |
 * | `migrations.ts` | the schema as numbered migrations, for both backends |
 * | `schema.ts` | a decision as recorded, a row as stored, the threads' messages |
 * | `trail.ts` | what the routes call: decisions into the trail and the drift window |
 * | `pseudonym.ts` | keyed pseudonyms of batch row ids |
 * | `metrics.ts` | the trail's Prometheus series |
 * | `purge.ts` | retention: deleting rows past `AUDIT_RETENTION_DAYS` |
 * @module
 */

import type { ServerConfig } from "../config.ts";
import { PostgresAuditLog } from "./postgres.ts";
import { SqliteAuditLog } from "./sqlite.ts";
import type { AuditStore } from "./store.ts";

export { CHECKPOINT_INTERVAL_MS, JOURNAL_SIZE_LIMIT } from "./schema.ts";
export {
  type AuditEntry,
  AuditError,
  type AuditHealth,
  type AuditMetrics,
  type AuditPage,
  type AuditQuery,
  type AuditStore,
  AuditUnavailableError,
  type BatchWriter,
  type DecisionRecord,
} from "./store.ts";
export { MAX_WRITER_RESTARTS, SqliteAuditLog } from "./sqlite.ts";
export { PostgresAuditLog } from "./postgres.ts";
export { type BatchInputs, DecisionTrail, type RequestIds, requestIds } from "./trail.ts";
export { Pseudonymiser } from "./pseudonym.ts";
export { renderAuditMetrics } from "./metrics.ts";
export { MIGRATIONS, SCHEMA_VERSION } from "./migrations.ts";

/** The embedded SQLite trail (the default backend). */
export const AuditLog = SqliteAuditLog;
/** The embedded SQLite trail (the default backend). */
export type AuditLog = SqliteAuditLog;

/** Opens the trail the settings ask for (PostgreSQL when `AUDIT_URL` is set), or returns null with `AUDIT=off`. */
export function openAuditLog(
  config: Pick<ServerConfig, "auditPath" | "auditSync" | "auditUrl" | "auditTrace">,
  options: { writerLock?: SharedArrayBuffer } = {},
): Promise<AuditStore | null> {
  if (config.auditUrl) return PostgresAuditLog.open(config.auditUrl);
  return config.auditPath === null ? Promise.resolve(null) : SqliteAuditLog.open(config.auditPath, {
    synchronous: config.auditSync,
    trace: config.auditTrace,
    writerLock: options.writerLock,
  });
}
