/**
 * The audit trail on PostgreSQL (`AUDIT_URL=postgres://…`), for replicas that share one trail.
 * Same table, same contract as the SQLite trail: a decision is answered only once its row is
 * committed (PostgreSQL's `synchronous_commit`, `on` by default, flushes the WAL at commit).
 *
 * Group commit: rows recorded in one turn of the event loop are one multi-row insert (`unnest` of
 * one array per column: one statement text whatever the row count, so it is prepared once). At most
 * {@link MAX_INSERTS_IN_FLIGHT} inserts run at once; groups arriving meanwhile wait and go as one.
 *
 * A batch is one transaction on a connection of its own. When the database cannot be reached,
 * writes fail with {@link AuditUnavailableError} (the request answers 503) and
 * {@link PostgresAuditLog.health} says so; the driver reconnects on the next query, so both recover
 * when the database is back.
 * @module
 */

import postgres from "postgres";
import { MIGRATIONS_TABLE, pendingMigrations } from "./migrations.ts";
import {
  type AuditEntry,
  type AuditQuery,
  type RowValues,
  rowValues,
  type StoredRow,
  toEntry,
} from "./schema.ts";
import {
  AuditError,
  type AuditHealth,
  type AuditMetrics,
  type AuditPage,
  type AuditStore,
  AuditUnavailableError,
  type BatchWriter,
  type DecisionRecord,
  describeUrl,
  GroupCommit,
  type PendingGroup,
} from "./store.ts";

/** Inserts running at once; later groups wait and are merged. */
const MAX_INSERTS_IN_FLIGHT = 2;
/** Connections: the inserts, a batch or two, reads and probes. */
const POOL_SIZE = 6;
/** Seconds to wait for a connection before the start (or a probe) gives up. */
const CONNECT_TIMEOUT_S = 5;
/** How long `/ready` waits for `SELECT 1`. */
const PROBE_DEADLINE_MS = 2_000;
/** Rows deleted per statement by a purge. */
const PURGE_CHUNK_ROWS = 5_000;
/** Serialises migrations of replicas starting at once (an arbitrary constant: "credit-a"). */
const MIGRATION_LOCK = 0x63726564_69742d61n;

/** One insert for any number of rows: a column-wise array per parameter. */
const INSERT = `INSERT INTO decisions (request_id, correlation_id, "row", time, model_version, run_id,
  model_sha256, threshold, review_margin, inputs, probability_bad, pd, decision, reasons)
  SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::text[],
  $7::text[], $8::float8[], $9::float8[], $10::text[], $11::float8[], $12::float8[], $13::text[], $14::text[])`;

type Sql = postgres.Sql;

/** Rows as the insert's 14 column arrays. */
function columns(rows: readonly RowValues[]): unknown[][] {
  const out: unknown[][] = Array.from({ length: 14 }, () => new Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let c = 0; c < 14; c++) out[c][r] = row[c];
  }
  return out;
}

/** A failure to reach the server (or a server shutting down) rather than a fault of the statement. */
function unreachable(error: unknown): boolean {
  const code = String((error as { code?: unknown }).code ?? "");
  if (error instanceof postgres.PostgresError) return /^(08|53|57)/.test(code);
  return true; // ECONNREFUSED, CONNECTION_CLOSED, CONNECT_TIMEOUT, …
}

function reason(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const message = e.message || String(error);
  return e.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** The PostgreSQL audit trail. */
export class PostgresAuditLog implements AuditStore {
  readonly backend = "postgres" as const;
  readonly location: string;
  readonly synchronous: string;
  readonly #sql: Sql;
  readonly #group: GroupCommit;
  #inFlight = 0;
  #waiting: PendingGroup[] = [];
  readonly #settling = new Set<Promise<void>>();
  #closing: Promise<void> | null = null;
  #lastWriteFailure: { at: number; message: string } | null = null;
  readonly #metrics = { commits: 0, rows: 0, writeFailures: 0 };

  private constructor(sql: Sql, location: string, synchronous: string, maxBatchRows: number) {
    this.#sql = sql;
    this.location = location;
    this.synchronous = synchronous;
    this.#group = new GroupCommit(
      this.#send,
      () => this.#closing ? new AuditError("the audit trail is closed") : null,
      maxBatchRows,
    );
  }

  /**
   * Connects, brings the schema up to date (one replica at a time) and returns the trail; throws
   * {@link AuditError} naming the host when the database cannot be reached.
   */
  static async open(url: string, options: { maxBatchRows?: number } = {}): Promise<PostgresAuditLog> {
    const location = describeUrl(url);
    let sql: Sql | undefined;
    try {
      sql = postgres(url, {
        max: POOL_SIZE,
        connect_timeout: CONNECT_TIMEOUT_S,
        idle_timeout: 60,
        onnotice: () => {},
        connection: { application_name: "credit-risk-audit" },
      });
      await migrate(sql);
      const [{ synchronous_commit }] = await sql`SHOW synchronous_commit`;
      return new PostgresAuditLog(sql, location, String(synchronous_commit), options.maxBatchRows ?? 4096);
    } catch (error) {
      await sql?.end({ timeout: 0 }).catch(() => {});
      throw new AuditError(
        `cannot open the audit trail on PostgreSQL at ${location}: ${reason(error)}. ` +
          "Check that the database is up and AUDIT_URL is right, or unset AUDIT_URL for the SQLite trail",
        { cause: error },
      );
    }
  }

  /** Commits so far and rows written. */
  get stats(): { commits: number; rows: number } {
    return { commits: this.#metrics.commits, rows: this.#metrics.rows };
  }

  /** Queues one decision; resolves once its row is committed. */
  record(row: DecisionRecord): Promise<void> {
    return this.#group.record(row);
  }

  /** Queues many decisions; resolves once all are committed. */
  recordAll(rows: readonly DecisionRecord[]): Promise<void> {
    return this.#group.recordAll(rows);
  }

  #send = (group: PendingGroup): void => {
    if (this.#inFlight >= MAX_INSERTS_IN_FLIGHT) {
      this.#waiting.push(group);
      return;
    }
    this.#insert([group]);
  };

  #insert(groups: PendingGroup[]): void {
    this.#inFlight++;
    const rows = groups.length === 1 ? groups[0].rows : groups.flatMap((g) => g.rows);
    const done = this.#sql.unsafe(INSERT, columns(rows) as never[], { prepare: true }).then(
      () => {
        this.#metrics.commits++;
        this.#metrics.rows += rows.length;
        this.#lastWriteFailure = null;
        for (const g of groups) g.resolve();
      },
      (error) => {
        this.#metrics.writeFailures++;
        this.#lastWriteFailure = { at: Date.now(), message: reason(error) };
        const Failure = unreachable(error) ? AuditUnavailableError : AuditError;
        const failure = new Failure(
          `audit write failed on PostgreSQL at ${this.location}: ${reason(error)}`,
          {
            cause: error,
          },
        );
        for (const g of groups) g.reject(failure);
      },
    ).finally(() => {
      this.#inFlight--;
      this.#settling.delete(done);
      if (this.#waiting.length > 0) {
        const next = this.#waiting;
        this.#waiting = [];
        this.#insert(next);
      }
    });
    this.#settling.add(done);
  }

  /** A batch: one transaction on a connection of its own, committed or rolled back as a whole. */
  batch(): BatchWriter {
    let conn: postgres.ReservedSql | null = null;
    let begun: Promise<postgres.ReservedSql> | null = null;
    let added = 0;
    const fail = (error: unknown): never => {
      throw new (unreachable(error) ? AuditUnavailableError : AuditError)(
        `audit batch failed on PostgreSQL at ${this.location}: ${reason(error)}`,
        { cause: error },
      );
    };
    const release = () => {
      conn?.release();
      conn = null;
    };
    const start = () =>
      begun ??= (async () => {
        if (this.#closing) throw new AuditError("the audit trail is closed");
        conn = await this.#sql.reserve();
        await conn`BEGIN`;
        return conn;
      })();
    return {
      add: async (records) => {
        try {
          const c = await start();
          await c.unsafe(INSERT, columns(records.map(rowValues)) as never[], { prepare: true });
          added += records.length;
        } catch (error) {
          fail(error);
        }
      },
      commit: async () => {
        try {
          const c = await start();
          await c`COMMIT`;
          this.#metrics.commits++;
          this.#metrics.rows += added;
        } catch (error) {
          fail(error);
        } finally {
          release();
        }
      },
      abort: async () => {
        try {
          if (conn) await conn`ROLLBACK`;
        } catch {
          /* a dead connection rolled back already */
        } finally {
          release();
        }
      },
    };
  }

  /** Sends what is pending and resolves once every insert sent so far has settled. */
  async flush(): Promise<void> {
    this.#group.flushNow();
    while (this.#settling.size > 0 || this.#waiting.length > 0) {
      await Promise.allSettled([...this.#settling]);
    }
  }

  #query<T>(run: (sql: Sql) => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new AuditError("the audit trail is closed"));
    return run(this.#sql).catch((error) => {
      throw new (unreachable(error) ? AuditUnavailableError : AuditError)(
        `audit read failed on PostgreSQL at ${this.location}: ${reason(error)}`,
        { cause: error },
      );
    });
  }

  /** Rows stored. */
  count(): Promise<number> {
    return this.#query(async (sql) => Number((await sql`SELECT count(*) AS n FROM decisions`)[0].n));
  }

  /** One page of the trail, newest first. */
  page(query: AuditQuery): Promise<AuditPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, value: unknown) => {
      params.push(value);
      where.push(condition.replace("?", `$${params.length}`));
    };
    if (query.cursor !== undefined) add("seq < ?", query.cursor);
    if (query.decision !== undefined) add("decision = ?", query.decision);
    if (query.modelVersion !== undefined) add("model_version = ?", query.modelVersion);
    if (query.requestId !== undefined) add("request_id = ?", query.requestId);
    if (query.correlationId !== undefined) add("correlation_id = ?", query.correlationId);
    if (query.from !== undefined) add("time >= ?::timestamptz", query.from);
    if (query.to !== undefined) add("time < ?::timestamptz", query.to);
    params.push(query.limit + 1);
    const text = `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ` +
      `ORDER BY seq DESC LIMIT $${params.length}`;
    return this.#query(async (sql) => {
      const rows = await sql.unsafe(text, params as never[]) as unknown as StoredRow[];
      const more = rows.length > query.limit;
      const items = rows.slice(0, query.limit).map(toEntry);
      return { items, next_cursor: more ? String(items[items.length - 1].seq) : null };
    });
  }

  /** The newest `limit` rows, oldest first. */
  recent(limit: number): Promise<AuditEntry[]> {
    return this.#query(async (sql) => {
      const rows =
        await sql`SELECT * FROM decisions ORDER BY seq DESC LIMIT ${limit}` as unknown as StoredRow[];
      return rows.reverse().map(toEntry);
    });
  }

  /** Deletes rows decided before `before`, a few thousand per statement. */
  purge(before: Date): Promise<number> {
    return this.#query(async (sql) => {
      let total = 0;
      for (;;) {
        const result = await sql`DELETE FROM decisions WHERE seq IN
          (SELECT seq FROM decisions WHERE time < ${before} LIMIT ${PURGE_CHUNK_ROWS})`;
        total += result.count;
        if (result.count < PURGE_CHUNK_ROWS) return total;
      }
    });
  }

  /** Reachable now? `SELECT 1` within {@link PROBE_DEADLINE_MS}. */
  async health(): Promise<AuditHealth> {
    if (this.#closing) return { ok: false, cause: "the audit trail is closed" };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#sql`SELECT 1`,
        new Promise((_, reject) =>
          timer = setTimeout(
            () => reject(new Error(`no answer within ${PROBE_DEADLINE_MS} ms`)),
            PROBE_DEADLINE_MS,
          )
        ),
      ]);
    } catch (error) {
      return {
        ok: false,
        cause: `audit database PostgreSQL at ${this.location} is unreachable: ${reason(error)}`,
      };
    } finally {
      clearTimeout(timer);
    }
    return { ok: true };
  }

  /** Counters for `/metrics`. */
  metrics(): AuditMetrics {
    return { backend: "postgres", ...this.#metrics, writerRestarts: 0 };
  }

  /** Commits what is pending, then closes the connections. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      await this.#sql.end({ timeout: 5 });
    })();
    return this.#closing;
  }
}

/** Applies the migrations the database lacks, one replica at a time (an advisory lock). */
async function migrate(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    await tx.unsafe(MIGRATIONS_TABLE).simple();
    const [{ v }] = await tx`SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations`;
    for (const migration of pendingMigrations(Number(v))) {
      await tx.unsafe(migration.postgres).simple();
      await tx`INSERT INTO schema_migrations (version, name, applied_at)
        VALUES (${migration.version}, ${migration.name}, ${new Date().toISOString()})`;
    }
  });
}
