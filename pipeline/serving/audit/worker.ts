/**
 * The audit trail's two threads, started by log.ts. The first message (`open`) names the role:
 *
 * - the writer commits every batch that has reached it in one transaction (group commit);
 * - the checkpointer copies the WAL into the database every {@link CHECKPOINT_INTERVAL_MS} ms in
 *   SQLite's passive mode, which never blocks the writer.
 *
 * Its value imports are `node:` built-ins and schema.ts only, so a thread starts quickly.
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import { CHECKPOINT_INTERVAL_MS, type FromThread, INSERT, type RowValues, type ToThread } from "./schema.ts";

/** What a thread sees of its worker scope. */
interface ThreadScope {
  onmessage: ((event: MessageEvent<ToThread>) => void) | null;
  postMessage(message: FromThread): void;
}

type Handler = (message: ToThread) => void;

/**
 * Commits every batch that has reached it in one transaction. A batch arriving while a commit
 * waits for the disk is queued, and the next commit, scheduled after the pending messages are
 * delivered, takes all of them.
 */
function writer(scope: ThreadScope): Handler {
  let db: DatabaseSync | null = null;
  let insert: StatementSync | null = null;
  let queue: { id: number; rows: RowValues[] }[] = [];
  let scheduled = false;
  const commit = () => {
    scheduled = false;
    const batches = queue;
    queue = [];
    if (batches.length === 0 || !db || !insert) return;
    const ids = batches.map((b) => b.id);
    try {
      db.exec("BEGIN IMMEDIATE");
      try {
        for (const batch of batches) for (const row of batch.rows) insert.run(...row);
        db.exec("COMMIT");
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      }
      scope.postMessage({ kind: "committed", ids });
    } catch (error) {
      scope.postMessage({ kind: "failed", ids, message: (error as Error).message });
    }
  };
  return (data) => {
    if (data.kind === "write") {
      queue.push({ id: data.id, rows: data.rows });
      if (!scheduled) {
        scheduled = true;
        setImmediate(commit);
      }
    } else if (data.kind === "open") {
      try {
        db = new DatabaseSync(data.path);
        db.exec("PRAGMA journal_mode = WAL");
        db.exec(`PRAGMA synchronous = ${data.synchronous === "normal" ? "NORMAL" : "FULL"}`);
        db.exec("PRAGMA busy_timeout = 5000");
        db.exec("PRAGMA wal_autocheckpoint = 0"); // the checkpointer thread does it
        insert = db.prepare(INSERT);
        scope.postMessage({ kind: "opened" });
      } catch (error) {
        scope.postMessage({ kind: "failed", ids: [], message: (error as Error).message });
      }
    } else if (data.kind === "close") {
      commit();
      db?.close();
      db = null;
      scope.postMessage({ kind: "closed" });
    }
  };
}

/** Copies the WAL into the database every {@link CHECKPOINT_INTERVAL_MS} ms without blocking the writer. */
function checkpointer(scope: ThreadScope): Handler {
  let db: DatabaseSync | null = null;
  let timer: ReturnType<typeof setInterval> | undefined;
  return (data) => {
    if (data.kind === "open") {
      try {
        db = new DatabaseSync(data.path);
        db.exec(`PRAGMA synchronous = ${data.synchronous === "normal" ? "NORMAL" : "FULL"}`);
        timer = setInterval(() => {
          try {
            db?.prepare("PRAGMA wal_checkpoint(PASSIVE)").get();
          } catch { /* busy now: the next tick tries again */ }
        }, CHECKPOINT_INTERVAL_MS);
        scope.postMessage({ kind: "opened" });
      } catch (error) {
        scope.postMessage({ kind: "failed", ids: [], message: (error as Error).message });
      }
    } else if (data.kind === "close") {
      clearInterval(timer);
      db?.close();
      db = null;
      scope.postMessage({ kind: "closed" });
    }
  };
}

const scope = globalThis as unknown as ThreadScope;
let handle: Handler | null = null;
scope.onmessage = ({ data }) => {
  if (data.kind === "open") handle ??= (data.role === "writer" ? writer : checkpointer)(scope);
  handle?.(data);
};
