/**
 * The audit trail: every decision served (each `/predict` answer and each scored row of
 * `/predict/batch`) is one row of a SQLite table (`node:sqlite`, WAL journal), and the rolling
 * window that `/monitoring` compares with the training data is fed from the same place.
 *
 * Durability: a request awaits the commit of its row before its answer is sent, so a decision a
 * client has seen survives a SIGKILL of the server the next instant: with `synchronous = NORMAL`
 * (the default) a WAL commit is in the operating system's hands when it returns; `AUDIT_SYNC=full`
 * also fsyncs every commit, for a power cut, at a cost in throughput. Throughput: group commit. The rows of all requests
 * handled in one turn of the event loop go to a writer thread as one message; the writer commits
 * everything that has reached it in one transaction, so while it waits for the disk the request
 * thread goes on serving, and the next commit takes all that piled up meanwhile.
 *
 * WAL checkpoints (copying the log into the database file, with its fsyncs) run on a third
 * thread every {@link CHECKPOINT_INTERVAL_MS} ms in SQLite's passive mode, which never blocks the
 * writer: left to the writer, each checkpoint would hold up the commits queued behind it (p99 of
 * `/predict` 11–13 ms instead of about 3 ms at 8 connections).
 *
 * The threads' own code is worker.ts; the table and the messages they share are schema.ts.
 * @module
 */

import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { setImmediate } from "node:timers";
import {
  type AuditEntry,
  type AuditThreadRole,
  type DecisionRecord,
  type FromThread,
  type RowValues,
  rowValues,
  SCHEMA,
  SCHEMA_VERSION,
  type StoredRow,
  toEntry,
  type ToThread,
} from "./schema.ts";
import type { ServedWindow } from "../drift_window.ts";
import type { Decision } from "../../model/artifact.ts";
import type { BatchResult } from "../batch.ts";
import type { ServerConfig } from "../config.ts";
import type { ServingModel } from "../model_holder.ts";
import type { Prediction } from "../prediction.ts";

export { type AuditEntry, CHECKPOINT_INTERVAL_MS, type DecisionRecord } from "./schema.ts";

/** Filters and paging of {@link AuditLog.page}. */
export interface AuditQuery {
  /** Rows with `seq` below this (the previous page's `next_cursor`). */
  cursor?: number;
  /** Page size (1–1000). */
  limit: number;
  decision?: Decision;
  modelVersion?: number;
  requestId?: string;
  /** ISO times: `from` inclusive, `to` exclusive. */
  from?: string;
  to?: string;
}

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

/** How the trail commits. */
export interface AuditOptions {
  /** SQLite `synchronous`: `normal` (default) survives a killed process, `full` also a power cut. */
  synchronous?: "full" | "normal";
  /** Rows that are sent to the writer without waiting for the end of the event loop's turn. */
  maxBatchRows?: number;
}

/** The threads' script. */
const WORKER_URL = new URL("./worker.ts", import.meta.url);

interface PendingBatch {
  readonly rows: RowValues[];
  readonly committed: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/** The SQLite audit trail: reads on the calling thread, writes by group commit on a writer thread. */
export class AuditLog {
  readonly path: string;
  readonly synchronous: "full" | "normal";
  readonly #db: DatabaseSync;
  readonly #writer: Worker;
  readonly #checkpointer: Worker;
  readonly #maxBatchRows: number;
  #filling: PendingBatch | null = null;
  readonly #sent = new Map<number, PendingBatch>();
  #nextId = 1;
  #failure: AuditError | null = null;
  #closing: Promise<void> | null = null;
  #onClosed: (() => void) | null = null;
  #commits = 0;
  #rowsWritten = 0;

  private constructor(
    path: string,
    db: DatabaseSync,
    writer: Worker,
    checkpointer: Worker,
    options: AuditOptions,
  ) {
    this.path = path;
    this.#db = db;
    this.#writer = writer;
    this.#checkpointer = checkpointer;
    // A checkpointer that dies only lets the WAL grow until the trail is closed.
    checkpointer.onerror = (event: ErrorEvent) => event.preventDefault();
    this.synchronous = options.synchronous ?? "normal";
    this.#maxBatchRows = options.maxBatchRows ?? 1024;
    writer.onmessage = (event: MessageEvent<FromThread>) => this.#reply(event.data);
    writer.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(new AuditError(`the audit writer crashed: ${event.message}`));
    };
  }

  /**
   * Opens (creating when missing) the trail at `path` and starts its writer; throws
   * {@link AuditError} naming the cause.
   */
  static async open(path: string, options: AuditOptions = {}): Promise<AuditLog> {
    const synchronous = options.synchronous ?? "normal";
    let db: DatabaseSync | undefined;
    let writer: Worker | undefined;
    let checkpointer: Worker | undefined;
    try {
      const slash = path.lastIndexOf("/");
      if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true });
      db = new DatabaseSync(path);
      const mode = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
      if (mode.journal_mode !== "wal") {
        throw new Error(`the file system refused WAL (got ${mode.journal_mode})`);
      }
      db.exec("PRAGMA busy_timeout = 5000");
      const { user_version } = db.prepare("PRAGMA user_version").get() as { user_version: number };
      if (user_version > SCHEMA_VERSION) {
        throw new Error(`its schema version ${user_version} is newer than this build's ${SCHEMA_VERSION}`);
      }
      db.exec(SCHEMA);
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      writer = await startThread("writer", path, synchronous);
      checkpointer = await startThread("checkpointer", path, synchronous);
      return new AuditLog(path, db, writer, checkpointer, { ...options, synchronous });
    } catch (error) {
      writer?.terminate();
      checkpointer?.terminate();
      try {
        db?.close();
      } catch { /* already failed */ }
      throw new AuditError(
        `cannot open the audit trail ${path}: ${(error as Error).message}. ` +
          "Set AUDIT_DB to a writable file (and grant --allow-write to it), or AUDIT=off",
        { cause: error },
      );
    }
  }

  /** Commits so far and rows written, for tests and benchmarks. */
  get stats(): { commits: number; rows: number } {
    return { commits: this.#commits, rows: this.#rowsWritten };
  }

  /** Queues one decision; resolves once its row is committed. */
  record(row: DecisionRecord): Promise<void> {
    const batch = this.#pending();
    if (!batch) return Promise.reject(this.#failure ?? new AuditError("the audit trail is closed"));
    batch.rows.push(rowValues(row));
    if (batch.rows.length >= this.#maxBatchRows) this.#send();
    return batch.committed;
  }

  /** Queues many decisions; resolves once all are committed. */
  recordAll(rows: readonly DecisionRecord[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    const batch = this.#pending();
    if (!batch) return Promise.reject(this.#failure ?? new AuditError("the audit trail is closed"));
    for (const row of rows) batch.rows.push(rowValues(row));
    if (batch.rows.length >= this.#maxBatchRows) this.#send();
    return batch.committed;
  }

  /** The batch being filled; its first row schedules the send for the end of this turn of the event loop. */
  #pending(): PendingBatch | null {
    if (this.#filling) return this.#filling;
    if (this.#failure || this.#closing) return null;
    let resolve!: () => void, reject!: (error: unknown) => void;
    const committed = new Promise<void>((res, rej) => (resolve = res, reject = rej));
    setImmediate(this.#send);
    return this.#filling = { rows: [], committed, resolve, reject };
  }

  #send = (): void => {
    const batch = this.#filling;
    if (!batch) return;
    this.#filling = null;
    const id = this.#nextId++;
    this.#sent.set(id, batch);
    this.#writer.postMessage({ kind: "write", id, rows: batch.rows } satisfies ToThread);
  };

  #reply(message: FromThread): void {
    if (message.kind === "committed" || message.kind === "failed") {
      if (message.kind === "committed") this.#commits++;
      for (const id of message.ids) {
        const batch = this.#sent.get(id);
        if (!batch) continue;
        this.#sent.delete(id);
        if (message.kind === "committed") {
          this.#rowsWritten += batch.rows.length;
          batch.resolve();
        } else {
          batch.reject(new AuditError(`audit write failed: ${message.message}`));
        }
      }
    } else if (message.kind === "closed") {
      this.#onClosed?.();
    }
  }

  #fail(error: AuditError): void {
    this.#failure ??= error;
    for (const batch of this.#sent.values()) batch.reject(error);
    this.#sent.clear();
    this.#filling?.reject(error);
    this.#filling = null;
    this.#onClosed?.();
  }

  /** Sends what is pending now and resolves once everything sent so far is committed. */
  async flush(): Promise<void> {
    this.#send();
    await Promise.allSettled([...this.#sent.values()].map((b) => b.committed));
  }

  /** Rows stored. */
  count(): number {
    return Number((this.#db.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number }).n);
  }

  /** One page of the trail, newest first. */
  page(query: AuditQuery): AuditPage {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (query.cursor !== undefined) where.push("seq < ?"), params.push(query.cursor);
    if (query.decision !== undefined) where.push("decision = ?"), params.push(query.decision);
    if (query.modelVersion !== undefined) where.push("model_version = ?"), params.push(query.modelVersion);
    if (query.requestId !== undefined) where.push("request_id = ?"), params.push(query.requestId);
    if (query.from !== undefined) where.push("time >= ?"), params.push(query.from);
    if (query.to !== undefined) where.push("time < ?"), params.push(query.to);
    const sql = `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ` +
      "ORDER BY seq DESC LIMIT ?";
    params.push(query.limit + 1);
    const rows = this.#db.prepare(sql).all(...params) as unknown as StoredRow[];
    const more = rows.length > query.limit;
    const items = rows.slice(0, query.limit).map(toEntry);
    return { items, next_cursor: more ? String(items[items.length - 1].seq) : null };
  }

  /** The newest `limit` rows, oldest first (to seed the drift window after a restart). */
  recent(limit: number): AuditEntry[] {
    const rows = this.#db.prepare("SELECT * FROM decisions ORDER BY seq DESC LIMIT ?").all(
      limit,
    ) as unknown as StoredRow[];
    return rows.reverse().map(toEntry);
  }

  /** Commits what is pending, stops the writer and closes the database; later records are refused. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      if (!this.#failure) {
        const closed = new Promise<void>((resolve) => (this.#onClosed = resolve));
        this.#writer.postMessage({ kind: "close" } satisfies ToThread);
        await closed;
      }
      this.#writer.terminate();
      await stopThread(this.#checkpointer);
      this.#db.close();
    })();
    return this.#closing;
  }
}

/** Starts one of the trail's threads and waits until it has opened the database. */
async function startThread(
  role: AuditThreadRole,
  path: string,
  synchronous: "full" | "normal",
): Promise<Worker> {
  const worker = new Worker(WORKER_URL, { type: "module", name: `audit-${role}` });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<FromThread>) => {
        if (event.data.kind === "opened") resolve();
        else if (event.data.kind === "failed") reject(new Error(event.data.message));
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
      worker.postMessage({ kind: "open", role, path, synchronous } satisfies ToThread);
    });
  } catch (error) {
    worker.terminate();
    throw error;
  }
  return worker;
}

/** Asks a thread to close its connection (bounded wait), then ends it. */
async function stopThread(worker: Worker): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    new Promise<void>((resolve) => {
      worker.onmessage = (event: MessageEvent<FromThread>) => event.data.kind === "closed" && resolve();
      worker.postMessage({ kind: "close" } satisfies ToThread);
    }),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000))),
  ]);
  clearTimeout(timer);
  worker.terminate();
}

/** Opens the trail the settings ask for, or returns null with `AUDIT=off`. */
export function openAuditLog(
  config: Pick<ServerConfig, "auditPath" | "auditSync">,
): Promise<AuditLog | null> {
  return config.auditPath === null
    ? Promise.resolve(null)
    : AuditLog.open(config.auditPath, { synchronous: config.auditSync });
}

// ---------------------------------------------------------------------------------------------
// Recording decisions from the routes

/** How the trail reads a batch row's input back: as a record (for the drift window) or as JSON text. */
export interface BatchInputs {
  record(row: number): unknown;
  json(row: number): string;
}

/** Rows of a batch sent to the writer at a time; the event loop gets a turn between them. */
const BATCH_CHUNK_ROWS = 2048;
/** Chunks of a batch queued for the writer at once, which bounds the memory a huge batch holds. */
const BATCH_CHUNKS_IN_FLIGHT = 4;

/**
 * Where the prediction routes report their decisions: the audit trail (awaited: durable before
 * the answer) and the in-memory window for drift monitoring. Either may be absent.
 */
export class DecisionTrail {
  constructor(readonly audit: AuditLog | null, readonly window: ServedWindow | null) {}

  /** Records one `/predict` answer; resolves once the decision is durable. */
  predicted(answer: Prediction, applicant: unknown): Promise<void> | undefined {
    this.window?.add(applicant as Record<string, unknown>, answer.probability_bad, answer.run_id);
    if (!this.audit) return undefined;
    return this.audit.record({
      requestId: answer.request_id,
      row: null,
      time: new Date().toISOString(),
      modelVersion: answer.model_version,
      runId: answer.run_id,
      inputs: applicant,
      probability: answer.probability_bad,
      pd: typeof answer.pd === "number" ? answer.pd : null,
      decision: answer.decision,
      reasons: answer.reasons ?? null,
    });
  }

  /**
   * Records the scored rows of a batch in chunks (the event loop serves other requests between
   * them); resolves once all are durable. `inputs` reads row i's input back (0-based, in order).
   */
  async batch(
    serving: ServingModel,
    result: BatchResult,
    decided: readonly (Decision | undefined)[],
    requestId: string,
    inputs: BatchInputs,
  ): Promise<void> {
    const { audit, window } = this;
    if (!audit && !window) return;
    const time = new Date().toISOString();
    const now = Date.parse(time);
    // Without the trail, only the rows the window will keep are worth reading.
    const first = audit ? 0 : Math.max(0, result.rows - window!.capacity);
    let chunk: DecisionRecord[] = [];
    const inFlight: Promise<void>[] = [];
    const windowFrom = window ? Math.max(0, result.rows - window.capacity) : result.rows;
    for (let i = first; i < result.rows; i++) {
      const decision = decided[i];
      if (decision === undefined) continue;
      const probability = result.probabilities[i];
      if (i >= windowFrom) {
        window!.add(inputs.record(i) as Record<string, unknown>, probability, serving.runId, now);
      }
      if (!audit) continue;
      chunk.push({
        requestId,
        row: i + 1,
        time,
        modelVersion: serving.version,
        runId: serving.runId,
        inputs: undefined,
        inputsJson: inputs.json(i),
        probability,
        pd: serving.model.pd(probability),
        decision,
        reasons: result.reasons?.[i] ?? null,
      });
      if (chunk.length === BATCH_CHUNK_ROWS) {
        // The writer commits chunk k while chunk k+1 is read; at most a few are in flight.
        inFlight.push(audit.recordAll(chunk));
        chunk = [];
        if (inFlight.length >= BATCH_CHUNKS_IN_FLIGHT) await inFlight.shift();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    if (audit) inFlight.push(audit.recordAll(chunk));
    await Promise.all(inFlight);
  }

  /** Fills the drift window from the trail's newest rows (after a restart). */
  seedWindow(): number {
    if (!this.audit || !this.window) return 0;
    const rows = this.audit.recent(this.window.capacity);
    for (const r of rows) {
      if (r.inputs && typeof r.inputs === "object") {
        this.window.add(r.inputs as Record<string, unknown>, r.probability_bad, r.run_id, Date.parse(r.time));
      }
    }
    return rows.length;
  }
}
