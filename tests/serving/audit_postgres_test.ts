/**
 * What only the PostgreSQL trail has: a database that is unreachable at start stops the server with
 * a message naming the host (exit 1, no stack); one that goes away later turns `/predict` into 503
 * and `/ready` into 503 naming the cause, and both recover when it is back; replicas starting at
 * once apply the migrations once.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { createApp } from "../../pipeline/serving/app.ts";
import { AuditError, MIGRATIONS, PostgresAuditLog } from "../../pipeline/serving/audit/log.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanApplicants, serveProcess, trainFixtureModel } from "../fixtures.ts";
import { cleanupBackends, freshDatabase, PG_URL, TcpRelay } from "./audit_backends.ts";
import { slow } from "../scope.ts";

const quiet = new Logger("off");
const fixture = await trainFixtureModel({ nEstimators: 10 });
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const applicants = await germanApplicants();

/** A port nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

const pgTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({
    name: `[postgres] ${name}`,
    ignore: !PG_URL,
    sanitizeResources: false,
    sanitizeOps: false,
    fn,
  });

Deno.test("[postgres] an unreachable database at start: AuditError naming the host, without the password", async () => {
  const port = closedPort();
  const url = `postgres://audit:secret-password@127.0.0.1:${port}/audit`;
  await assert.rejects(() => PostgresAuditLog.open(url), (error: Error) => {
    assert.ok(error instanceof AuditError);
    assert.match(error.message, new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${port}/audit: .*ECONNREFUSED`));
    assert.doesNotMatch(error.message, /secret-password/);
    return true;
  });
});

Deno.test(
  "[postgres] an unreachable database at start: serve.ts exits 1 naming the host, without a stack",
  slow,
  async () => {
    const port = closedPort();
    const url = `postgres://audit:secret-password@127.0.0.1:${port}/audit`;
    const dir = await Deno.makeTempDir({ prefix: "credit-pg-down-" });
    try {
      const { code, stderr } = await serveProcess(
        { MODELS_DIR: fixture.modelsDir, AUDIT_URL: url, LOG: "off" },
        dir,
      )
        .output();
      const text = new TextDecoder().decode(stderr);
      assert.equal(code, 1);
      assert.match(
        text,
        new RegExp(`^serve: cannot open the audit trail on PostgreSQL at 127\\.0\\.0\\.1:${port}/audit`),
      );
      assert.doesNotMatch(text, /\n\s+at /, "no stack trace");
      assert.doesNotMatch(text, /secret-password/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

pgTest(
  "the database goes away: /predict 503 with Retry-After, /ready 503 naming it; both recover when it is back",
  async () => {
    const relay = new TcpRelay(new URL(PG_URL!));
    const audit = await PostgresAuditLog.open(relay.via(await freshDatabase()));
    try {
      const app = createApp({ holder, logger: quiet, audit });
      const post = (i: number) =>
        app.request("/predict", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(applicants[i]),
        });
      assert.equal((await post(0)).status, 200);
      assert.equal((await app.request("/ready")).status, 200);

      relay.down();
      const refused = await post(1);
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get("retry-after"), "1");
      assert.equal((await refused.json()).error, "audit_unavailable");
      const ready = await app.request("/ready");
      assert.equal(ready.status, 503);
      assert.match(
        (await ready.json()).cause,
        new RegExp(`PostgreSQL at 127\\.0\\.0\\.1:${relay.port}/audit_test_\\w+ is unreachable`),
      );

      relay.up();
      let recovered = 0;
      for (let i = 0; i < 50 && recovered !== 200; i++) {
        recovered = (await app.request("/ready")).status;
        if (recovered !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(recovered, 200);
      assert.equal((await post(2)).status, 200);
      assert.equal(await audit.count(), 2, "the refused decision is not in the trail; the others are");
    } finally {
      await audit.close();
      relay.close();
    }
  },
);

pgTest("three replicas starting at once apply each migration once", async () => {
  const url = await freshDatabase();
  const trails = await Promise.all([0, 1, 2].map(() => PostgresAuditLog.open(url)));
  await Promise.all(trails.map((t) => t.close()));
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`SELECT version, name FROM schema_migrations ORDER BY version`;
    assert.deepEqual(rows.map((r) => [r.version, r.name]), MIGRATIONS.map((m) => [m.version, m.name]));
    const columns = await sql`SELECT column_name FROM information_schema.columns
      WHERE table_name = 'decisions' ORDER BY ordinal_position`;
    assert.deepEqual(columns.map((c) => c.column_name), [
      "seq",
      "request_id",
      "row",
      "time",
      "model_version",
      "run_id",
      "inputs",
      "probability_bad",
      "pd",
      "decision",
      "reasons",
      "correlation_id",
      "model_sha256",
      "threshold",
      "review_margin",
    ]);
    const indexes =
      await sql`SELECT indexname FROM pg_indexes WHERE tablename = 'decisions' ORDER BY indexname`;
    for (const name of ["decisions_decision", "decisions_model", "decisions_time"]) {
      assert.ok(indexes.some((i) => i.indexname === name), name);
    }
  } finally {
    await sql.end();
  }
});

Deno.test("cleanup: databases and models", async () => {
  await cleanupBackends();
  await fixture.cleanup();
});
