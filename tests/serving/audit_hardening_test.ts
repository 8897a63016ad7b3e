/**
 * The audit trail's durability, visibility and privacy (issue 17), on each backend where it
 * applies: the SQLite pragmas in effect, private files, `/ready` failing while the trail cannot be
 * written (a lock held by another connection, a writer that crashed too often) and recovering, a
 * crashed writer restarted, batches that join the trail whole or not at all, the server's own
 * request ids, retention, metrics, and migrations from an older file.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createApp } from "../../pipeline/serving/app.ts";
import {
  type AuditStore,
  type BatchWriter,
  MAX_WRITER_RESTARTS,
  MIGRATIONS,
  SCHEMA_VERSION,
  SqliteAuditLog,
} from "../../pipeline/serving/audit/log.ts";
import { purgeMain } from "../../pipeline/cli/audit_purge.ts";
import { purgeExpired } from "../../pipeline/serving/audit/purge.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanApplicants, germanCsv, trainFixtureModel } from "../fixtures.ts";
import { type Backend, BACKENDS, cleanupBackends, decisionRecord } from "./audit_backends.ts";
import { slow } from "../scope.ts";

const quiet = new Logger("off");
const fixture = await trainFixtureModel({ nEstimators: 10 });
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const applicants = await germanApplicants();
const work = await Deno.makeTempDir({ prefix: "credit-audit-hard-" });
let made = 0;
const sqlitePath = () => `${work}/t-${++made}/audit.sqlite`;

const postJson = (app: ReturnType<typeof createApp>, path: string, body: unknown, headers = {}) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

function eachBackend(name: string, fn: (backend: Backend) => Promise<void>) {
  for (const backend of BACKENDS) {
    Deno.test({
      name: `[${backend.name}] ${name}`,
      ignore: backend.ignore,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: () => fn(backend),
    });
  }
}

const sqliteTest = (name: string, fn: () => Promise<void>, options: { ignore?: boolean } = {}) =>
  Deno.test({ name: `[sqlite] ${name}`, sanitizeResources: false, sanitizeOps: false, ...options, fn });

sqliteTest(
  "synchronous = FULL by default (NORMAL on request), WAL, bounded journal: as SQLite reports them",
  async () => {
    const full = await SqliteAuditLog.open(sqlitePath());
    const normal = await SqliteAuditLog.open(sqlitePath(), { synchronous: "normal" });
    try {
      // SQLite's own codes, read back on the writer's connection: 2 = FULL, 1 = NORMAL.
      assert.equal(full.settings.synchronous, 2);
      assert.equal(full.synchronous, "full");
      assert.equal(normal.settings.synchronous, 1);
      assert.equal(full.settings.journalMode, "wal");
      assert.equal(full.settings.journalSizeLimit, 32 * 1024 * 1024);
    } finally {
      await full.close();
      await normal.close();
    }
  },
);

sqliteTest(
  "the WAL stays bounded: past journal_size_limit after a large batch it is checkpointed and truncated",
  async () => {
    const audit = await SqliteAuditLog.open(sqlitePath());
    try {
      // About 40 MB of rows in one batch: more than the 32 MiB limit.
      const inputs = { padding: "x".repeat(500) };
      const writer = audit.batch();
      for (let chunk = 0; chunk < 40; chunk++) {
        await writer.add(Array.from({ length: 2000 }, () => ({ ...decisionRecord("big"), inputs })));
      }
      await writer.commit();
      assert.equal(await audit.count(), 80_000);
      let wal = Infinity;
      for (let i = 0; i < 200 && !(wal < 1024 * 1024); i++) {
        await new Promise((r) => setTimeout(r, 50));
        wal = Deno.statSync(`${audit.path}-wal`).size;
      }
      assert.ok(wal < 1024 * 1024, `WAL is ${wal} bytes after the checkpoint`);
      // The metric is refreshed by the checkpointer after the file shrinks: give it the same time.
      for (let i = 0; i < 200 && !(audit.metrics().walBytes! < 1024 * 1024); i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(audit.metrics().walBytes! < 1024 * 1024);
      assert.equal(audit.metrics().checkpointFailures, 0);
    } finally {
      await audit.close();
    }
  },
  slow,
);

/** The WAL header's checkpoint sequence number (SQLite file format: big-endian u32 at byte 12), bumped each time the WAL starts over. */
function walResets(path: string): number | null {
  try {
    const file = Deno.openSync(`${path}-wal`, { read: true });
    try {
      const header = new Uint8Array(16);
      if (file.readSync(header) !== 16) return null;
      return new DataView(header.buffer).getUint32(12, false);
    } finally {
      file.close();
    }
  } catch {
    return null;
  }
}

/**
 * `writers` clients that each await their row's commit before sending the next (as `/predict`
 * does), until `enough()` or `cap` rows are acknowledged; the acknowledged request ids.
 */
async function sustainedLoad(
  audit: AuditStore,
  options: { writers: number; cap: number; tag: string; enough?: () => boolean },
): Promise<string[]> {
  const acknowledged: string[] = [];
  const client = async () => {
    while (acknowledged.length < options.cap && !options.enough?.()) {
      const row = decisionRecord(options.tag);
      await audit.record(row);
      acknowledged.push(row.requestId);
    }
  };
  await Promise.all(Array.from({ length: options.writers }, client));
  return acknowledged;
}

sqliteTest(
  "under commits without pause the WAL still starts over in place, and never needs a TRUNCATE",
  async () => {
    const audit = await SqliteAuditLog.open(sqlitePath());
    try {
      await audit.record(decisionRecord("warm-up"));
      const first = walResets(audit.path)!;
      // The checkpointer alone copied the WAL as it was when each of its checkpoints began; the
      // writer had appended meanwhile, so the WAL was never wholly copied and never started over
      // until it passed 32 MiB and a TRUNCATE blocked every commit. 3 restarts take ~0.6 s here.
      const ids = await sustainedLoad(audit, {
        writers: 16,
        cap: 30_000,
        tag: "sustained",
        enough: () => (walResets(audit.path) ?? first) - first >= 3,
      });
      const restarts = (walResets(audit.path) ?? first) - first;
      assert.ok(
        restarts >= 3,
        `the WAL started over ${restarts} times while ${ids.length} rows were committed`,
      );
      assert.ok(Deno.statSync(`${audit.path}-wal`).size < 32 * 1024 * 1024);
      assert.equal(audit.metrics().checkpointFailures, 0);
    } finally {
      await audit.close();
    }
    // Every acknowledged row is there once, read on a connection of our own.
    const db = new DatabaseSync(audit.path, { readOnly: true });
    try {
      const stored = db.prepare("SELECT request_id FROM decisions WHERE correlation_id = 'sustained'").all()
        .map((r) => String(r.request_id));
      assert.equal(stored.length, new Set(stored).size);
    } finally {
      db.close();
    }
  },
  slow,
);

eachBackend(
  "under sustained concurrent load every acknowledged row is in the trail exactly once, and no other",
  async (backend) => {
    const audit = await backend.open();
    let acknowledged: string[];
    try {
      acknowledged = await sustainedLoad(audit, { writers: 16, cap: 3_000, tag: "exactly-once" });
      await audit.flush();
      // Read back page by page on the read path, which shares nothing with the writer's.
      const stored: string[] = [];
      let cursor: number | undefined;
      for (;;) {
        const page = await audit.page({ limit: 1000, correlationId: "exactly-once", cursor });
        stored.push(...page.items.map((e) => e.request_id));
        if (page.next_cursor === null) break;
        cursor = Number(page.next_cursor);
      }
      assert.ok(acknowledged.length >= 3_000);
      assert.equal(stored.length, acknowledged.length, "rows stored vs acknowledged");
      assert.deepEqual(new Set(stored), new Set(acknowledged));
      assert.ok(audit.stats.commits < acknowledged.length, "group commit merged rows");
    } finally {
      await audit.close();
    }
  },
);

sqliteTest(
  "AUDIT_TRACE: the writer's trace accounts for every row once, each commit's times in order; groups and checkpoints traced",
  async () => {
    const path = sqlitePath();
    const trace = `${path}.trace`;
    const audit = await SqliteAuditLog.open(path, { trace });
    // 5 rounds of 40 concurrent rows, then long enough for a checkpoint (every 200 ms).
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 40 }, () => audit.record(decisionRecord("traced"))));
    }
    await new Promise((resolve) => setTimeout(resolve, 450));
    await audit.close();
    const lines = (role: string) =>
      Deno.readTextFileSync(`${trace}.${role}.jsonl`).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const writer = lines("writer");
    const commits = writer.filter((r) => r.mode === undefined);
    assert.equal(commits.reduce((n, c) => n + c.rows, 0), 200);
    for (const c of commits) {
      assert.ok(c.queued <= c.begin && c.begin <= c.inserted && c.inserted <= c.committed);
    }
    const groups = lines("main").filter((r) => r.kind === "group");
    assert.equal(groups.reduce((n, g) => n + g.rows, 0), 200);
    assert.ok(lines("checkpointer").some((r) => r.mode === "passive" && r.start <= r.end));
    assert.ok(writer.some((r) => r.mode === "writer"), "the writer finished a checkpoint");
  },
);

// Before, the threads wrote their timings only on close: an unwritable prefix surfaced as uncaught
// errors in the writer and checkpointer at shutdown, after a whole run had been traced for nothing.
sqliteTest(
  "AUDIT_TRACE: an unwritable prefix is refused at open, naming the setting and the file",
  async () => {
    const path = sqlitePath();
    const notAFolder = `${path}.file`;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(notAFolder, "");
    const trace = `${notAFolder}/trace`;
    await assert.rejects(
      () => SqliteAuditLog.open(path, { trace }),
      (error: Error) => {
        assert.match(error.message, /^AUDIT_TRACE: cannot write /);
        assert.ok(error.message.includes(`${trace}.main.jsonl`), error.message);
        return true;
      },
    );
  },
);

sqliteTest(
  "the trail's files are created 0600 in a 0700 folder; an existing 0644 file is tightened",
  async () => {
    const path = sqlitePath();
    const audit = await SqliteAuditLog.open(path);
    try {
      await audit.record(decisionRecord("mode-1"));
      const mode = (file: string) => (Deno.statSync(file).mode ?? 0) & 0o777;
      assert.equal(mode(path), 0o600);
      assert.equal(mode(`${path}-wal`), 0o600);
      assert.equal(mode(`${path}-shm`), 0o600);
      assert.equal(mode(path.slice(0, path.lastIndexOf("/"))), 0o700);
    } finally {
      await audit.close();
    }
    const loose = sqlitePath();
    Deno.mkdirSync(loose.slice(0, loose.lastIndexOf("/")), { recursive: true });
    Deno.writeFileSync(loose, new Uint8Array(), { mode: 0o644 });
    Deno.chmodSync(loose, 0o644);
    const again = await SqliteAuditLog.open(loose);
    await again.close();
    assert.equal((Deno.statSync(loose).mode ?? 0) & 0o777, 0o600);
  },
);

sqliteTest(
  "/ready fails naming the lock while another connection holds the file, /predict answers 503; both recover",
  async () => {
    const path = sqlitePath();
    const audit = await SqliteAuditLog.open(path);
    const app = createApp({ holder, logger: quiet, audit });
    const other = new DatabaseSync(path);
    try {
      assert.equal((await app.request("/ready")).status, 200);
      other.exec("BEGIN EXCLUSIVE"); // holds the write lock
      const ready = await app.request("/ready");
      assert.equal(ready.status, 503);
      const body = await ready.json();
      assert.equal(body.status, "not_ready");
      assert.match(body.cause, /audit trail .*audit\.sqlite.*locked/);
      const refused = await postJson(app, "/predict", applicants[0]);
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get("retry-after"), "1");
      assert.equal((await refused.json()).error, "audit_unavailable");
      const metrics = await (await app.request("/metrics")).text();
      assert.match(metrics, /^audit_write_failures_total\{backend="sqlite"\} 1$/m);
      assert.match(metrics, /^audit_up\{backend="sqlite"\} 0$/m);
      other.exec("ROLLBACK");
      assert.equal((await postJson(app, "/predict", applicants[0])).status, 200);
      assert.equal((await app.request("/ready")).status, 200);
      assert.equal(await audit.count(), 1);
    } finally {
      if (other.isTransaction) other.exec("ROLLBACK");
      other.close();
      await audit.close();
    }
  },
  slow,
);

sqliteTest(
  "a crashed writer is restarted and decisions go on; past the limit /ready fails naming the crash",
  async () => {
    const audit = await SqliteAuditLog.open(sqlitePath());
    const app = createApp({ holder, logger: quiet, audit });
    try {
      const waitFor = async (check: () => Promise<boolean>) => {
        for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 25));
      };
      for (let crash = 1; crash <= MAX_WRITER_RESTARTS; crash++) {
        audit.crashWriterForTest();
        await waitFor(() => Promise.resolve(audit.metrics().writerRestarts === crash));
        assert.equal(audit.metrics().writerRestarts, crash);
        assert.equal((await postJson(app, "/predict", applicants[crash])).status, 200);
        assert.equal((await app.request("/ready")).status, 200);
      }
      assert.equal(await audit.count(), MAX_WRITER_RESTARTS);
      audit.crashWriterForTest();
      await waitFor(async () => (await app.request("/ready")).status === 503);
      const ready = await app.request("/ready");
      assert.equal(ready.status, 503);
      assert.match((await ready.json()).cause, /audit writer crashed 4 times within a minute/);
      assert.equal((await postJson(app, "/predict", applicants[9])).status, 500);
    } finally {
      await audit.close();
    }
  },
);

eachBackend(
  "two requests with the same client X-Request-Id are two audit keys; the client's id is only the correlation id",
  async (backend) => {
    const audit = await backend.open();
    try {
      const app = createApp({ holder, logger: quiet, audit });
      const answers = [];
      for (const i of [0, 1]) {
        const response = await postJson(app, "/predict", applicants[i], { "x-request-id": "same-id" });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("x-correlation-id"), "same-id");
        assert.notEqual(response.headers.get("x-request-id"), "same-id");
        answers.push(await response.json());
      }
      const rows = (await audit.page({ limit: 10, correlationId: "same-id" })).items;
      assert.equal(rows.length, 2);
      assert.notEqual(rows[0].request_id, rows[1].request_id);
      assert.deepEqual(new Set(rows.map((r) => r.request_id)), new Set(answers.map((a) => a.request_id)));
      assert.ok(rows.every((r) => r.request_id !== "same-id" && r.correlation_id === "same-id"));
      assert.equal((await audit.page({ limit: 10, requestId: "same-id" })).items.length, 0);
    } finally {
      await audit.close();
    }
  },
);

eachBackend(
  "a batch joins the trail whole: 3,000 CSV rows all in; one that fails midway leaves no row and is not answered",
  async (backend) => {
    const audit = await backend.open();
    try {
      const app = createApp({ holder, logger: quiet, audit, config: { reviewMargin: 0.05 } });
      const lines = (await germanCsv({ ids: true })).trimEnd().split("\n");
      const big = [lines[0], ...Array.from({ length: 3000 }, (_, i) => lines[1 + (i % 1000)])].join("\n") +
        "\n";
      const ok = await app.request("/predict/batch", {
        method: "POST",
        headers: { "content-type": "text/csv", "x-request-id": "big" },
        body: big,
      });
      assert.equal(ok.status, 200);
      const rows = (await audit.page({ limit: 1000, correlationId: "big" })).items;
      assert.equal(rows.length, 1000);
      assert.equal(await audit.count(), 3000);
      assert.ok(rows.every((r) => r.review_margin === 0.05 && r.model_sha256 === holder.current!.sha256));

      // The same batch through a trail whose second chunk fails: nothing of it is kept.
      let adds = 0;
      const failing: AuditStore = Object.create(audit, {
        batch: {
          value: (): BatchWriter => {
            const inner = audit.batch();
            return {
              add: (chunk) => ++adds === 2 ? Promise.reject(new Error("disk full")) : inner.add(chunk),
              commit: () => inner.commit(),
              abort: () => inner.abort(),
            };
          },
        },
      });
      const broken = createApp({ holder, logger: quiet, audit: failing });
      const refused = await broken.request("/predict/batch", {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: big,
      });
      assert.equal(refused.status, 500);
      assert.ok(adds >= 2);
      assert.equal(await audit.count(), 3000, "no orphan rows of the refused batch");

      // Aborted and committed by hand.
      const writer = audit.batch();
      await writer.add([decisionRecord("manual-1"), decisionRecord("manual-2")]);
      await writer.abort();
      assert.equal(await audit.count(), 3000);
      const kept = audit.batch();
      await kept.add([decisionRecord("manual-3")]);
      await kept.add([decisionRecord("manual-4")]);
      assert.equal(await audit.count(), 3000, "staged rows are not in the trail before the commit");
      await kept.commit();
      assert.equal(await audit.count(), 3002);
    } finally {
      await audit.close();
    }
  },
);

eachBackend("retention: decisions older than the retention are purged, the others kept", async (backend) => {
  const audit = await backend.open();
  try {
    const now = new Date("2026-06-30T12:00:00Z");
    const day = 86_400_000;
    await audit.recordAll([
      decisionRecord("old-1", new Date(now.getTime() - 400 * day)),
      decisionRecord("old-2", new Date(now.getTime() - 31 * day)),
      decisionRecord("new-1", new Date(now.getTime() - 29 * day)),
      decisionRecord("new-2", now),
    ]);
    const outcome = await purgeExpired(audit, 30, now);
    assert.deepEqual(outcome, { cutoff: "2026-05-31T12:00:00.000Z", deleted: 2, remaining: 2 });
    assert.deepEqual((await audit.page({ limit: 10 })).items.map((r) => r.correlation_id), [
      "new-2",
      "new-1",
    ]);
    assert.equal((await purgeExpired(audit, 30, now)).deleted, 0);
  } finally {
    await audit.close();
  }
});

sqliteTest("retention through the task: purge --days and AUDIT_RETENTION_DAYS; usage errors", async () => {
  const path = sqlitePath();
  const audit = await SqliteAuditLog.open(path);
  const now = Date.now();
  const day = 86_400_000;
  await audit.recordAll([
    decisionRecord("old-1", new Date(now - 400 * day)),
    decisionRecord("old-2", new Date(now - 31 * day)),
    decisionRecord("new-1", new Date(now - 29 * day)),
    decisionRecord("new-2", new Date(now)),
  ]);
  const printed: string[] = [];
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(
    await purgeMain([], env({ AUDIT_PATH: path, AUDIT_RETENTION_DAYS: "365" }), (l) => printed.push(l)),
    0,
  );
  assert.equal(JSON.parse(printed[0]).deleted, 1);
  assert.equal(await purgeMain(["--days", "30"], env({ AUDIT_PATH: path }), (l) => printed.push(l)), 0);
  const outcome = JSON.parse(printed[1]);
  assert.equal(outcome.deleted, 1);
  assert.equal(outcome.remaining, 2);
  assert.deepEqual((await audit.page({ limit: 10 })).items.map((r) => r.correlation_id), ["new-2", "new-1"]);
  await assert.rejects(() => purgeMain([], env({ AUDIT_PATH: path })), /no retention set/);
  await assert.rejects(() => purgeMain(["--days", "0"], env({ AUDIT_PATH: path })), /--days/);
  await audit.close();
});

sqliteTest(
  "a file from before schema_migrations is migrated in place: rows kept, columns added, versions recorded",
  async () => {
    const path = sqlitePath();
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const legacy = new DatabaseSync(path);
    legacy.exec("PRAGMA journal_mode = WAL");
    legacy.exec(MIGRATIONS[0].sqlite);
    legacy.exec("PRAGMA user_version = 1");
    legacy.prepare(
      "INSERT INTO decisions (request_id, row, time, model_version, run_id, inputs, probability_bad, pd, decision, reasons) " +
        "VALUES ('legacy-1', NULL, '2024-01-01T00:00:00.000Z', 1, 'run', '{}', 0.25, NULL, 'approve', NULL)",
    ).run();
    legacy.close();
    const audit = await SqliteAuditLog.open(path);
    try {
      const [entry] = (await audit.page({ limit: 5 })).items;
      assert.equal(entry.request_id, "legacy-1");
      assert.equal(entry.model_sha256, null);
      assert.equal(entry.correlation_id, null);
      await audit.record(decisionRecord("after"));
      assert.equal(await audit.count(), 2);
    } finally {
      await audit.close();
    }
    const db = new DatabaseSync(path, { readOnly: true });
    const versions = db.prepare("SELECT version FROM schema_migrations ORDER BY version").all().map((r) =>
      Number(r.version)
    );
    db.close();
    assert.deepEqual(versions, MIGRATIONS.map((m) => m.version));
    // A file from a newer build is refused, not written.
    const newer = new DatabaseSync(path);
    newer.exec(`INSERT INTO schema_migrations VALUES (${SCHEMA_VERSION + 1}, 'future', '2099-01-01')`);
    newer.close();
    await assert.rejects(
      () => SqliteAuditLog.open(path),
      new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer than this build's ${SCHEMA_VERSION}`),
    );
  },
);

eachBackend("metrics: commits, rows and failures of the trail are exported", async (backend) => {
  const audit = await backend.open();
  try {
    const app = createApp({ holder, logger: quiet, audit });
    for (let i = 0; i < 5; i++) assert.equal((await postJson(app, "/predict", applicants[i])).status, 200);
    assert.equal((await app.request("/ready")).status, 200);
    const text = await (await app.request("/metrics")).text();
    const value = (name: string) =>
      Number(text.match(new RegExp(`^${name}\\{backend="${backend.name}"\\} (\\S+)$`, "m"))?.[1]);
    assert.equal(value("audit_rows_written_total"), 5);
    assert.ok(value("audit_commits_total") >= 1 && value("audit_commits_total") <= 5);
    assert.equal(value("audit_write_failures_total"), 0);
    assert.equal(value("audit_up"), 1);
    if (backend.name === "sqlite") {
      await new Promise((r) => setTimeout(r, 500)); // a checkpoint or two
      const later = await (await app.request("/metrics")).text();
      const age = Number(later.match(/^audit_checkpoint_age_seconds\{backend="sqlite"\} (\S+)$/m)?.[1]);
      assert.ok(age >= 0 && age < 5, `checkpoint age ${age}`);
      assert.match(later, /^audit_checkpoint_failures_total\{backend="sqlite"\} 0$/m);
      assert.match(later, /^audit_wal_bytes\{backend="sqlite"\} \d+$/m);
    }
  } finally {
    await audit.close();
  }
});

Deno.test("cleanup: temporary trails, databases and models", async () => {
  await Deno.remove(work, { recursive: true });
  await cleanupBackends();
  await fixture.cleanup();
});
