/**
 * ceiling_server.ts's audit writer: commits the groups of rows that reached it since its last commit in one transaction to a
 * SQLite file (WAL, `synchronous = FULL` or `NORMAL`, never checkpointed, the trail's columns and its request-id index), then
 * answers their ids. Says "opened" once the file and its schema are ready.
 * @module
 */

import { setImmediate } from "node:timers";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { insertSql, type RowValues } from "../pipeline/serving/audit/schema.ts";
import { MIGRATIONS } from "../pipeline/serving/audit/migrations.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: number[] | "opened"): void;
};

let insert: ((...values: SQLInputValue[]) => unknown) | null = null;
let db: DatabaseSync | null = null;
/** Groups arrived since the last commit: all of them go in the next transaction. */
let queue: { id: number; rows: RowValues[] }[] = [];

const commit = () => {
  const groups = queue;
  queue = [];
  db!.exec("BEGIN IMMEDIATE");
  for (const group of groups) for (const row of group.rows) insert!(...row);
  db!.exec("COMMIT");
  scope.postMessage(groups.map((g) => g.id));
};

scope.onmessage = ({ data }) => {
  if (data.path !== undefined) {
    db = new DatabaseSync(data.path);
    db.exec(
      `PRAGMA journal_mode = WAL; PRAGMA synchronous = ${data.synchronous}; PRAGMA busy_timeout = 5000`,
    );
    // No checkpoint at all (the WAL only grows): less work than any trail that runs for long does.
    db.exec("PRAGMA wal_autocheckpoint = 0");
    // The trail's schema as its migrations leave it; the key table stays empty (the real writer
    // fills it apart from the commits).
    for (const m of MIGRATIONS) db.exec(m.sqlite);
    const statement = db.prepare(insertSql());
    insert = (...values) => statement.run(...values);
    scope.postMessage("opened");
    return;
  }
  if (queue.length === 0) setImmediate(commit);
  queue.push(data);
};
