/**
 * `deno task bench:audit`: the audit trail on its own.
 *
 * 1. Group commit: `--clients` concurrent writers (default 64 and 512) each record a decision, await
 *    its commit and record the next, for `--duration` seconds; rows/s, commits and rows per commit, on
 *    SQLite with `synchronous=FULL` and `NORMAL`, and on PostgreSQL when `--url` (or
 *    `TEST_POSTGRES_URL`) is given.
 * 2. `GET /audit` queries on a trail of `--rows` rows (default 400,000; 2 % review, half model 1
 *    and half model 2, a day of times): each query timed cold (a fresh connection) and warm, as the
 *    old code ran it (on the calling thread, schema 1: no index on decision or model_version) and
 *    as it runs now (indexes, reader thread), with the longest stall of the calling thread's event
 *    loop while the query ran.
 *
 * Prints tables and writes `bench/results/audit.json`.
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import {
  type AuditQuery,
  type AuditStore,
  type DecisionRecord,
  PostgresAuditLog,
  SqliteAuditLog,
} from "../pipeline/serving/audit/log.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "10" },
    clients: { type: "string", default: "64,512" },
    rows: { type: "string", default: "400000" },
    url: { type: "string" },
    "skip-queries": { type: "boolean", default: false },
  },
});
const duration = Number(values.duration);
const clientCounts = values.clients.split(",").map(Number);
const rows = Number(values.rows);
const url = values.url ?? Deno.env.get("TEST_POSTGRES_URL") ?? null;
const RESULTS = new URL("./results/audit.json", import.meta.url);
const inputs = JSON.stringify({
  checking_status: "A14",
  duration: 12,
  credit_history: "A32",
  purpose: "A43",
  credit_amount: 2000,
  savings_status: "A61",
  employment: "A73",
  installment_commitment: 2,
  personal_status: "A93",
  other_parties: "A101",
  residence_since: 2,
  property_magnitude: "A121",
  age: 35,
  other_payment_plans: "A143",
  housing: "A152",
  existing_credits: 1,
  job: "A173",
  num_dependents: 1,
  own_telephone: "A191",
  foreign_worker: "A201",
});

function record(i: number, time = new Date()): DecisionRecord {
  return {
    requestId: crypto.randomUUID(),
    correlationId: null,
    row: null,
    time: time.toISOString(),
    modelVersion: i % 2 === 0 ? 1 : 2,
    runId: "20260101-000000-bench",
    modelSha256: "a".repeat(64),
    threshold: 0.37,
    reviewMargin: 0.02,
    inputs: undefined,
    inputsJson: inputs,
    probability: (i % 997) / 997,
    pd: 0.1,
    decision: i % 50 === 0 ? "review" : i % 3 === 0 ? "decline" : "approve",
    reasons: null,
  };
}

/** `clients` writers, each awaiting its commit before the next record. */
async function groupCommit(audit: AuditStore, clients: number) {
  const end = performance.now() + duration * 1000;
  let written = 0;
  const start = performance.now();
  const before = audit.stats.commits;
  await Promise.all(Array.from({ length: clients }, async (_, k) => {
    for (let i = k; performance.now() < end; i += clients) {
      await audit.record(record(i));
      written++;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  const commits = audit.stats.commits - before;
  return {
    backend: audit.backend,
    synchronous: audit.synchronous,
    clients,
    seconds: round(seconds),
    rows: written,
    rows_per_s: Math.round(written / seconds),
    commits,
    rows_per_commit: round(written / Math.max(1, commits)),
  };
}

/** Multi-row groups as a busy server hands them over: `recordAll` of 2,048 rows, two in flight. */
async function bulk(audit: AuditStore) {
  const GROUP = 2048;
  const end = performance.now() + duration * 1000;
  let written = 0;
  const start = performance.now();
  const before = audit.stats.commits;
  await Promise.all([0, 1].map(async () => {
    while (performance.now() < end) {
      await audit.recordAll(Array.from({ length: GROUP }, (_, i) => record(written + i)));
      written += GROUP;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  const commits = audit.stats.commits - before;
  return {
    backend: audit.backend,
    synchronous: audit.synchronous,
    clients: "2 × 2,048-row groups",
    seconds: round(seconds),
    rows: written,
    rows_per_s: Math.round(written / seconds),
    commits,
    rows_per_commit: round(written / Math.max(1, commits)),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
const work = await Deno.makeTempDir({ prefix: "credit-audit-bench-" });
const loadAverage = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
try {
  const commits: Record<string, string | number>[] = [];
  {
    const audit = await SqliteAuditLog.open(`${work}/bulk.sqlite`);
    console.error(`multi-row groups: SQLite synchronous=full, ${duration} s …`);
    commits.push(await bulk(audit));
    await audit.close();
    if (url) {
      const database = await scratchDatabase(url);
      const pg = await PostgresAuditLog.open(database.url);
      console.error(`multi-row groups: PostgreSQL, ${duration} s …`);
      commits.push(await bulk(pg));
      await pg.close();
      await database.drop();
    }
  }
  for (const clients of clientCounts) {
    for (const synchronous of ["full", "normal"] as const) {
      const audit = await SqliteAuditLog.open(`${work}/gc-${synchronous}-${clients}.sqlite`, { synchronous });
      console.error(`group commit: SQLite synchronous=${synchronous}, ${clients} writers, ${duration} s …`);
      commits.push(await groupCommit(audit, clients));
      await audit.close();
    }
    if (url) {
      const database = await scratchDatabase(url);
      const audit = await PostgresAuditLog.open(database.url);
      console.error(`group commit: PostgreSQL, ${clients} writers, ${duration} s …`);
      commits.push(await groupCommit(audit, clients));
      await audit.close();
      await database.drop();
    }
  }
  const queries = values["skip-queries"] ? null : await queryBench();
  const result = {
    date: new Date().toISOString(),
    machine: {
      cores: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      load_average_at_start: loadAverage,
    },
    group_commit: commits,
    queries,
  };
  await writeJsonAtomic(RESULTS.pathname, result);
  console.log(table(
    ["backend", "synchronous", "writers", "rows/s", "commits", "rows/commit"],
    commits.map((c) => [c.backend, c.synchronous, c.clients, c.rows_per_s, c.commits, c.rows_per_commit]),
  ));
  if (queries) {
    console.log(
      `\n/audit queries on ${queries.rows.toLocaleString("en")} rows (ms; stall = longest event-loop pause)`,
    );
    console.log(table(
      ["query", "before cold", "before warm", "before stall", "after cold", "after warm", "after stall"],
      queries.results.map((
        q,
      ) => [
        q.query,
        q.before.cold_ms,
        q.before.warm_ms,
        q.before.stall_ms,
        q.after.cold_ms,
        q.after.warm_ms,
        q.after.stall_ms,
      ]),
    ));
  }
  console.log(`\nwrote ${RESULTS.pathname}`);
} finally {
  await Deno.remove(work, { recursive: true });
}

/** A scratch database on the server at `url`, dropped afterwards. */
async function scratchDatabase(base: string) {
  const { default: postgres } = await import("postgres");
  const name = `audit_bench_${Date.now().toString(36)}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.href,
    drop: async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** The queries `GET /audit` runs, before (schema 1, calling thread) and after (indexes, reader thread). */
async function queryBench() {
  const path = `${work}/queries.sqlite`;
  console.error(`queries: filling a trail with ${rows.toLocaleString("en")} rows …`);
  const audit = await SqliteAuditLog.open(path, { synchronous: "normal" });
  const dayStart = Date.parse("2026-06-01T00:00:00Z");
  const CHUNK = 20_000;
  for (let start = 0; start < rows; start += CHUNK) {
    const w = audit.batch();
    const chunk = [];
    for (let i = start; i < Math.min(rows, start + CHUNK); i++) {
      chunk.push(record(i, new Date(dayStart + (i / rows) * 86_400_000)));
    }
    await w.add(chunk);
    await w.commit();
  }
  await audit.close();
  const QUERIES: { name: string; query: AuditQuery }[] = [
    { name: "newest 100", query: { limit: 100 } },
    { name: "decision=review, 100", query: { limit: 100, decision: "review" } },
    { name: "model_version=3 (none)", query: { limit: 100, modelVersion: 3 } },
    {
      name: "one hour, 100",
      query: { limit: 100, from: "2026-06-01T12:00:00.000Z", to: "2026-06-01T13:00:00.000Z" },
    },
    {
      name: "review in one hour",
      query: {
        limit: 100,
        decision: "review",
        from: "2026-06-01T12:00:00.000Z",
        to: "2026-06-01T13:00:00.000Z",
      },
    },
  ];
  // Before: a copy with schema 1's indexes only (time, request id) on the table itself, queried
  // with a connection on this thread.
  const oldPath = `${work}/queries-v1.sqlite`;
  Deno.copyFileSync(path, oldPath);
  const old = new DatabaseSync(oldPath);
  old.exec(`DROP TABLE decisions_keys;
    CREATE INDEX decisions_time ON decisions (time);
    CREATE INDEX IF NOT EXISTS decisions_request ON decisions (request_id);`);
  old.close();
  const results = [];
  for (const { name, query } of QUERIES) {
    const before = await timeQuery(() => {
      const db = new DatabaseSync(oldPath);
      return {
        run: () => Promise.resolve(mainThreadPage(db, query)),
        close: () => Promise.resolve(db.close()),
      };
    });
    const after = await timeQuery(async () => {
      const trail = await SqliteAuditLog.open(path, { synchronous: "normal" });
      return { run: () => trail.page(query), close: () => trail.close() };
    });
    results.push({ query: name, before, after });
  }
  return { rows, results };
}

/** Cold (first query on a fresh connection) and warm (median of 5) times, and the worst event-loop stall. */
async function timeQuery(
  open: () => Promise<{ run(): Promise<unknown>; close(): Promise<unknown> }> | {
    run(): Promise<unknown>;
    close(): Promise<unknown>;
  },
) {
  const handle = await open();
  let stall = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last - 1);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 20));
  stall = 0;
  let t = performance.now();
  await handle.run();
  const cold = performance.now() - t;
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    await handle.run();
    warm.push(performance.now() - t);
  }
  await new Promise((r) => setTimeout(r, 5));
  clearInterval(ticker);
  await handle.close();
  warm.sort((a, b) => a - b);
  return { cold_ms: round(cold), warm_ms: round(warm[2]), stall_ms: round(stall) };
}

/** The old `page` on the calling thread (the same SQL the reader runs). */
function mainThreadPage(db: DatabaseSync, query: AuditQuery) {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (query.decision !== undefined) where.push("decision = ?"), params.push(query.decision);
  if (query.modelVersion !== undefined) where.push("model_version = ?"), params.push(query.modelVersion);
  if (query.from !== undefined) where.push("time >= ?"), params.push(query.from);
  if (query.to !== undefined) where.push("time < ?"), params.push(query.to);
  const sql = `SELECT * FROM decisions ${
    where.length ? `WHERE ${where.join(" AND ")}` : ""
  } ORDER BY seq DESC LIMIT ?`;
  return db.prepare(sql).all(...params, query.limit + 1);
}

function table(header: string[], body: (string | number)[][]): string {
  const cells = [header, ...body.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((x, c) => c === 0 ? x.padEnd(widths[c]) : x.padStart(widths[c])).join("  "))
    .join("\n");
}
