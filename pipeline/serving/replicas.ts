/**
 * `WORKERS=N` (or `--workers N`): N replicas of the server in one process, each on its own worker
 * thread with its own copy of the model and its own connection to the audit trail, all listening
 * on the same port (`SO_REUSEPORT`: the kernel picks a listener for each new connection, which keeps
 * it). The main thread only supervises: it starts the replicas, restarts one that crashes (at most
 * {@link MAX_RESTARTS} a minute), and on SIGINT/SIGTERM drains them all.
 *
 * They start in two steps. Each in turn loads its model and opens the audit trail (so migrations
 * never run twice at once) and reports `prepared`; only when all are prepared does the first listen
 * (picking the port when `PORT=0`), then the others on its port, milliseconds later. Listening as
 * each was loaded left the first replica alone on the port for seconds: every connection made
 * meanwhile (a benchmark's, a proxy's keep-alive pool) stayed with it for good, and the others idled.
 *
 * Threads rather than processes: a worker inherits the process's permissions, so no `--allow-run`
 * and no second copy of the permission flags; `reusePort` needs `--unstable-net` (in the task).
 * With the SQLite trail the replicas' writers take turns on one file, waiting for each other on one
 * lock (audit/writer_lock.ts); replicas on several machines share a PostgreSQL trail (`AUDIT_URL`),
 * see the README's "Scaling out".
 * @module
 */

import type { ServerConfig } from "./config.ts";
import type { Logger } from "./log.ts";
import { WriterLock } from "./audit/writer_lock.ts";

/** What a replica's `serveMain` gets instead of signals. */
export interface ReplicaHooks {
  index: number;
  /**
   * Called once the replica is ready to listen; resolves when it may, with the port to share
   * (undefined for the first replica, which takes the configured one).
   */
  prepared(): Promise<number | undefined>;
  /** Called once the replica listens. */
  listening(url: URL): void;
  /** The SQLite trail's writer lock, one for all the replicas (audit/writer_lock.ts). */
  writerLock?: SharedArrayBuffer;
  /** Resolves when the supervisor asks the replica to drain and stop. */
  stopping: Promise<void>;
}

/** Supervisor → replica. */
export type ToReplica =
  | { kind: "start"; index: number; args: string[]; writerLock: SharedArrayBuffer }
  | { kind: "listen"; port?: number }
  | { kind: "stop" };
/** Replica → supervisor. */
export type FromReplica =
  | { kind: "prepared" }
  | { kind: "listening"; url: string }
  | { kind: "exited"; code: number };

/** Crashes of one replica tolerated per minute before the server gives up. */
export const MAX_RESTARTS = 3;
const REPLICA_URL = new URL("./replica_worker.ts", import.meta.url);
/** How long a stop waits for the replicas to drain. */
const STOP_TIMEOUT_MS = 35_000;

interface Replica {
  index: number;
  worker: Worker;
  exited: Promise<number>;
  /** Resolves with the replica's URL once it listens. */
  listening: Promise<string>;
}

/** Runs `config.workers` replicas until a signal; returns the exit code. */
export async function superviseReplicas(
  args: string[],
  config: ServerConfig,
  logger: Logger,
): Promise<number> {
  const n = config.workers;
  // Without --unstable-net, Deno ends the process (exit 70) at the first reusePort; its other
  // unstable network APIs are simply absent, which can be checked first.
  if (!("listenDatagram" in Deno)) {
    console.error(
      `serve: WORKERS=${n} shares the port between replicas (reusePort), which needs --unstable-net`,
    );
    return 1;
  }
  const crashes: number[] = [];
  // The replicas' SQLite writers wait on this for each other rather than in SQLite's busy handler.
  const writerLock = new WriterLock().buffer;
  let stopping = false;
  let failed: ((code: number) => void) | null = null;
  const failure = new Promise<number>((resolve) => (failed = resolve));
  let port: number | undefined;

  /** Starts replica `index`; resolves once it is prepared to listen. */
  const start = (index: number): Promise<Replica> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(REPLICA_URL, { type: "module", name: `replica-${index}` });
      let exit!: (code: number) => void;
      const exited = new Promise<number>((res) => (exit = res));
      let listened!: (url: string) => void;
      const listening = new Promise<string>((res) => (listened = res));
      const replica: Replica = { index, worker, exited, listening };
      worker.onmessage = (event: MessageEvent<FromReplica>) => {
        const data = event.data;
        if (data.kind === "prepared") resolve(replica);
        else if (data.kind === "listening") listened(data.url);
        else {
          exit(data.code);
          if (!stopping) reject(new Error(`replica ${index} stopped with exit code ${data.code}`));
        }
      };
      worker.onerror = (event: ErrorEvent) => {
        event.preventDefault();
        exit(1);
        reject(new Error(event.message));
        if (stopping) return;
        const now = Date.now();
        crashes.push(now);
        while (crashes.length && crashes[0] < now - 60_000) crashes.shift();
        logger.error("replica crashed", {
          replica: index,
          error: event.message,
          crashes_last_minute: crashes.length,
        });
        worker.terminate();
        if (crashes.length > MAX_RESTARTS) failed?.(1);
        else {
          // A crash while the replicas start fails the start; after it, the fresh one joins the port.
          start(index).then(async (fresh) => {
            replicas[index] = fresh;
            if (port !== undefined) await listen(fresh, port);
          }).catch(() => failed?.(1));
        }
      };
      worker.postMessage({ kind: "start", index, args, writerLock } satisfies ToReplica);
    });
  /** Lets a prepared replica listen (on `port`, or the configured one); resolves with its URL. */
  const listen = (replica: Replica, on: number | undefined): Promise<string> => {
    replica.worker.postMessage({ kind: "listen", port: on } satisfies ToReplica);
    return Promise.race([
      replica.listening,
      replica.exited.then((code) => {
        throw new Error(`replica ${replica.index} stopped with exit code ${code} before listening`);
      }),
    ]);
  };

  // Listen for signals first: a replica may take seconds to load its model.
  let signalled: (signal: Deno.Signal) => void;
  const signal = new Promise<Deno.Signal>((resolve) => (signalled = resolve));
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((s) => [s, () => signalled(s)] as const);
  for (const [s, listener] of listeners) Deno.addSignalListener(s, listener);

  const replicas: Replica[] = [];
  const starting = (async () => {
    for (let i = 0; i < n && !stopping; i++) replicas.push(await start(i));
    if (stopping) return;
    port = Number(new URL(await listen(replicas[0], undefined)).port);
    await Promise.all(replicas.slice(1).map((r) => listen(r, port)));
    logger.info("replicas listening", { workers: n, port });
  })();
  const outcome = await Promise.race([
    signal,
    failure,
    starting.then(() => new Promise<never>(() => {}), (error) => {
      logger.error("replicas could not start", { error });
      return 1;
    }),
  ]);
  stopping = true;
  logger.info("shutting down replicas", {
    reason: typeof outcome === "string" ? outcome : "too many crashes",
  });
  // A replica still starting is ended with the others; it has answered nothing yet.
  for (const r of replicas) r.worker.postMessage({ kind: "stop" } satisfies ToReplica);
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(replicas.map((r) => r.exited)),
    new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  for (const r of replicas) r.worker.terminate();
  for (const [s, listener] of listeners) Deno.removeSignalListener(s, listener);
  return typeof outcome === "string" ? 0 : outcome;
}
