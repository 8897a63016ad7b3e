/**
 * The embedded audit trail: one SQLite file (`node:sqlite`, WAL journal), written by group commit
 * on a writer thread, read on a reader thread, checkpointed on a third (worker.ts).
 *
 * Durability: a request awaits the commit of its row before its answer is sent. With
 * `synchronous = FULL` (the default) each commit is fsynced before it returns, so an answered
 * decision survives a power cut; group commit amortises that fsync over every row that arrived
 * while the previous one ran. `AUDIT_SYNC=normal` skips it: the commit then survives a killed
 * process but not a power cut (the decisions since the last checkpoint may be lost).
 *
 * Throughput: the rows of all requests handled in one turn of the event loop go to the writer as
 * one message; the writer commits everything that has reached it in one transaction, so while it
 * waits for the disk the request thread goes on serving, and the next commit takes all that piled up.
 *
 * Failure: a write that fails (database locked past the busy timeout, disk full) fails the requests
 * in it; a crashed writer thread is restarted, at most {@link MAX_WRITER_RESTARTS} times a minute,
 * after which the trail refuses writes and {@link SqliteAuditLog.health} says why.
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { type Tracer, tracer, wallMs } from "./worker_clock.ts";
import { MIGRATIONS_TABLE, pendingMigrations, SCHEMA_VERSION } from "./migrations.ts";
import { indexKeys, inTransaction } from "./queries.ts";
import {
  type AuditEntry,
  type AuditQuery,
  type AuditThreadRole,
  type DecisionRecord,
  type FromThread,
  type ReadRequest,
  rowValues,
  stagedRows,
  type ToThread,
  type WriterSettings,
} from "./schema.ts";
import {
  AuditError,
  type AuditHealth,
  type AuditMetrics,
  type AuditPage,
  type AuditStore,
  AuditUnavailableError,
  type BatchWriter,
  GroupCommit,
  type PendingGroup,
} from "./store.ts";

/** The threads' script. */
const WORKER_URL = new URL("./worker.ts", import.meta.url);

/** Writer crashes tolerated in {@link RESTART_WINDOW_MS} before the trail gives up. */
export const MAX_WRITER_RESTARTS = 3;
const RESTART_WINDOW_MS = 60_000;
/** How long `/ready` waits for the writer's probe. */
const PROBE_DEADLINE_MS = 2_000;
/** A failed write keeps `/ready` failing this long (a probe cannot see a full disk). */
const WRITE_FAILURE_MEMORY_MS = 10_000;

interface Call {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** How the SQLite trail commits. */
export interface SqliteOptions {
  /** `full` (default) survives a power cut, `normal` a killed process. */
  synchronous?: "full" | "normal";
  /** Rows sent to the writer without waiting for the end of the event loop's turn. */
  maxBatchRows?: number;
  /**
   * `AUDIT_TRACE` (a diagnosis aid): each thread writes its timings (the writer's commits, the
   * checkpoints, and here each group's round trip and the event loop's lag) to
   * `<trace>.<role>.jsonl` when the trail closes.
   */
  trace?: string;
  /**
   * The cell of a writer lock (writer_lock.ts) shared by the writers of several trails on this file in one
   * process (the replicas of `WORKERS=N`), which then wait for each other without SQLite's sleeps.
   */
  writerLock?: SharedArrayBuffer;
}

/** The SQLite audit trail. */
export class SqliteAuditLog implements AuditStore {
  readonly backend = "sqlite" as const;
  readonly path: string;
  readonly synchronous: "full" | "normal";
  /** The writer connection's settings as SQLite reports them (what is in effect, not what was asked). */
  settings: WriterSettings;
  #writer: Worker | null;
  readonly #checkpointer: Worker;
  readonly #reader: Worker;
  readonly #group: GroupCommit;
  readonly #sent = new Map<number, PendingGroup>();
  readonly #calls = new Map<number, Call>();
  #nextId = 1;
  /** Bumped when the writer restarts: batches staged on the dead one are gone. */
  #generation = 0;
  #failure: AuditError | null = null;
  #closing: Promise<void> | null = null;
  #onClosed: (() => void) | null = null;
  readonly #restarts: number[] = [];
  readonly #trace: string | undefined;
  readonly #writerLock: SharedArrayBuffer | undefined;
  /** While tracing: when each group was sent (keyed on the group, so a failed one leaves nothing behind). */
  readonly #sentAt = new WeakMap<PendingGroup, number>();
  /** While tracing: each group's round trip and the event loop's lag. */
  readonly #traced: Tracer;
  #lagTimer: ReturnType<typeof setInterval> | undefined;
  #lastWriteFailure: { at: number; message: string } | null = null;
  readonly #metrics = {
    commits: 0,
    rows: 0,
    writeFailures: 0,
    writerRestarts: 0,
    checkpointFailures: 0,
    lastCheckpoint: null as number | null,
    walBytes: 0,
  };

  private constructor(
    path: string,
    synchronous: "full" | "normal",
    started: { writer: Worker; settings: WriterSettings; checkpointer: Worker; reader: Worker },
    maxBatchRows: number,
    trace?: string,
    writerLock?: SharedArrayBuffer,
  ) {
    this.path = path;
    this.#trace = trace;
    this.#writerLock = writerLock;
    this.#traced = tracer(trace, "main");
    if (trace !== undefined) this.#traceLag();
    this.synchronous = synchronous;
    this.settings = started.settings;
    this.#writer = started.writer;
    this.#checkpointer = started.checkpointer;
    this.#reader = started.reader;
    this.#group = new GroupCommit(this.#send, () => this.#refusal(), maxBatchRows);
    this.#watchWriter(started.writer);
    this.#checkpointer.onmessage = (event: MessageEvent<FromThread>) => this.#onCheckpoint(event.data);
    // A dead checkpointer shows as a checkpoint age that keeps growing; it does not stop decisions.
    this.#checkpointer.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#metrics.checkpointFailures++;
    };
    this.#reader.onmessage = (event: MessageEvent<FromThread>) => this.#reply(event.data);
    this.#reader.onerror = (event: ErrorEvent) => event.preventDefault();
  }

  /**
   * Opens (creating when missing, mode 0600) the trail at `path`, brings its schema up to date and
   * starts its threads; throws {@link AuditError} naming the cause.
   */
  static async open(path: string, options: SqliteOptions = {}): Promise<SqliteAuditLog> {
    const synchronous = options.synchronous ?? "full";
    const started: Worker[] = [];
    try {
      createPrivateFile(path);
      migrate(path);
      if (options.trace !== undefined) checkTracePrefix(options.trace);
      const writer = await startThread("writer", path, synchronous, options.trace, options.writerLock);
      started.push(writer.worker);
      const checkpointer = await startThread("checkpointer", path, synchronous, options.trace);
      started.push(checkpointer.worker);
      const reader = await startThread("reader", path, synchronous);
      started.push(reader.worker);
      return new SqliteAuditLog(
        path,
        synchronous,
        {
          writer: writer.worker,
          settings: writer.settings!,
          checkpointer: checkpointer.worker,
          reader: reader.worker,
        },
        options.maxBatchRows ?? 1024,
        options.trace,
        options.writerLock,
      );
    } catch (error) {
      for (const worker of started) worker.terminate();
      if (error instanceof TraceSettingError) throw error;
      throw new AuditError(
        `cannot open the audit trail ${path}: ${(error as Error).message}. ` +
          "Set AUDIT_PATH to a writable file (and grant --allow-write to it), or AUDIT=off",
        { cause: error },
      );
    }
  }

  /** Where the trail is. */
  get location(): string {
    return this.path;
  }

  /** Commits so far and rows written, for tests and benchmarks. */
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

  /** A batch staged in a temporary table of the writer's and moved into the trail in one commit. */
  batch(): BatchWriter {
    const batch = this.#nextId++;
    const generation = this.#generation;
    const alive = () => {
      if (this.#generation !== generation) {
        throw new AuditUnavailableError("the audit writer restarted while the batch was being written");
      }
    };
    return {
      add: async (rows) => {
        alive();
        const staged = stagedRows(rows.map(rowValues));
        await this.#call((id) => ({ kind: "stage", id, batch, rows: staged }), "writer");
      },
      commit: async () => {
        alive();
        const id = this.#nextId++;
        let resolve!: () => void, reject!: (error: unknown) => void;
        const committed = new Promise<void>((res, rej) => (resolve = res, reject = rej));
        const group: PendingGroup = { rows: [], committed, resolve, reject };
        this.#post({ kind: "write", id, rows: [], promote: [batch] }, group, id);
        await committed;
      },
      abort: () => {
        if (this.#generation === generation) this.#writer?.postMessage({ kind: "discard", batch });
        return Promise.resolve();
      },
    };
  }

  #refusal(): Error | null {
    if (this.#failure) return this.#failure;
    if (this.#closing) return new AuditError("the audit trail is closed");
    if (!this.#writer) return new AuditUnavailableError("the audit writer is restarting");
    return null;
  }

  #send = (group: PendingGroup): void => {
    const id = this.#nextId++;
    this.#post({ kind: "write", id, rows: group.rows }, group, id);
  };

  #post(message: ToThread, group: PendingGroup, id: number): void {
    // Refusing new records while closing is the group's job; what was recorded before still goes.
    if (this.#failure || !this.#writer) {
      group.reject(this.#failure ?? new AuditUnavailableError("the audit writer is restarting"));
      return;
    }
    this.#sent.set(id, group);
    if (this.#traced.on) this.#sentAt.set(group, wallMs());
    this.#writer!.postMessage(message);
  }

  /** Sends a request to a thread and resolves with its answer. */
  #call(build: (id: number) => ToThread, to: "writer" | "reader"): Promise<unknown> {
    const worker = to === "writer" ? this.#writer : this.#reader;
    if (this.#failure && to === "writer") return Promise.reject(this.#failure);
    if (!worker) return Promise.reject(new AuditUnavailableError("the audit writer is restarting"));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      worker.postMessage(build(id));
    });
  }

  #reply(message: FromThread): void {
    if (message.kind === "committed") {
      this.#metrics.commits++;
      this.#metrics.rows += message.rows;
      this.#lastWriteFailure = null;
      const now = this.#traced.on ? wallMs() : 0;
      for (const id of message.ids) {
        const group = this.#sent.get(id);
        if (!group) continue;
        const sent = this.#sentAt.get(group);
        if (sent !== undefined) {
          this.#traced.add({ kind: "group", sent, answered: now, rows: group.rows.length });
        }
        group.resolve();
        this.#sent.delete(id);
      }
    } else if (message.kind === "failed") {
      const Failure = message.busy ? AuditUnavailableError : AuditError;
      let wasWrite = false;
      for (const id of message.ids) {
        const group = this.#sent.get(id);
        if (group) {
          wasWrite = true;
          this.#sent.delete(id);
          group.reject(new Failure(`audit write failed: ${message.message}`));
        }
        const call = this.#calls.get(id);
        if (call) {
          this.#calls.delete(id);
          call.reject(new Failure(message.message));
        }
      }
      if (wasWrite) {
        this.#metrics.writeFailures++;
        this.#lastWriteFailure = { at: Date.now(), message: message.message };
      }
    } else if (message.kind === "result") {
      this.#calls.get(message.id)?.resolve(message.value);
      this.#calls.delete(message.id);
    } else if (message.kind === "closed") {
      this.#onClosed?.();
    }
  }

  #onCheckpoint(message: FromThread): void {
    if (message.kind !== "checkpoint") return;
    // The writer copies what was committed meanwhile, so that the WAL can start over (worker.ts).
    if (message.ok) this.#writer?.postMessage({ kind: "checkpoint" } satisfies ToThread);
    this.#metrics.walBytes = message.walBytes;
    if (!message.ok) this.#metrics.checkpointFailures++;
    else if (message.complete) this.#metrics.lastCheckpoint = Date.now();
  }

  #watchWriter(writer: Worker): void {
    writer.onmessage = (event: MessageEvent<FromThread>) => this.#reply(event.data);
    writer.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#writerCrashed(writer, event.message);
    };
  }

  /** Fails what the dead writer held, then restarts it unless it has crashed too often. */
  #writerCrashed(writer: Worker, message: string): void {
    if (this.#writer !== writer) return;
    writer.terminate();
    this.#writer = null;
    this.#generation++;
    const error = new AuditUnavailableError(`the audit writer crashed: ${message}`);
    for (const group of this.#sent.values()) group.reject(error);
    this.#sent.clear();
    this.#group.fail(error);
    for (const call of this.#calls.values()) call.reject(error);
    this.#calls.clear();
    this.#metrics.writeFailures++;
    const now = Date.now();
    this.#restarts.push(now);
    while (this.#restarts.length && this.#restarts[0] < now - RESTART_WINDOW_MS) this.#restarts.shift();
    if (this.#restarts.length > MAX_WRITER_RESTARTS || this.#closing) {
      this.#failure ??= new AuditError(
        `the audit writer crashed ${this.#restarts.length} times within a minute (last: ${message}); ` +
          "restart the server",
      );
      this.#onClosed?.();
      return;
    }
    startThread("writer", this.path, this.synchronous, this.#trace, this.#writerLock).then(
      ({ worker, settings }) => {
        if (this.#closing) {
          worker.terminate();
          return;
        }
        this.#metrics.writerRestarts++;
        this.settings = settings!;
        this.#writer = worker;
        this.#watchWriter(worker);
      },
      (failure: Error) => {
        this.#failure ??= new AuditError(`the audit writer could not be restarted: ${failure.message}`);
      },
    );
  }

  /** While tracing: how late a 5 ms timer fires on this thread (a long task or a GC pause shows here). */
  #traceLag(): void {
    const every = 5;
    let expected = wallMs() + every;
    this.#lagTimer = setInterval(() => {
      const now = wallMs();
      if (now - expected > 2) {
        this.#traced.add({ kind: "lag", at: expected, ms: now - expected });
      }
      expected = now + every;
    }, every);
    Deno.unrefTimer(this.#lagTimer);
  }

  /** Fault injection for the tests: makes the writer thread throw, as a bug in it would. */
  crashWriterForTest(): void {
    this.#writer?.postMessage({ kind: "crash" } satisfies ToThread);
  }

  /** Sends what is pending now and resolves once everything sent so far is settled. */
  async flush(): Promise<void> {
    this.#group.flushNow();
    await Promise.allSettled([...this.#sent.values()].map((b) => b.committed));
  }

  #read<T>(request: ReadRequest): Promise<T> {
    if (this.#closing) return Promise.reject(new AuditError("the audit trail is closed"));
    return this.#call((id) => ({ kind: "read", id, request }), "reader") as Promise<T>;
  }

  /** Rows stored. */
  count(): Promise<number> {
    return this.#read({ op: "count" });
  }

  /** One page of the trail, newest first (read on the reader thread). */
  page(query: AuditQuery): Promise<AuditPage> {
    return this.#read({ op: "page", query });
  }

  /** The newest `limit` rows, oldest first. */
  recent(limit: number): Promise<AuditEntry[]> {
    return this.#read({ op: "recent", limit });
  }

  /** Deletes rows decided before `before`, a few thousand per transaction. */
  async purge(before: Date): Promise<number> {
    return Number(await this.#call((id) => ({ kind: "purge", id, before: before.toISOString() }), "writer"));
  }

  /** Writable now? The writer tries to take the write lock (briefly); a recent failed write also counts. */
  async health(): Promise<AuditHealth> {
    const refusal = this.#refusal();
    if (refusal) return { ok: false, cause: refusal.message };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.#call((id) => ({ kind: "probe", id }), "writer"),
        new Promise((_, reject) =>
          timer = setTimeout(
            () => reject(new Error(`the audit writer did not answer within ${PROBE_DEADLINE_MS} ms`)),
            PROBE_DEADLINE_MS,
          )
        ),
      ]);
    } catch (error) {
      return { ok: false, cause: `audit trail ${this.path}: ${(error as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
    const failed = this.#lastWriteFailure;
    if (failed && Date.now() - failed.at < WRITE_FAILURE_MEMORY_MS) {
      return { ok: false, cause: `audit trail ${this.path}: the last write failed: ${failed.message}` };
    }
    return { ok: true };
  }

  /** Counters and gauges for `/metrics`. */
  metrics(): AuditMetrics {
    const m = this.#metrics;
    return {
      backend: "sqlite",
      commits: m.commits,
      rows: m.rows,
      writeFailures: m.writeFailures,
      writerRestarts: m.writerRestarts,
      checkpointAgeSeconds: m.lastCheckpoint === null ? null : (Date.now() - m.lastCheckpoint) / 1000,
      checkpointFailures: m.checkpointFailures,
      walBytes: m.walBytes,
    };
  }

  /** Commits what is pending, stops the threads and closes; later records are refused. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.flush();
      const writer = this.#writer;
      if (writer && !this.#failure) {
        const closed = new Promise<void>((resolve) => (this.#onClosed = resolve));
        writer.postMessage({ kind: "close" } satisfies ToThread);
        await closed;
      }
      writer?.terminate();
      this.#writer = null;
      for (const call of this.#calls.values()) call.reject(new AuditError("the audit trail is closed"));
      this.#calls.clear();
      await Promise.all([stopThread(this.#checkpointer), stopThread(this.#reader)]);
      clearInterval(this.#lagTimer);
      this.#traced.save();
    })();
    return this.#closing;
  }
}

/** An unusable `AUDIT_TRACE`: the trail itself is fine, so its message stands alone. */
class TraceSettingError extends AuditError {}

/**
 * Refuses an `AUDIT_TRACE` prefix whose files cannot be written, at start rather than when the
 * threads write their timings on close (where a failure would only surface as a crash).
 */
function checkTracePrefix(trace: string): void {
  for (const role of ["main", "writer", "checkpointer"]) {
    const file = `${trace}.${role}.jsonl`;
    try {
      Deno.writeTextFileSync(file, "");
    } catch (error) {
      throw new TraceSettingError(
        `AUDIT_TRACE: cannot write ${file}: ${(error as Error).message}. ` +
          "Point it at a writable prefix (and grant --allow-write to it), or unset it",
        { cause: error },
      );
    }
  }
}

/** Creates the file (and its folder) readable by its owner only; tightens an existing one. */
function createPrivateFile(path: string): void {
  const slash = path.lastIndexOf("/");
  if (slash > 0) Deno.mkdirSync(path.slice(0, slash), { recursive: true, mode: 0o700 });
  Deno.openSync(path, { create: true, write: true, mode: 0o600 }).close();
  // SQLite gives its -wal and -shm files the database file's mode.
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if (((Deno.statSync(file).mode ?? 0) & 0o077) !== 0) Deno.chmodSync(file, 0o600);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}

/** Applies the migrations this file lacks and indexes the keys of every row, in one transaction. */
function migrate(path: string): void {
  const db = new DatabaseSync(path);
  try {
    const mode = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
    if (mode.journal_mode !== "wal") {
      throw new Error(`the file system refused WAL (got ${mode.journal_mode})`);
    }
    db.exec("PRAGMA busy_timeout = 5000");
    inTransaction(db, () => {
      db.exec(MIGRATIONS_TABLE);
      const recorded = db.prepare("SELECT coalesce(max(version), 0) AS v FROM schema_migrations").get() as {
        v: number;
      };
      // A file from before schema_migrations kept its version in user_version.
      const legacy = (db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
      const applied = Math.max(Number(recorded.v), legacy);
      const now = new Date().toISOString();
      const note = db.prepare(
        "INSERT OR IGNORE INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
      );
      for (let v = Number(recorded.v) + 1; v <= Math.min(legacy, SCHEMA_VERSION); v++) {
        note.run(v, "(before schema_migrations)", now);
      }
      for (const migration of pendingMigrations(applied)) {
        db.exec(migration.sqlite);
        note.run(migration.version, migration.name, now);
      }
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      // What the last run committed but did not index (its last second, or a large batch's rest).
      indexKeys(db, Number.MAX_SAFE_INTEGER);
    });
  } finally {
    db.close();
  }
}

/** Starts one of the trail's threads and waits until it has opened the database. */
async function startThread(
  role: AuditThreadRole,
  path: string,
  synchronous: "full" | "normal",
  trace?: string,
  lock?: SharedArrayBuffer,
): Promise<{ worker: Worker; settings?: WriterSettings }> {
  const worker = new Worker(WORKER_URL, { type: "module", name: `audit-${role}` });
  try {
    const settings = await new Promise<WriterSettings | undefined>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<FromThread>) => {
        if (event.data.kind === "opened") resolve(event.data.settings);
        else if (event.data.kind === "failed") reject(new Error(event.data.message));
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
      worker.postMessage({ kind: "open", role, path, synchronous, trace, lock } satisfies ToThread);
    });
    return { worker, settings };
  } catch (error) {
    worker.terminate();
    throw error;
  }
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
