/**
 * The SQLite trail's statements over `decisions` and `decisions_keys` (migration 3), as functions of
 * a connection, used by its threads (worker.ts) and testable on a plain `DatabaseSync`.
 *
 * `decisions_keys` holds a copy of the columns `GET /audit` filters by (but the request id, indexed
 * on `decisions` itself), and their indexes, for every row up to the highest `seq` it holds (its
 * watermark); rows committed since are in `decisions` only. A commit then writes the table's pages
 * and its request ids' only, and {@link indexKeys} brings the keys up to date in bulk (the writer
 * does it every second). Every read covers both parts in one statement (one snapshot): the indexed
 * keys, and the few rows above the watermark, scanned.
 *
 * Why it is correct: a new row's `seq` is above every `seq` in the table, and the keys only ever
 * gain a whole run of rows above their watermark or lose the rows a purge deletes from both tables
 * in one transaction, so every row at or below the watermark has its keys.
 * @module
 */

import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import type { AuditEntry, AuditQuery, StoredRow } from "./schema.ts";
import { toEntry } from "./schema.ts";

/** The columns copied into `decisions_keys`. */
const KEY_COLUMNS = [
  "seq",
  "correlation_id",
  "time",
  "model_version",
  "decision",
] as const;

const keyList = KEY_COLUMNS.join(", ");
/** The rows of `decisions` the keys do not cover yet: a range of its primary key, so a short scan. */
const UNINDEXED = "seq > (SELECT coalesce(max(seq), 0) FROM decisions_keys)";

/**
 * Runs `fn` in a write transaction taken at once (`BEGIN IMMEDIATE`, so it waits for the lock here
 * rather than failing at its first write) and commits, or rolls back and rethrows; returns `fn`'s value.
 */
export function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const value = fn();
    db.exec("COMMIT");
    return value;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/**
 * Copies the keys of up to `maxRows` rows above the watermark into `decisions_keys`, oldest first,
 * in the caller's transaction; returns how many. Idempotent: a second call finds nothing to copy.
 */
export function indexKeys(db: DatabaseSync, maxRows: number): number {
  const copied = db.prepare(
    `INSERT INTO decisions_keys (${keyList}) SELECT ${keyList} FROM decisions WHERE ${UNINDEXED} ` +
      "ORDER BY seq LIMIT ?",
  ).run(maxRows);
  return Number(copied.changes);
}

/** Rows of `decisions` whose keys are not indexed yet. */
export function unindexedRows(db: DatabaseSync): number {
  return Number(
    (db.prepare(`SELECT count(*) AS n FROM decisions WHERE ${UNINDEXED}`).get() as { n: number }).n,
  );
}

/** One page, newest first, with the filters the indexes serve. */
export function page(
  db: DatabaseSync,
  query: AuditQuery,
): { items: AuditEntry[]; next_cursor: string | null } {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  if (query.cursor !== undefined) where.push("seq < ?"), params.push(query.cursor);
  if (query.decision !== undefined) where.push("decision = ?"), params.push(query.decision);
  if (query.modelVersion !== undefined) where.push("model_version = ?"), params.push(query.modelVersion);
  if (query.requestId !== undefined) where.push("request_id = ?"), params.push(query.requestId);
  if (query.correlationId !== undefined) where.push("correlation_id = ?"), params.push(query.correlationId);
  if (query.from !== undefined) where.push("time >= ?"), params.push(query.from);
  if (query.to !== undefined) where.push("time < ?"), params.push(query.to);
  const filter = where.join(" AND ");
  const wanted = query.limit + 1;
  if (query.requestId !== undefined) {
    // A request id has a few rows at most, found through the table's own index, indexed or not.
    const rows = db.prepare(`SELECT * FROM decisions WHERE ${filter} ORDER BY seq DESC LIMIT ?`)
      .all(...params, wanted) as unknown as StoredRow[];
    return pageOf(rows, query.limit);
  }
  // The page's keys first, from the keys' indexes (each holds seq) and from the unindexed rows,
  // then only those rows: sorting the keys of an hour's decisions is cheap, sorting the decisions
  // themselves is not.
  const indexed = `SELECT seq FROM decisions_keys ${
    filter ? `WHERE ${filter}` : ""
  } ORDER BY seq DESC LIMIT ?`;
  const recent = `SELECT seq FROM decisions WHERE ${UNINDEXED} ${filter ? `AND ${filter}` : ""} ` +
    "ORDER BY seq DESC LIMIT ?";
  const sql = `SELECT * FROM decisions WHERE seq IN (SELECT seq FROM (${indexed}) UNION ALL ` +
    `SELECT seq FROM (${recent})) ORDER BY seq DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...params, wanted, ...params, wanted, wanted) as unknown as StoredRow[];
  return pageOf(rows, query.limit);
}

function pageOf(rows: StoredRow[], limit: number): { items: AuditEntry[]; next_cursor: string | null } {
  const more = rows.length > limit;
  const items = rows.slice(0, limit).map(toEntry);
  return { items, next_cursor: more ? String(items[items.length - 1].seq) : null };
}

/**
 * Deletes up to `maxRows` rows decided before `before` (ISO), with their keys, in the caller's
 * transaction; returns how many. The indexed keys are looked up by time; the rows above the
 * watermark are scanned.
 */
export function purgeChunk(db: DatabaseSync, before: string, maxRows: number): number {
  // Empty here: the DELETE at the end empties it in the same transaction, and a failure rolls back
  // the temporary table's rows with the rest.
  db.exec("CREATE TEMP TABLE IF NOT EXISTS purged (seq INTEGER PRIMARY KEY)");
  const indexed = db.prepare("INSERT INTO temp.purged SELECT seq FROM decisions_keys WHERE time < ? LIMIT ?")
    .run(before, maxRows);
  const left = maxRows - Number(indexed.changes);
  if (left > 0) {
    db.prepare(`INSERT INTO temp.purged SELECT seq FROM decisions WHERE ${UNINDEXED} AND time < ? LIMIT ?`)
      .run(before, left);
  }
  db.exec("DELETE FROM decisions_keys WHERE seq IN (SELECT seq FROM temp.purged)");
  const deleted = db.prepare("DELETE FROM decisions WHERE seq IN (SELECT seq FROM temp.purged)").run();
  db.exec("DELETE FROM temp.purged");
  return Number(deleted.changes);
}
