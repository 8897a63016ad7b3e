/**
 * The audit trail, on each backend (SQLite and PostgreSQL, see audit_backends.ts): every decision
 * served is a row (single and batch), group commit keeps the row count exact under concurrency,
 * `GET /audit` pages and filters behind its own token, a decision whose row cannot be written is
 * not answered, and a server killed with SIGKILL under traffic has every decision it acknowledged
 * in the trail.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { ConfigError, configFromEnv } from "../../pipeline/serving/config.ts";
import { AuditError, AuditLog, type AuditStore, Pseudonymiser } from "../../pipeline/serving/audit/log.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanApplicants, germanCsv, parseCsv, serveProcess, trainFixtureModel } from "../fixtures.ts";
import { type Backend, BACKENDS, cleanupBackends } from "./audit_backends.ts";
import { slow } from "../scope.ts";

const TOKEN = "audit-test-token-0123456789";
const PSEUDONYM_KEY = "pseudonym-key-for-the-tests-0123";
const quiet = new Logger("off");
const fixture = await trainFixtureModel({ nEstimators: 20 });
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const applicants = await germanApplicants();
const work = await Deno.makeTempDir({ prefix: "credit-audit-" });
const pseudonyms = new Pseudonymiser(PSEUDONYM_KEY);

/** HMAC-SHA-256 by WebCrypto, independently of the server's node:crypto pseudonyms. */
async function expectedPseudonym(id: string): Promise<string> {
  const encode = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encode.encode(PSEUDONYM_KEY),
    {
      name: "HMAC",
      hash: "SHA-256",
    },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encode.encode(id)));
  return "hmac-sha256:" + Array.from(mac.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Registers `fn` once per backend, named after it; PostgreSQL's is skipped without a cluster. */
function eachBackend(
  name: string,
  fn: (backend: Backend, openTrail: () => Promise<AuditStore>) => Promise<void>,
  options: { ignore?: boolean } = {},
) {
  for (const backend of BACKENDS) {
    Deno.test({
      name: `[${backend.name}] ${name}`,
      ignore: backend.ignore || options.ignore === true,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: () => fn(backend, backend.open),
    });
  }
}

const postJson = (app: ReturnType<typeof createApp>, path: string, body: unknown, headers = {}) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

eachBackend(
  "N concurrent /predict requests leave exactly N rows, committed in fewer transactions",
  async (_, openTrail) => {
    const audit = await openTrail();
    try {
      const app = createApp({ holder, logger: quiet, audit });
      const N = 300;
      const responses = await Promise.all(
        Array.from(
          { length: N },
          (_, i) => postJson(app, "/predict", applicants[i], { "x-request-id": `req-${i}` }),
        ),
      );
      const answers = await Promise.all(responses.map((r) => r.json()));
      assert.ok(responses.every((r) => r.status === 200));
      assert.equal(await audit.count(), N);
      assert.ok(audit.stats.commits < N, `group commit: ${audit.stats.commits} commits for ${N} rows`);
      const all = (await audit.page({ limit: 1000 })).items;
      assert.equal(all.length, N);
      const byId = new Map(all.map((e) => [e.correlation_id, e]));
      for (let i = 0; i < N; i++) {
        const entry = byId.get(`req-${i}`)!;
        assert.ok(entry, `req-${i} recorded`);
        // The key is the server's own id; the client's is only the correlation id.
        assert.equal(entry.request_id, answers[i].request_id);
        assert.notEqual(entry.request_id, `req-${i}`);
        assert.equal(entry.model_sha256, holder.current!.sha256);
        assert.equal(entry.threshold, answers[i].threshold);
        assert.equal(entry.review_margin, 0);
        assert.deepEqual(entry.inputs, applicants[i]);
        assert.equal(entry.probability_bad, answers[i].probability_bad);
        assert.equal(entry.pd, answers[i].pd);
        assert.equal(entry.decision, answers[i].decision);
        assert.deepEqual(entry.reasons, answers[i].reasons ?? null);
        assert.equal(entry.model_version, 1);
        assert.equal(entry.run_id, fixture.artifact.run_id);
        assert.equal(entry.row, null);
        assert.ok(!Number.isNaN(Date.parse(entry.time)));
      }
    } finally {
      await audit.close();
    }
  },
);

eachBackend(
  "batch rows: every scored row of a JSON or CSV batch is a row; rejected rows are not",
  async (_, openTrail) => {
    const audit = await openTrail();
    try {
      const app = createApp({ holder, logger: quiet, audit, config: { auditPseudonymKey: PSEUDONYM_KEY } });
      const records = [
        { id: "j-1", ...applicants[0] },
        { ...applicants[1], duration: "long" },
        { id: 7, ...applicants[2] },
      ];
      const json = await postJson(app, "/predict/batch", records, { "x-request-id": "batch-json" });
      assert.equal(json.status, 200);
      const answer = await json.json();
      assert.equal(answer.scored, 2);

      const csv = await germanCsv({ ids: true, rows: 50 });
      const lines = csv.trimEnd().split("\n");
      lines[5] = lines[5].replace(/,A1[1-4],/, ",A19,"); // row 5 rejected
      const csvResponse = await app.request("/predict/batch", {
        method: "POST",
        headers: { "content-type": "text/csv", "x-request-id": "batch-csv", accept: "text/csv" },
        body: lines.join("\r\n") + "\r\n",
      });
      assert.equal(csvResponse.status, 200);
      const scored = parseCsv(await csvResponse.text()).filter((r) => r.decision !== "");
      assert.equal(scored.length, 49);

      const jsonRows = (await audit.page({ limit: 100, correlationId: "batch-json" })).items.reverse();
      assert.deepEqual(jsonRows.map((r) => r.row), [1, 3]);
      // Row ids are stored as keyed pseudonyms, never as sent.
      assert.deepEqual(jsonRows[0].inputs, { ...records[0], id: await expectedPseudonym("j-1") });
      assert.deepEqual(jsonRows[1].inputs, { ...records[2], id: await expectedPseudonym("7") });
      assert.equal(jsonRows[0].probability_bad, answer.predictions[0].probability_bad);
      assert.equal(jsonRows[0].request_id, answer.request_id);
      assert.equal(jsonRows[0].model_sha256, holder.current!.sha256);

      const csvRows = (await audit.page({ limit: 100, correlationId: "batch-csv" })).items.reverse();
      assert.equal(csvRows.length, 49);
      assert.ok(!csvRows.some((r) => r.row === 5));
      for (const entry of csvRows) {
        const out = scored.find((r) => Number(r.row) === entry.row)!;
        assert.equal(entry.probability_bad, Number(out.probability_bad));
        assert.equal(entry.decision, out.decision);
        const { id, ...inputs } = entry.inputs as Record<string, unknown>;
        assert.equal(id, await expectedPseudonym(`applicant-${entry.row}`));
        assert.equal(id, pseudonyms.pseudonym(`applicant-${entry.row}`));
        assert.deepEqual(inputs, applicants[entry.row! - 1]);
      }
      assert.equal(await audit.count(), 51);
    } finally {
      await audit.close();
    }
  },
);

eachBackend(
  "GET /audit: 404 without a token, 401/403, pages newest first, filters, 422 for bad parameters",
  async (_, openTrail) => {
    const audit = await openTrail();
    try {
      assert.equal((await createApp({ holder, logger: quiet, audit }).request("/audit")).status, 404);
      const app = createApp({
        holder,
        logger: quiet,
        audit,
        config: { auditToken: TOKEN, reviewMargin: 0.2 },
      });
      const N = 45;
      for (let i = 0; i < N; i++) {
        assert.equal(
          (await postJson(app, "/predict", applicants[i], { "x-request-id": `p-${i}` })).status,
          200,
        );
      }
      const get = (query: string, token = TOKEN) =>
        app.request(`/audit${query}`, { headers: { authorization: `Bearer ${token}` } });
      const noToken = await app.request("/audit");
      assert.equal(noToken.status, 401);
      assert.match(noToken.headers.get("www-authenticate")!, /Bearer/);
      assert.equal((await get("", "wrong-token-0123456789")).status, 403);

      const seen: string[] = [];
      let cursor: string | null = "";
      for (let pages = 0; cursor !== null; pages++) {
        assert.ok(pages < 10);
        const response = await get(`?limit=10${cursor ? `&cursor=${cursor}` : ""}`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("cache-control"), "no-store");
        const page = await response.json();
        assert.ok(page.items.length <= 10);
        seen.push(...page.items.map((e: { correlation_id: string }) => e.correlation_id));
        cursor = page.next_cursor;
      }
      assert.deepEqual(seen, Array.from({ length: N }, (_, i) => `p-${N - 1 - i}`));

      const reviews = await (await get("?decision=review&limit=1000")).json();
      assert.ok(reviews.items.length > 0);
      assert.ok(reviews.items.every((e: { decision: string }) => e.decision === "review"));
      assert.equal((await (await get("?model_version=2")).json()).items.length, 0);
      assert.equal((await (await get("?model_version=1&limit=1000")).json()).items.length, N);
      const one = await (await get("?correlation_id=p-7")).json();
      assert.equal(one.items.length, 1);
      assert.deepEqual(one.items[0].inputs, applicants[7]);
      const byKey = await (await get(`?request_id=${one.items[0].request_id}`)).json();
      assert.deepEqual(byKey.items, one.items);
      assert.equal((await (await get("?request_id=p-7")).json()).items.length, 0);
      assert.equal((await (await get("?from=2999-01-01T00:00:00Z")).json()).items.length, 0);
      assert.equal((await (await get("?to=2000-01-01")).json()).items.length, 0);
      assert.equal(
        (await (await get(`?from=${new Date(Date.now() - 60_000).toISOString()}&limit=1000`)).json())
          .items.length,
        N,
      );

      for (
        const bad of [
          "?limit=0",
          "?limit=5000",
          "?limit=abc",
          "?cursor=-1",
          "?decision=maybe",
          "?from=yesterday",
        ]
      ) {
        const response = await get(bad);
        assert.equal(response.status, 422, bad);
        const body = await response.json();
        assert.equal(body.error, "validation_error");
        assert.ok(body.issues.length > 0);
      }
      // The admin token never opens it: with no audit token the route does not exist.
      const admin = createApp({ holder, logger: quiet, audit, config: { adminToken: TOKEN } });
      const viaAdmin = await admin.request("/audit?limit=1", {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(viaAdmin.status, 404);
      // With the trail off, the route says so.
      const off = createApp({ holder, logger: quiet, audit: null, config: { auditToken: TOKEN } });
      const offAnswer = await off.request("/audit", { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(offAnswer.status, 404);
      assert.match((await offAnswer.json()).message, /AUDIT=off/);
    } finally {
      await audit.close();
    }
  },
);

eachBackend(
  "a decision whose row cannot be written is not answered: 500, nothing acknowledged",
  async (_, openTrail) => {
    const audit = await openTrail();
    const logged: unknown[] = [];
    const app = createApp({ holder, logger: new Logger("error", (line) => logged.push(line)), audit });
    assert.equal((await postJson(app, "/predict", applicants[0])).status, 200);
    await audit.close();
    const refused = await postJson(app, "/predict", applicants[1]);
    assert.equal(refused.status, 500);
    const body = await refused.json();
    assert.equal(body.error, "internal_error");
    assert.equal(body.probability_bad, undefined);
    assert.equal(logged.length, 1);
    await assert.rejects(() => audit.record({} as never), AuditError);
  },
);

Deno.test("settings: AUDIT, AUDIT_PATH/AUDIT_DB, AUDIT_URL, AUDIT_SYNC, AUDIT_TOKEN, retention, DRIFT_WINDOW", () => {
  const env = (vars: Record<string, string | undefined>) => configFromEnv((n) => vars[n]);
  assert.equal(env({}).auditPath, "data/audit/audit.sqlite");
  assert.equal(env({}).auditSync, "full"); // a power cut loses no answered decision
  assert.equal(env({ AUDIT_SYNC: "normal" }).auditSync, "normal");
  assert.equal(env({}).auditTrace, undefined); // no timings kept unless asked
  assert.equal(env({ AUDIT_TRACE: "/tmp/trace" }).auditTrace, "/tmp/trace");
  assert.equal(env({ AUDIT: "off", AUDIT_DB: "x.sqlite" }).auditPath, null);
  assert.equal(env({ AUDIT_DB: "/tmp/a.sqlite" }).auditPath, "/tmp/a.sqlite");
  assert.equal(
    env({ AUDIT_PATH: "/var/lib/a.sqlite", AUDIT_DB: "/tmp/a.sqlite" }).auditPath,
    "/var/lib/a.sqlite",
  );
  assert.equal(env({ AUDIT_URL: "postgres://u:p@db:5432/audit" }).auditUrl, "postgres://u:p@db:5432/audit");
  assert.equal(env({ AUDIT: "off", AUDIT_URL: "postgres://db/audit" }).auditUrl, null);
  assert.equal(env({ AUDIT_RETENTION_DAYS: "3650" }).auditRetentionDays, 3650);
  assert.equal(env({}).auditRetentionDays, undefined);
  assert.equal(env({ WORKERS: "3" }).workers, 3);
  assert.equal(env({}).workers, 1);
  // No fallback: the admin token is not the audit token, and the two cannot be the same secret.
  assert.equal(env({ ADMIN_TOKEN: TOKEN }).auditToken, undefined);
  assert.throws(() => env({ ADMIN_TOKEN: TOKEN, AUDIT_TOKEN: TOKEN }), ConfigError);
  assert.equal(env({ AUDIT_SYNC: "FULL" }).auditSync, "full");
  assert.equal(env({ AUDIT_TOKEN: TOKEN }).auditToken, TOKEN);
  assert.equal(env({ DRIFT_WINDOW: "500" }).driftWindow, 500);
  for (
    const bad of [
      { AUDIT: "maybe" },
      { AUDIT_SYNC: "extra" },
      { AUDIT_TOKEN: "short" },
      {
        DRIFT_WINDOW: "0",
      },
      { AUDIT_URL: "mysql://db/audit" },
      { AUDIT_RETENTION_DAYS: "0" },
      { AUDIT_PSEUDONYM_KEY: "short" },
      {
        WORKERS: "0",
      },
    ]
  ) {
    assert.throws(() => env(bad), ConfigError, JSON.stringify(bad));
  }
});

Deno.test("a trail that cannot be opened is refused with the path and the way out", async () => {
  await Deno.writeTextFile(`${work}/a-file`, "not a folder");
  await assert.rejects(
    () => AuditLog.open(`${work}/a-file/audit.sqlite`),
    (error: Error) => {
      assert.ok(error instanceof AuditError);
      assert.match(error.message, /cannot open the audit trail .*a-file\/audit\.sqlite/);
      assert.match(error.message, /AUDIT_DB|AUDIT=off/);
      return true;
    },
  );
});

/** Reads JSON log lines until the server logs `listening`; returns its URL. */
async function listeningUrl(child: Deno.ChildProcess): Promise<URL> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buffered += value;
    for (const line of buffered.split("\n")) {
      if (line.includes('"listening"')) {
        // Keep draining so the server never blocks on a full pipe.
        (async () => {
          while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
        })();
        return new URL(JSON.parse(line).url);
      }
    }
  }
  throw new Error(`the server did not start:\n${buffered}`);
}

eachBackend(
  "SIGKILL under traffic: every decision the server acknowledged is in the trail",
  async (backend) => {
    const dir = await Deno.makeTempDir({ prefix: "credit-kill-" });
    const env = await backend.serverEnv(dir);
    const child = serveProcess({ MODELS_DIR: fixture.modelsDir, ...env }, dir);
    try {
      const url = new URL("/predict", await listeningUrl(child));
      const acknowledged: string[] = [];
      let sent = 0;
      const deadline = Date.now() + 20_000; // bound on time (a loaded machine fsyncs slowly) …
      const MAX_PER_CLIENT = 5_000; // … and on count
      let killed = false;
      const client = async (k: number) => {
        for (let i = 0; i < MAX_PER_CLIENT && Date.now() < deadline; i++) {
          const id = `kill-${k}-${i}`;
          sent++;
          try {
            const response = await fetch(url, {
              method: "POST",
              headers: { "content-type": "application/json", "x-request-id": id },
              body: JSON.stringify(applicants[(k * 131 + i) % applicants.length]),
            });
            const body = await response.json();
            if (response.status === 200 && response.headers.get("x-correlation-id") === id) {
              acknowledged.push(body.request_id);
            }
          } catch {
            if (killed) return; // the server is gone
            throw new Error(`request ${id} failed before the kill`);
          }
        }
      };
      const clients = Array.from({ length: 8 }, (_, k) => client(k));
      while (acknowledged.length < 1500 && Date.now() < deadline - 5_000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      killed = true;
      child.kill("SIGKILL");
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
      await Promise.all(clients);
      assert.ok(acknowledged.length >= 200, `only ${acknowledged.length} acknowledged before the kill`);

      const rows = await backend.requestIds(env);
      const stored = new Set(rows);
      assert.equal(stored.size, rows.length, "each request id once");
      const lost = acknowledged.filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged decisions lost`);
      assert.ok(stored.size <= sent);
      console.log(
        `    sent ${sent}, acknowledged ${acknowledged.length}, stored ${stored.size}, lost ${lost.length}`,
      );
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.stderr.cancel().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
  slow,
);

Deno.test(
  "deno run serve.ts refuses to start when the trail cannot be opened (exit 1, clear message)",
  slow,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "credit-noaudit-" });
    try {
      await Deno.writeTextFile(`${dir}/file`, "");
      const child = serveProcess({
        MODELS_DIR: fixture.modelsDir,
        AUDIT_DB: `${dir}/file/audit.sqlite`,
        LOG: "off",
      }, dir);
      const { code, stderr } = await child.output();
      assert.equal(code, 1);
      assert.match(
        new TextDecoder().decode(stderr),
        /serve: cannot open the audit trail .*file\/audit\.sqlite.*AUDIT=off/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

// Teardown, not a test: temporary trails and models.
Deno.test.afterAll(async () => {
  await Deno.remove(work, { recursive: true });
  await cleanupBackends();
  await fixture.cleanup();
});
