/**
 * The audit tests' two backends: SQLite in a temporary folder, and PostgreSQL at
 * `TEST_POSTGRES_URL` (a fresh database per trail, dropped at the end). Without that URL the
 * PostgreSQL variants are skipped with a message saying how to get one; under CI (`CI=true`) a
 * missing URL is an error, since .ci/run always starts a cluster.
 */
import postgres from "postgres";
import { PostgresAuditLog, SqliteAuditLog } from "../../pipeline/serving/audit/log.ts";
import type { AuditStore } from "../../pipeline/serving/audit/store.ts";

/** The cluster the PostgreSQL variants use. */
export const PG_URL = Deno.env.get("TEST_POSTGRES_URL") || null;

const HOW = 'start one with: eval "$(.ci/postgres.sh start)"  (stop it with .ci/postgres.sh stop)';
if (!PG_URL) {
  if (Deno.env.get("CI") === "true") {
    throw new Error(
      `TEST_POSTGRES_URL is not set under CI; .ci/run must provide a PostgreSQL cluster (${HOW})`,
    );
  }
  console.warn(`    PostgreSQL audit tests skipped: TEST_POSTGRES_URL is not set; ${HOW}`);
}

/** One backend the parameterised tests run against. */
export interface Backend {
  name: "sqlite" | "postgres";
  /** Why its tests are skipped, or false. */
  ignore: boolean;
  /** A fresh, empty trail. */
  open(): Promise<AuditStore>;
  /** Settings that point a server process at a fresh trail of this backend. */
  serverEnv(dir: string): Promise<Record<string, string>>;
  /** Row count of a trail a server process wrote, read independently of the store. */
  requestIds(env: Record<string, string>): Promise<string[]>;
}

const created: string[] = [];
let work: string | null = null;
let trails = 0;

async function workDir(): Promise<string> {
  return work ??= await Deno.makeTempDir({ prefix: "credit-audit-" });
}

/** A connection to the cluster's maintenance database. */
function admin() {
  return postgres(PG_URL!, { max: 1, onnotice: () => {} });
}

/** A new, empty database on the test cluster; its URL. */
export async function freshDatabase(): Promise<string> {
  const name = `audit_test_${Date.now().toString(36)}_${crypto.randomUUID().slice(0, 8)}`;
  const sql = admin();
  try {
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end();
  }
  created.push(name);
  const url = new URL(PG_URL!);
  url.pathname = `/${name}`;
  return url.href;
}

/** The backends, SQLite first. */
export const BACKENDS: readonly Backend[] = [
  {
    name: "sqlite",
    ignore: false,
    open: async () => SqliteAuditLog.open(`${await workDir()}/trail-${++trails}/audit.sqlite`),
    serverEnv: (dir) => Promise.resolve({ AUDIT_PATH: `${dir}/audit.sqlite` }),
    requestIds: async (env) => {
      const { DatabaseSync } = await import("node:sqlite");
      const db = new DatabaseSync(env.AUDIT_PATH, { readOnly: true });
      try {
        return (db.prepare("SELECT request_id FROM decisions").all() as { request_id: string }[])
          .map((r) => r.request_id);
      } finally {
        db.close();
      }
    },
  },
  {
    name: "postgres",
    ignore: !PG_URL,
    open: async () => PostgresAuditLog.open(await freshDatabase()),
    serverEnv: async () => ({ AUDIT_URL: await freshDatabase() }),
    requestIds: async (env) => {
      const sql = postgres(env.AUDIT_URL, { max: 1, onnotice: () => {} });
      try {
        return (await sql`SELECT request_id FROM decisions`).map((r) => r.request_id as string);
      } finally {
        await sql.end();
      }
    },
  },
];

/** Drops the databases and folders the tests made. */
export async function cleanupBackends(): Promise<void> {
  if (work) await Deno.remove(work, { recursive: true }).catch(() => {});
  if (!PG_URL || created.length === 0) return;
  const sql = admin();
  try {
    for (const name of created.splice(0)) await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await sql.end();
  }
}

/**
 * A TCP relay in front of the test cluster, so a test can take "the database" away from a server
 * and bring it back without touching the cluster the other tests use.
 */
export class TcpRelay {
  readonly #listener: Deno.TcpListener;
  readonly #target: { hostname: string; port: number };
  readonly #open = new Set<Deno.Conn>();
  #up = true;

  constructor(target: URL) {
    this.#target = { hostname: target.hostname, port: Number(target.port || 5432) };
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accept();
  }

  /** The relay's port. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** `url` with its host and port replaced by the relay's. */
  via(url: string): string {
    const u = new URL(url);
    u.hostname = "127.0.0.1";
    u.port = String(this.port);
    return u.href;
  }

  /** Cuts every connection and refuses new ones (they are closed at once). */
  down(): void {
    this.#up = false;
    for (const conn of this.#open) this.#close(conn);
  }

  /** Relays again. */
  up(): void {
    this.#up = true;
  }

  close(): void {
    this.down();
    this.#listener.close();
  }

  #close(conn: Deno.Conn): void {
    this.#open.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  }

  async #accept(): Promise<void> {
    try {
      await this.#serve();
    } catch { /* the listener was closed */ }
  }

  async #serve(): Promise<void> {
    for await (const client of this.#listener) {
      if (!this.#up) {
        this.#close(client);
        continue;
      }
      this.#open.add(client);
      Deno.connect(this.#target).then((server) => {
        this.#open.add(server);
        const pipe = (from: Deno.Conn, to: Deno.Conn) =>
          from.readable.pipeTo(to.writable).catch(() => {}).finally(() => {
            this.#close(from);
            this.#close(to);
          });
        pipe(client, server);
        pipe(server, client);
      }, () => this.#close(client));
    }
  }
}

/** Reads a server's JSON log lines until it logs `listening`; returns its URL (and keeps draining the log). */
export async function listeningUrl(child: Deno.ChildProcess): Promise<URL> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    const line = buffered.split("\n").find((l) => l.includes('"listening"'));
    if (line) {
      (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
      })();
      return new URL(JSON.parse(line).url);
    }
  }
  throw new Error(`the server did not start:\n${buffered}`);
}

/** A decision as the trail records it, for tests that write rows directly. */
export function decisionRecord(correlationId: string, time = new Date()) {
  return {
    requestId: crypto.randomUUID(),
    correlationId,
    row: null,
    time: time.toISOString(),
    modelVersion: 1,
    runId: "run",
    modelSha256: "0".repeat(64),
    threshold: 0.5,
    reviewMargin: 0,
    inputs: { a: 1 },
    probability: 0.25,
    pd: null,
    decision: "approve" as const,
    reasons: null,
  };
}
