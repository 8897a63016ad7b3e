/**
 * The SQLite trail's three threads, started by sqlite.ts. The first message (`open`) names the role:
 *
 * - the writer commits every group that has reached it in one transaction (group commit), holds a
 *   batch's rows aside in a temporary table until the batch is complete and then moves them into
 *   the trail in the same transaction as the rows queued with it, answers readiness probes and
 *   runs purges in short transactions between commits; every second, between commits, it indexes
 *   the query keys of the rows committed since (queries.ts), so that a commit writes the table's
 *   pages and its request ids' only;
 * - the checkpointer copies the WAL into the database every {@link CHECKPOINT_INTERVAL_MS} ms in
 *   SQLite's passive mode, which never blocks the writer, truncates the WAL once it has grown past
 *   {@link JOURNAL_SIZE_LIMIT} (after a large batch), and reports the WAL's size and its own health;
 *   after each of its checkpoints the writer, between two commits, copies the few frames committed
 *   meanwhile (holding the writers' lock, so that other replicas' writers do not append then), so
 *   that the WAL is wholly copied and starts over in place (see `finishCheckpoint`);
 * - the reader answers `GET /audit` and the other reads, so a slow query never holds up a request.
 *
 * Its value imports are `node:` built-ins, schema.ts, queries.ts, worker_clock.ts and
 * writer_lock.ts only, so a thread starts quickly. Given a {@link WriterLock} (replicas of one
 * process on one file), the writer holds it around each write transaction and its checkpoint copy.
 * With `AUDIT_TRACE` set, the writer and the checkpointer keep their timings and write them out when
 * they close (`deno task bench:audit-tail` reads them).
 * @module
 */

import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import {
  CHECKPOINT_INTERVAL_MS,
  COLUMN_LIST,
  type FromThread,
  insertSql,
  JOURNAL_SIZE_LIMIT,
  type ReadRequest,
  type RowValues,
  type StoredRow,
  toEntry,
  type ToThread,
} from "./schema.ts";
import { indexKeys, inTransaction, page, purgeChunk } from "./queries.ts";
import { tracer, wallMs } from "./worker_clock.ts";
import { WriterLock } from "./writer_lock.ts";

/** What a thread sees of its worker scope. */
interface ThreadScope {
  onmessage: ((event: MessageEvent<ToThread>) => void) | null;
  postMessage(message: FromThread): void;
}

type Handler = (message: ToThread) => void;

/** How long a write waits for a lock held by another connection before it fails. */
const BUSY_TIMEOUT_MS = 5_000;
/** How long a readiness probe waits for the write lock. */
const PROBE_TIMEOUT_MS = 250;
/** Rows deleted per transaction by a purge, so commits queue behind it only briefly. */
const PURGE_CHUNK_ROWS = 5_000;
/**
 * Rows whose keys one transaction indexes (1–3 ms here): a second's rows or a large batch's take
 * several, commits going between them, so no commit waits long behind them.
 */
const INDEX_CHUNK_ROWS = 1_024;
/**
 * How often the writer indexes the keys of the rows committed since (at its first checkpoint after
 * this long). Their indexes' keys (time, decision, model version) grow at one end, so a second's rows
 * dirty a few pages of each once, where every commit used to dirty a page of each; reads scan at most
 * that second's rows.
 */
const INDEX_INTERVAL_MS = 1_000;

const isBusy = (message: string) => /locked|busy/i.test(message);

/**
 * Runs `step` (a transaction of up to `chunk` rows) until it handles fewer; returns the rows handled.
 * Yields between steps so that the commits queued meanwhile go first.
 */
async function inChunks(chunk: number, step: () => number): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = step();
    total += rows;
    if (rows < chunk) return total;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The writer: group commit, staged batches, probes and purges. */
function writer(scope: ThreadScope): Handler {
  let db: DatabaseSync | null = null;
  let insert: StatementSync | null = null;
  /** Per staged batch, the insert into its own temporary table (no index to keep: rows only go in, then out whole). */
  const staged = new Map<number, StatementSync>();
  const table = (batch: number) => `temp.staged_${Math.trunc(batch)}`;
  const promote = (batch: number): number => {
    if (!staged.has(batch)) return 0;
    const moved = db!.prepare(
      `INSERT INTO decisions (${COLUMN_LIST}) SELECT ${COLUMN_LIST} FROM ${table(batch)} ORDER BY rowid`,
    ).run();
    return Number(moved.changes);
  };
  const unstage = (batch: number) => {
    if (!staged.delete(batch)) return;
    db!.exec(`DROP TABLE IF EXISTS ${table(batch)}`);
  };
  let lock: WriterLock | null = null;
  /** Runs `work` (a write transaction, or the checkpoint copy) holding the process's writer lock, if any. */
  const writing = <T>(work: () => T): T => lock ? lock.holding(BUSY_TIMEOUT_MS, work) : work();
  let queue: { id: number; rows: RowValues[]; promote?: number[] }[] = [];
  let scheduled = false;
  let trace = tracer(undefined, "writer");
  /** When the oldest write of the queue arrived (traced only). */
  let queuedAt = 0;
  const commit = () => {
    scheduled = false;
    const writes = queue;
    queue = [];
    if (writes.length === 0 || !db || !insert) return;
    const statement = insert; // narrowed, for the closure below
    const ids = writes.map((w) => w.id);
    let rows = 0;
    try {
      const begin = trace.on ? wallMs() : 0;
      const inserted = writing(() =>
        inTransaction(db!, () => {
          for (const write of writes) {
            for (const row of write.rows) statement.run(...row);
            rows += write.rows.length;
            for (const batch of write.promote ?? []) rows += promote(batch);
          }
          return trace.on ? wallMs() : 0;
        })
      );
      if (trace.on) {
        trace.add({ queued: queuedAt, begin, inserted, committed: wallMs(), rows, writes: writes.length });
      }
      // Only once the promotion is committed: a failed commit leaves the batch staged, to be discarded.
      for (const write of writes) for (const batch of write.promote ?? []) unstage(batch);
      scope.postMessage({ kind: "committed", ids, rows });
    } catch (error) {
      const message = (error as Error).message;
      scope.postMessage({ kind: "failed", ids, message, busy: isBusy(message) });
    }
  };
  let indexing = false;
  let indexedAt = 0;
  /**
   * Indexes the keys of the rows committed since the last time (queries.ts), in transactions of
   * their own so that a failure here never fails a decision; reads scan whatever is left.
   */
  const catchUpKeys = async () => {
    if (indexing) return;
    indexing = true;
    indexedAt = Date.now();
    try {
      await inChunks(INDEX_CHUNK_ROWS, () => {
        if (!db) return 0; // closed meanwhile
        const start = trace.on ? wallMs() : 0;
        const copied = writing(() => inTransaction(db!, () => indexKeys(db!, INDEX_CHUNK_ROWS)));
        if (trace.on) trace.add({ mode: "index", start, end: wallMs(), rows: copied });
        return copied;
      });
    } catch {
      /* the next interval tries again */
    } finally {
      indexing = false;
    }
  };
  /**
   * The checkpointer's passive checkpoints cannot catch up with a writer that commits every
   * millisecond or two: each copies the WAL as it was when it began, the writer appends meanwhile,
   * so the WAL is never wholly copied and never starts over. It grew to `journal_size_limit` in about
   * a second under load, then the checkpointer's TRUNCATE took the write lock for 25–80 ms (the
   * writer's busy handler sleeping in 1–20 ms steps) and the WAL regrew from zero bytes. Run here,
   * between two commits, the same passive checkpoint only copies the few frames committed since the
   * checkpointer's, and completes: the next commit restarts the WAL in place.
   */
  const finishCheckpoint = () => {
    if (!db) return;
    if (queue.length > 0) commit(); // the rows waiting go first
    // Indexed now, the keys' pages are copied by the checkpoint below.
    if (Date.now() - indexedAt >= INDEX_INTERVAL_MS) void catchUpKeys();
    try {
      const start = trace.on ? wallMs() : 0;
      // Under the writers' lock the other replicas' writers cannot append meanwhile, so it completes.
      const result = writing(() => db!.prepare("PRAGMA wal_checkpoint(PASSIVE)").get()) as {
        log: number;
        checkpointed: number;
      };
      if (trace.on) {
        trace.add({ mode: "writer", start, end: wallMs(), log: result.log, copied: result.checkpointed });
      }
    } catch { /* the next one will do */ }
  };
  const purge = async (id: number, before: string) => {
    try {
      const total = await inChunks(
        PURGE_CHUNK_ROWS,
        () => writing(() => inTransaction(db!, () => purgeChunk(db!, before, PURGE_CHUNK_ROWS))),
      );
      scope.postMessage({ kind: "result", id, value: total });
    } catch (error) {
      scope.postMessage({ kind: "failed", ids: [id], message: (error as Error).message });
    }
  };
  return (data) => {
    switch (data.kind) {
      case "write":
        if (trace.on && queue.length === 0) queuedAt = wallMs();
        queue.push({ id: data.id, rows: data.rows, promote: data.promote });
        if (!scheduled) {
          scheduled = true;
          setImmediate(commit);
        }
        break;
      case "stage":
        try {
          // Only the temporary database is written: no lock on the trail, no fsync.
          let insert = staged.get(data.batch);
          if (!insert) {
            db!.exec(`CREATE TEMP TABLE IF NOT EXISTS staged_${Math.trunc(data.batch)} (${COLUMN_LIST})`);
            insert = db!.prepare(insertSql(table(data.batch)));
            staged.set(data.batch, insert);
          }
          const { count, columns } = data.rows;
          const values: SQLInputValue[] = new Array(columns.length);
          db!.exec("BEGIN");
          try {
            for (let i = 0; i < count; i++) {
              for (let c = 0; c < columns.length; c++) {
                const column = columns[c];
                values[c] = Array.isArray(column) ? column[i] : column.all;
              }
              insert.run(...values);
            }
            db!.exec("COMMIT");
          } catch (error) {
            if (db!.isTransaction) db!.exec("ROLLBACK");
            throw error;
          }
          scope.postMessage({ kind: "result", id: data.id, value: null });
        } catch (error) {
          scope.postMessage({ kind: "failed", ids: [data.id], message: (error as Error).message });
        }
        break;
      case "discard":
        try {
          unstage(data.batch);
        } catch { /* the temporary table goes with the connection anyway */ }
        break;
      case "probe":
        try {
          db!.exec(`PRAGMA busy_timeout = ${PROBE_TIMEOUT_MS}`);
          try {
            db!.exec("BEGIN IMMEDIATE");
            db!.exec("ROLLBACK");
          } finally {
            db!.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
          }
          scope.postMessage({ kind: "result", id: data.id, value: null });
        } catch (error) {
          scope.postMessage({ kind: "failed", ids: [data.id], message: (error as Error).message });
        }
        break;
      case "purge":
        purge(data.id, data.before);
        break;
      case "checkpoint":
        finishCheckpoint();
        break;
      case "crash":
        throw new Error("injected writer crash");
      case "open":
        try {
          trace = tracer(data.trace, "writer");
          lock = data.lock ? new WriterLock(data.lock) : null;
          db = new DatabaseSync(data.path);
          db.exec("PRAGMA journal_mode = WAL");
          db.exec(`PRAGMA synchronous = ${data.synchronous === "normal" ? "NORMAL" : "FULL"}`);
          db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
          db.exec("PRAGMA wal_autocheckpoint = 0"); // the checkpointer thread does it
          db.exec(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
          db.exec("PRAGMA temp_store = FILE"); // a staged million-row batch stays on disk, not in memory
          insert = db.prepare(insertSql());
          // At the trail's open, migrate() has just indexed every row; after a writer restart, the rows
          // left unindexed wait for the next interval (reads scan them meanwhile).
          indexedAt = Date.now();
          const pragma = (name: string) => Object.values(db!.prepare(`PRAGMA ${name}`).get()!)[0];
          scope.postMessage({
            kind: "opened",
            settings: {
              synchronous: Number(pragma("synchronous")),
              journalMode: String(pragma("journal_mode")),
              journalSizeLimit: Number(pragma("journal_size_limit")),
            },
          });
        } catch (error) {
          scope.postMessage({ kind: "failed", ids: [], message: (error as Error).message });
        }
        break;
      case "close":
        commit();
        db?.close();
        db = null;
        trace.save();
        scope.postMessage({ kind: "closed" });
        break;
    }
  };
}

/** Copies the WAL into the database without blocking the writer, and truncates it once it grows large. */
function checkpointer(scope: ThreadScope): Handler {
  let db: DatabaseSync | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  let wal = "";
  let trace = tracer(undefined, "checkpointer");
  const walBytes = () => {
    try {
      return Deno.statSync(wal).size;
    } catch {
      return 0; // no WAL yet
    }
  };
  const tick = () => {
    try {
      const start = trace.on ? wallMs() : 0;
      const result = db!.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as {
        log: number;
        checkpointed: number;
      };
      let complete = result.log === result.checkpointed;
      let bytes = walBytes();
      if (trace.on) {
        trace.add({
          mode: "passive",
          start,
          end: wallMs(),
          log: result.log,
          copied: result.checkpointed,
          bytes,
        });
      }
      if (bytes > JOURNAL_SIZE_LIMIT) {
        // After a large batch: copy what is left and reset the WAL to zero bytes.
        const begun = trace.on ? wallMs() : 0;
        const truncated = db!.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number };
        complete = truncated.busy === 0;
        bytes = walBytes();
        if (trace.on) {
          trace.add({ mode: "truncate", start: begun, end: wallMs(), busy: truncated.busy, bytes });
        }
      }
      scope.postMessage({ kind: "checkpoint", ok: true, complete, walBytes: bytes });
    } catch (error) {
      scope.postMessage({
        kind: "checkpoint",
        ok: false,
        complete: false,
        walBytes: walBytes(),
        message: (error as Error).message,
      });
    }
  };
  return (data) => {
    if (data.kind === "open") {
      try {
        wal = `${data.path}-wal`;
        trace = tracer(data.trace, "checkpointer");
        db = new DatabaseSync(data.path);
        db.exec(`PRAGMA synchronous = ${data.synchronous === "normal" ? "NORMAL" : "FULL"}`);
        db.exec(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
        db.exec("PRAGMA busy_timeout = 1000"); // a TRUNCATE checkpoint waits for the writer's commit
        timer = setInterval(tick, CHECKPOINT_INTERVAL_MS);
        scope.postMessage({ kind: "opened" });
      } catch (error) {
        scope.postMessage({ kind: "failed", ids: [], message: (error as Error).message });
      }
    } else if (data.kind === "close") {
      clearInterval(timer);
      db?.close();
      db = null;
      trace.save();
      scope.postMessage({ kind: "closed" });
    }
  };
}

function read(db: DatabaseSync, request: ReadRequest): unknown {
  switch (request.op) {
    case "page":
      return page(db, request.query);
    case "count":
      return Number((db.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number }).n);
    case "recent": {
      const rows = db.prepare("SELECT * FROM decisions ORDER BY seq DESC LIMIT ?").all(
        request.limit,
      ) as unknown as StoredRow[];
      return rows.reverse().map(toEntry);
    }
  }
}

/** Answers reads on its own read-only connection. */
function reader(scope: ThreadScope): Handler {
  let db: DatabaseSync | null = null;
  return (data) => {
    if (data.kind === "read") {
      try {
        scope.postMessage({ kind: "result", id: data.id, value: read(db!, data.request) });
      } catch (error) {
        scope.postMessage({ kind: "failed", ids: [data.id], message: (error as Error).message });
      }
    } else if (data.kind === "open") {
      try {
        db = new DatabaseSync(data.path);
        db.exec("PRAGMA query_only = ON");
        db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
        scope.postMessage({ kind: "opened" });
      } catch (error) {
        scope.postMessage({ kind: "failed", ids: [], message: (error as Error).message });
      }
    } else if (data.kind === "close") {
      db?.close();
      db = null;
      scope.postMessage({ kind: "closed" });
    }
  };
}

const ROLES = { writer, checkpointer, reader };
const scope = globalThis as unknown as ThreadScope;
let handle: Handler | null = null;
scope.onmessage = ({ data }) => {
  if (data.kind === "open") handle ??= ROLES[data.role](scope);
  handle?.(data);
};
