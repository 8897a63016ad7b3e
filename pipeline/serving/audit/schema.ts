/**
 * The audit trail's table and what the trail (log.ts) and its threads (worker.ts) share: the
 * table, the insert, how a decision becomes a row and a row an entry, and the messages between the
 * threads. Its only import is a type, so a thread's module graph stays `node:` built-ins and this file.
 * @module
 */

import type { Decision } from "../../model/artifact.ts";

/** One served decision as the trail stores it. */
export interface DecisionRecord {
  requestId: string;
  /** 1-based row of a batch; null for `/predict`. */
  row: number | null;
  /** ISO time of the decision. */
  time: string;
  modelVersion: number | null;
  runId: string;
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
  row: number | null;
  time: string;
  model_version: number | null;
  run_id: string;
  inputs: unknown;
  probability_bad: number;
  pd: number | null;
  decision: Decision;
  reasons: unknown;
}

/** The table's version, kept in SQLite's `user_version`; a newer file is refused. */
export const SCHEMA_VERSION = 1;

/** The table and its indexes (idempotent). */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS decisions (
  seq INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  row INTEGER,
  time TEXT NOT NULL,
  model_version INTEGER,
  run_id TEXT NOT NULL,
  inputs TEXT NOT NULL,
  probability_bad REAL NOT NULL,
  pd REAL,
  decision TEXT NOT NULL,
  reasons TEXT
);
CREATE INDEX IF NOT EXISTS decisions_time ON decisions (time);
CREATE INDEX IF NOT EXISTS decisions_request ON decisions (request_id);
`;

/** One row's insert; its parameters are a {@link RowValues}. */
export const INSERT = "INSERT INTO decisions (request_id, row, time, model_version, run_id, inputs, " +
  "probability_bad, pd, decision, reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/** A row as it travels to the writer: the insert's parameters in order, JSON already encoded. */
export type RowValues = [
  string,
  number | null,
  string,
  number | null,
  string,
  string,
  number,
  number | null,
  string,
  string | null,
];

/** How often the checkpointer copies the WAL into the database file. */
export const CHECKPOINT_INTERVAL_MS = 200;

/** The two threads: the writer commits rows, the checkpointer copies the WAL into the database. */
export type AuditThreadRole = "writer" | "checkpointer";

/** Main thread → a thread. The first message is `open`, which also says the thread's role. */
export type ToThread =
  | { kind: "open"; role: AuditThreadRole; path: string; synchronous: "full" | "normal" }
  | { kind: "write"; id: number; rows: RowValues[] }
  | { kind: "close" };

/** A thread → the main thread. */
export type FromThread =
  | { kind: "opened" }
  | { kind: "committed"; ids: number[] }
  | { kind: "failed"; ids: number[]; message: string }
  | { kind: "closed" };

/** A decision as the insert's parameters. */
export function rowValues(r: DecisionRecord): RowValues {
  return [
    r.requestId,
    r.row,
    r.time,
    r.modelVersion,
    r.runId,
    r.inputsJson ?? JSON.stringify(r.inputs),
    r.probability,
    r.pd !== null && Number.isFinite(r.pd) ? r.pd : null,
    r.decision,
    r.reasons === undefined || r.reasons === null ? null : JSON.stringify(r.reasons),
  ];
}

/** A row as `SELECT *` reads it. */
export interface StoredRow {
  seq: number;
  request_id: string;
  row: number | null;
  time: string;
  model_version: number | null;
  run_id: string;
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
    row: r.row === null ? null : Number(r.row),
    time: r.time,
    model_version: r.model_version === null ? null : Number(r.model_version),
    run_id: r.run_id,
    inputs: JSON.parse(r.inputs),
    probability_bad: r.probability_bad,
    pd: r.pd,
    decision: r.decision,
    reasons: r.reasons === null ? null : JSON.parse(r.reasons),
  };
}
