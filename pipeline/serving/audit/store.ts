/**
 * The audit trail's contract, whatever holds it (sqlite.ts, the embedded default; postgres.ts, for
 * replicas sharing one trail): a decision is answered only once its row is committed; rows of
 * requests arriving together are committed together (group commit); a batch's rows become part of
 * the trail all at once or not at all; reads never run on the request thread's critical path.
 *
 * {@link GroupCommit} is the request side of group commit both backends share: every row recorded
 * in one turn of the event loop joins one pending group, handed to the backend at the end of the turn.
 * @module
 */

import { setImmediate } from "node:timers";
import type { AuditEntry, AuditQuery, DecisionRecord, RowValues } from "./schema.ts";
import { rowValues } from "./schema.ts";

export type { AuditEntry, AuditQuery, DecisionRecord } from "./schema.ts";

/** One page, newest first. */
export interface AuditPage {
  items: AuditEntry[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
}

/** The trail cannot be opened or written. */
export class AuditError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuditError";
  }
}

/**
 * The trail cannot take writes for now (database locked or unreachable, writer restarting): the
 * request is answered 503 with `Retry-After`, and `/ready` fails until it recovers.
 */
export class AuditUnavailableError extends AuditError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuditUnavailableError";
  }
}

/** Whether the trail can take writes now, and if not, why (the message `/ready` shows). */
export type AuditHealth = { ok: true } | { ok: false; cause: string };

/** Counters and gauges for `/metrics`. */
export interface AuditMetrics {
  backend: "sqlite" | "postgres";
  commits: number;
  rows: number;
  /** Writes (groups) that failed, each failing the requests in it. */
  writeFailures: number;
  writerRestarts: number;
  /** SQLite only: seconds since the last complete checkpoint (null before the first). */
  checkpointAgeSeconds?: number | null;
  checkpointFailures?: number;
  walBytes?: number;
}

/** The rows of one batch, written apart from the trail and made part of it in one commit. */
export interface BatchWriter {
  /** Adds rows; resolves once the backend holds them (not yet in the trail). */
  add(rows: readonly DecisionRecord[]): Promise<void>;
  /** Makes every added row part of the trail in one transaction; resolves once committed. */
  commit(): Promise<void>;
  /** Drops every added row; none reaches the trail. */
  abort(): Promise<void>;
}

/** An audit trail: SQLite or PostgreSQL. */
export interface AuditStore {
  readonly backend: "sqlite" | "postgres";
  /** Where the trail is, for logs and messages: a path, or host:port/database (never a password). */
  readonly location: string;
  /** The durability in force: SQLite's `synchronous`, PostgreSQL's `synchronous_commit`. */
  readonly synchronous: string;
  /** Commits so far and rows written, for tests and benchmarks. */
  readonly stats: { commits: number; rows: number };
  /** Queues one decision; resolves once its row is committed. */
  record(row: DecisionRecord): Promise<void>;
  /** Queues many decisions; resolves once all are committed. */
  recordAll(rows: readonly DecisionRecord[]): Promise<void>;
  /** Starts a batch whose rows join the trail together or not at all. */
  batch(): BatchWriter;
  /** Sends what is pending now and resolves once everything sent so far is settled. */
  flush(): Promise<void>;
  /** Rows stored. */
  count(): Promise<number>;
  /** One page of the trail, newest first. */
  page(query: AuditQuery): Promise<AuditPage>;
  /** The newest `limit` rows, oldest first (to seed the drift window after a restart). */
  recent(limit: number): Promise<AuditEntry[]>;
  /** Deletes the rows decided before `before`; resolves to how many. */
  purge(before: Date): Promise<number>;
  /** Checks that a write could go through now. */
  health(): Promise<AuditHealth>;
  metrics(): AuditMetrics;
  /** Commits what is pending, then closes; later records are refused. */
  close(): Promise<void>;
}

/** Where the trail is and how it commits. */
export interface AuditTarget {
  /** A SQLite file (the embedded default)… */
  path?: string | null;
  /** … or a `postgres://` URL (replicas sharing one trail). */
  url?: string | null;
  /** SQLite `synchronous`: `full` (default) survives a power cut, `normal` a killed process. */
  synchronous?: "full" | "normal";
}

/** A group of rows recorded in one turn of the event loop, settled together. */
export interface PendingGroup {
  readonly rows: RowValues[];
  readonly committed: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The request side of group commit: rows recorded in one turn of the event loop join one group,
 * which `send` hands to the backend at the end of the turn (or as soon as it holds `maxRows`).
 */
export class GroupCommit {
  #filling: PendingGroup | null = null;
  readonly #maxRows: number;
  readonly #send: (group: PendingGroup) => void;
  readonly #refusal: () => Error | null;

  /** `refusal` says why records are refused now (closed, failed), or null to accept them. */
  constructor(send: (group: PendingGroup) => void, refusal: () => Error | null, maxRows = 1024) {
    this.#send = send;
    this.#refusal = refusal;
    this.#maxRows = maxRows;
  }

  /** Queues one decision; resolves once its group is committed. */
  record(row: DecisionRecord): Promise<void> {
    const group = this.#pending();
    if (!group) return Promise.reject(this.#refusal());
    group.rows.push(rowValues(row));
    if (group.rows.length >= this.#maxRows) this.flushNow();
    return group.committed;
  }

  /** Queues many decisions; resolves once all are committed. */
  recordAll(rows: readonly DecisionRecord[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const group = this.#pending();
    if (!group) return Promise.reject(this.#refusal());
    for (const row of rows) group.rows.push(rowValues(row));
    if (group.rows.length >= this.#maxRows) this.flushNow();
    return group.committed;
  }

  /** Hands the group being filled to the backend now. */
  flushNow = (): void => {
    const group = this.#filling;
    if (!group) return;
    this.#filling = null;
    this.#send(group);
  };

  /** Fails the group being filled (the trail closed or failed under it). */
  fail(error: unknown): void {
    this.#filling?.reject(error);
    this.#filling = null;
  }

  #pending(): PendingGroup | null {
    if (this.#filling) return this.#filling;
    if (this.#refusal()) return null;
    let resolve!: () => void, reject!: (error: unknown) => void;
    const committed = new Promise<void>((res, rej) => (resolve = res, reject = rej));
    // A rejection nobody awaits (a caller that gave up) must not end the process.
    committed.catch(() => {});
    setImmediate(this.flushNow);
    return this.#filling = { rows: [], committed, resolve, reject };
  }
}

/** A `postgres://` URL without its password, for messages and logs. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(an unparsable AUDIT_URL)";
  }
}
