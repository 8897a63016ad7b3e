/**
 * Replicas: three server processes on one PostgreSQL audit trail serve the same model (the same
 * artifact sha256 on `/model`); driven round-robin, one is SIGKILLed mid-load, and every decision
 * any replica acknowledged is in the trail exactly once. And `WORKERS=2` runs two replicas behind
 * one port that drain and exit 0 on SIGTERM.
 */
import assert from "node:assert/strict";
import { germanApplicants, serveProcess, trainFixtureModel } from "../fixtures.ts";
import { BACKENDS, cleanupBackends, listeningUrl, PG_URL } from "../serving/audit_backends.ts";

const fixture = await trainFixtureModel({ nEstimators: 10 });
const applicants = await germanApplicants();
const postgresBackend = BACKENDS.find((b) => b.name === "postgres")!;

Deno.test({
  name:
    "[postgres] 3 replicas on one trail, round-robin, one SIGKILLed mid-load: every acknowledged decision stored once",
  ignore: !PG_URL,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "credit-replicas-" });
    const env = await postgresBackend.serverEnv(dir);
    const children = [0, 1, 2].map(() => serveProcess({ MODELS_DIR: fixture.modelsDir, ...env }, dir));
    try {
      const urls = await Promise.all(children.map((c) => listeningUrl(c).catch(() => null)));
      assert.ok(urls.every((u) => u !== null), "every replica started");
      const models = await Promise.all(
        urls.map(async (u) => await (await fetch(new URL("/model", u!))).json()),
      );
      assert.deepEqual(models.map((m) => m.sha256), [0, 1, 2].map(() => fixture.version.sha256));

      const acknowledged: string[] = [];
      const refusedByLiving: string[] = [];
      let killed = false;
      let next = 0;
      const deadline = Date.now() + 40_000;
      const client = async (k: number) => {
        for (let i = 0; Date.now() < deadline && (!killed || acknowledged.length < 800); i++) {
          const r = next++ % 3;
          try {
            const response = await fetch(new URL("/predict?explain=false", urls[r]!), {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(applicants[(k * 97 + i) % applicants.length]),
            });
            const body = await response.json();
            if (response.status === 200) acknowledged.push(body.request_id);
            else refusedByLiving.push(`${r}: ${response.status}`);
          } catch {
            if (!(killed && r === 1)) throw new Error(`replica ${r} failed a request`);
          }
        }
      };
      const clients = Array.from({ length: 9 }, (_, k) => client(k));
      while (acknowledged.length < 300 && Date.now() < deadline - 20_000) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const beforeKill = acknowledged.length;
      children[1].kill("SIGKILL");
      killed = true;
      assert.equal((await children[1].status).signal, "SIGKILL");
      await Promise.all(clients);
      assert.ok(beforeKill >= 100, `only ${beforeKill} acknowledged before the kill`);
      assert.ok(acknowledged.length > beforeKill, "the living replicas went on");
      assert.deepEqual(refusedByLiving, []);
      for (const k of [0, 2]) children[k].kill("SIGTERM");
      for (const k of [0, 2]) assert.equal((await children[k].status).code, 0);

      const stored = await postgresBackend.requestIds(env);
      const times = new Map<string, number>();
      for (const id of stored) times.set(id, (times.get(id) ?? 0) + 1);
      const missing = acknowledged.filter((id) => !times.has(id));
      const twice = acknowledged.filter((id) => (times.get(id) ?? 0) > 1);
      assert.deepEqual(missing, [], `${missing.length} acknowledged decisions missing`);
      assert.deepEqual(twice, [], "no decision stored twice");
      assert.equal(times.size, stored.length, "every stored request id is unique");
      console.log(
        `    acknowledged ${acknowledged.length} (${beforeKill} before the SIGKILL), stored ${stored.length}, ` +
          `missing ${missing.length}, duplicated ${twice.length}`,
      );
    } finally {
      for (const c of children) {
        try {
          c.kill("SIGKILL");
        } catch { /* already gone */ }
        await c.status;
        await c.stderr.cancel().catch(() => {});
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "WORKERS=2: two replicas, both prepared before either listens, on one port answer, then drain and exit 0 on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "credit-workers-" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-net",
        "--allow-net=127.0.0.1",
        "--allow-read",
        `--allow-write=${dir}`,
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        new URL("../../serve.ts", import.meta.url).pathname,
        "--workers",
        "2",
      ],
      env: { HOST: "127.0.0.1", PORT: "0", MODELS_DIR: fixture.modelsDir, AUDIT_PATH: `${dir}/audit.sqlite` },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const logs: string[] = [];
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      const deadline = Date.now() + 90_000;
      while (!logs.join("").includes('"replicas listening"') && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        logs.push(value);
      }
      const lines = logs.join("").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const listening = lines.filter((l) => l.msg === "listening");
      assert.equal(listening.length, 2, "two replicas listening");
      assert.equal(listening[0].url, listening[1].url, "on one port");
      // Both are loaded before either listens: a connection made while only one listened would
      // stay with it for good (SO_REUSEPORT picks a listener per connection).
      const lastPrepared = lines.findLastIndex((l) => l.msg === "audit trail");
      assert.equal(lines.filter((l) => l.msg === "audit trail").length, 2, "each replica opened the trail");
      assert.ok(
        lastPrepared < lines.findIndex((l) => l.msg === "listening"),
        "no replica listens before every replica is prepared",
      );
      const ready = lines.find((l) => l.msg === "replicas listening");
      assert.equal(ready.workers, 2);
      (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
      })();
      const statuses = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
        const response = await fetch(new URL("/predict?explain=false", listening[0].url), {
          method: "POST",
          headers: { "content-type": "application/json", connection: "close" },
          body: JSON.stringify(applicants[i]),
        });
        await response.body?.cancel();
        return response.status;
      }));
      assert.deepEqual(statuses, statuses.map(() => 200));
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.stderr.cancel().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("cleanup: databases and models", async () => {
  await cleanupBackends();
  await fixture.cleanup();
});
