/**
 * What every part of the audit trail shares, whatever the backend: a decision as recorded, a row
 * as stored and returned by `GET /audit`, the column order of an insert, and the messages between
 * the SQLite trail and its threads. Its only import is a type, so a thread's module graph stays
 * `node:` built-ins, this file and migrations.ts.
 * @module
 */

import type { Decision } from "../../model/artifact.ts";

/** One served decision as the trail stores it. */
export interface DecisionRecord {
  /** The server's own id of the request (unique); the audit key with `row`. */
  requestId: string;
  /** The client's `X-Request-Id`, kept only to correlate with its logs; never a key. */
  correlationId?: string | null;
  /** 1-based row of a batch; null for `/predict`. */
  row: number | null;
  /** ISO time of the decision. */
  time: string;
  modelVersion: number | null;
  runId: string;
  /** sha256 of the model artifact that decided, so a changed model is visible in the trail. */
  modelSha256?: string | null;
  /** The model's decision threshold on P(bad) at the time. */
  threshold?: number | null;
  /** `REVIEW_MARGIN` at the time. */
  reviewMargin?: number | null;
  /** The applicant as received (JSON-serialisable), unless given as `inputsJson`. */
  inputs: unknown;
  /** The applicant already as JSON text. */
  inputsJson?: string;
  /** The forest's P(bad). */
  probability: number;
  /** Calibrated probability of default, when the model has a calibrator. */
  pd: number | null;
  decision: Decision;
  /** Explanations, when the answer carried them. */
  reasons: unknown;
}

/** A stored row as `GET /audit` returns it. */
export interface AuditEntry {
  /** Position in the trail; the paging cursor. */
  seq: number;
  request_id: string;
  correlation_id: string | null;
  row: number | null;
  time: string;
  model_version: number | null;
  run_id: string;
  model_sha256: string | null;
  threshold: number | null;
  review_margin: number | null;
  inputs: unknown;
  probability_bad: number;
  pd: number | null;
  decision: Decision;
  reasons: unknown;
}

/** The inserted columns, in the order of {@link RowValues}. */
export const COLUMNS = [
  "request_id",
  "correlation_id",
  "row",
  "time",
  "model_version",
  "run_id",
  "model_sha256",
  "threshold",
  "review_margin",
  "inputs",
  "probability_bad",
  "pd",
  "decision",
  "reasons",
] as const;

/** {@link COLUMNS} for SQL, quoted (`row` is a keyword to some SQL dialects). */
export const COLUMN_LIST: string = COLUMNS.map((c) => `"${c}"`).join(", ");

/** SQLite's insert of one row into `table` (`decisions` by default), `?` parameters in {@link COLUMNS} order. */
export function insertSql(table = "decisions"): string {
  return `INSERT INTO ${table} (${COLUMN_LIST}) VALUES (${COLUMNS.map(() => "?").join(", ")})`;
}

/** A row as it travels to a writer: the insert's parameters in {@link COLUMNS} order, JSON already encoded. */
export type RowValues = [
  request_id: string,
  correlation_id: string | null,
  row: number | null,
  time: string,
  model_version: number | null,
  run_id: string,
  model_sha256: string | null,
  threshold: number | null,
  review_margin: number | null,
  inputs: string,
  probability_bad: number,
  pd: number | null,
  decision: string,
  reasons: string | null,
];

/** One column of {@link StagedRows}: a value per row, or one value for all of them. */
export type StagedColumn = (string | number | null)[] | { all: string | number | null };

/**
 * Rows as columns, in {@link COLUMNS} order, a column that holds one value throughout sent once: a
 * batch's rows share their request, model and time, and a million small arrays cost the message
 * channel far more than a few long ones.
 */
export interface StagedRows {
  count: number;
  columns: StagedColumn[];
}

/** {@link RowValues} as {@link StagedRows}. */
export function stagedRows(rows: readonly RowValues[]): StagedRows {
  const columns: StagedColumn[] = [];
  for (let c = 0; c < COLUMNS.length; c++) {
    const first = rows.length ? rows[0][c] : null;
    let same = true;
    for (let i = 1; i < rows.length && same; i++) same = rows[i][c] === first;
    if (same) {
      columns.push({ all: first });
      continue;
    }
    const values = new Array<string | number | null>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = rows[i][c];
    columns.push(values);
  }
  return { count: rows.length, columns };
}

const finiteOrNull = (x: number | null | undefined) => typeof x === "number" && Number.isFinite(x) ? x : null;

/** A decision as the insert's parameters. */
export function rowValues(r: DecisionRecord): RowValues {
  return [
    r.requestId,
    r.correlationId ?? null,
    r.row,
    r.time,
    r.modelVersion,
    r.runId,
    r.modelSha256 ?? null,
    finiteOrNull(r.threshold),
    finiteOrNull(r.reviewMargin),
    r.inputsJson ?? JSON.stringify(r.inputs),
    r.probability,
    finiteOrNull(r.pd),
    r.decision,
    r.reasons === undefined || r.reasons === null ? null : JSON.stringify(r.reasons),
  ];
}

/** A row as `SELECT *` reads it from either backend (PostgreSQL gives bigints as strings, times as Dates). */
export interface StoredRow {
  seq: number | string | bigint;
  request_id: string;
  correlation_id: string | null;
  row: number | null;
  time: string | Date;
  model_version: number | null;
  run_id: string;
  model_sha256: string | null;
  threshold: number | null;
  review_margin: number | null;
  inputs: string;
  probability_bad: number;
  pd: number | null;
  decision: Decision;
  reasons: string | null;
}

/** A stored row as `GET /audit` returns it. */
export function toEntry(r: StoredRow): AuditEntry {
  return {
    seq: Number(r.seq),
    request_id: r.request_id,
    correlation_id: r.correlation_id ?? null,
    row: r.row === null ? null : Number(r.row),
    time: r.time instanceof Date ? r.time.toISOString() : r.time,
    model_version: r.model_version === null ? null : Number(r.model_version),
    run_id: r.run_id,
    model_sha256: r.model_sha256 ?? null,
    threshold: r.threshold ?? null,
    review_margin: r.review_margin ?? null,
    inputs: JSON.parse(r.inputs),
    probability_bad: r.probability_bad,
    pd: r.pd,
    decision: r.decision,
    reasons: r.reasons === null ? null : JSON.parse(r.reasons),
  };
}

/** How often the checkpointer copies the WAL into the database file. */
export const CHECKPOINT_INTERVAL_MS = 200;

/**
 * `journal_size_limit`: after a checkpoint resets the WAL, SQLite truncates it to this size, and
 * the checkpointer truncates it to zero whenever it has grown past it (after a large batch).
 */
export const JOURNAL_SIZE_LIMIT = 32 * 1024 * 1024;

/** The SQLite trail's threads: the writer commits rows, the checkpointer copies the WAL, the reader answers queries. */
export type AuditThreadRole = "writer" | "checkpointer" | "reader";

/** A read the reader thread answers. */
export type ReadRequest =
  | { op: "page"; query: AuditQuery }
  | { op: "count" }
  | { op: "recent"; limit: number };

/** Filters and paging of a page of the trail. */
export interface AuditQuery {
  /** Rows with `seq` below this (the previous page's `next_cursor`). */
  cursor?: number;
  /** Page size (1–1000). */
  limit: number;
  decision?: Decision;
  modelVersion?: number;
  requestId?: string;
  correlationId?: string;
  /** ISO times: `from` inclusive, `to` exclusive. */
  from?: string;
  to?: string;
}

/** Main thread → a thread. The first message is `open`, which also says the thread's role. */
export type ToThread =
  | {
    kind: "open";
    role: AuditThreadRole;
    path: string;
    synchronous: "full" | "normal";
    /** `AUDIT_TRACE`: the thread writes its timings to `<trace>.<role>.jsonl` when it closes. */
    trace?: string;
    /** The writer only: the cell of the process's writer lock (writer_lock.ts), shared by the replicas' writers. */
    lock?: SharedArrayBuffer;
  }
  /** Commit `rows`, and promote the staged rows of `promote` (batch ids), in one transaction. */
  | { kind: "write"; id: number; rows: RowValues[]; promote?: number[] }
  /** Hold these rows of batch `batch` aside (not in the trail) until a write promotes them. */
  | { kind: "stage"; id: number; batch: number; rows: StagedRows }
  /** Drop what is staged for `batch`. */
  | { kind: "discard"; batch: number }
  /** Can the writer take the write lock now? (readiness) */
  | { kind: "probe"; id: number }
  | { kind: "read"; id: number; request: ReadRequest }
  /** Delete rows older than `before` (ISO), in short transactions. */
  | { kind: "purge"; id: number; before: string }
  /**
   * To the writer, after each of the checkpointer's checkpoints: copy what was committed while it
   * ran, so the WAL is wholly copied and the next commit starts it over (see worker.ts).
   */
  | { kind: "checkpoint" }
  /** Fault injection for the tests: the writer throws outside any handler, as a bug would. */
  | { kind: "crash" }
  | { kind: "close" };

/** What the writer reports of its connection once open. */
export interface WriterSettings {
  /** `PRAGMA synchronous` as SQLite reports it: 1 = NORMAL, 2 = FULL. */
  synchronous: number;
  journalMode: string;
  journalSizeLimit: number;
}

/** A thread → the main thread. */
export type FromThread =
  | { kind: "opened"; settings?: WriterSettings }
  | { kind: "committed"; ids: number[]; rows: number }
  | { kind: "failed"; ids: number[]; message: string; busy?: boolean }
  | { kind: "result"; id: number; value: unknown }
  | { kind: "checkpoint"; ok: boolean; walBytes: number; complete: boolean; message?: string }
  | { kind: "closed" };
