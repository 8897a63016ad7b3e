/**
 * The service on a real socket: health over HTTP, graceful shutdown with a request in flight (in
 * process and by SIGTERM to `deno run serve.ts`), a refused model at start, and reloads during
 * traffic that drop no request.
 */
import assert from "node:assert/strict";
import { startServer } from "../../pipeline/serving/server.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanApplicants, trainFixtureModel } from "../fixtures.ts";

const TOKEN = "server-test-token-0123456789";
const applicants = await germanApplicants();
const quiet = new Logger("off");

/** A request whose body arrives in two parts, so it can be held in flight. */
function heldRequest(url: URL, body: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const bytes = new TextEncoder().encode(body);
  const half = Math.floor(bytes.length / 2);
  let sentFirst!: () => void;
  const firstSent = new Promise<void>((resolve) => (sentFirst = resolve));
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(bytes.subarray(0, half));
      sentFirst();
      await released;
      controller.enqueue(bytes.subarray(half));
      controller.close();
    },
  });
  const response = fetch(new URL("/predict", url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: stream,
  });
  return { response, firstSent, release };
}

Deno.test("a real server: health, a prediction, and graceful shutdown letting an in-flight request finish", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 20 });
  try {
    const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
    const running = startServer({
      holder,
      logger: quiet,
      config: { port: 0, hostname: "127.0.0.1", batchWorkers: 0 },
    });
    const health = await fetch(new URL("/health", running.url));
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");

    const held = heldRequest(running.url, JSON.stringify(applicants[7]));
    await held.firstSent;
    await new Promise((resolve) => setTimeout(resolve, 50)); // the server is now reading the body
    const stopped = running.shutdown();
    held.release();
    const response = await held.response;
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.equal(body.probability_bad, fixture.model.probabilityOne(applicants[7]));
    await stopped;
    await assert.rejects(() => fetch(new URL("/health", running.url)));
  } finally {
    await fixture.cleanup();
  }
});

Deno.test("reloads during traffic drop no request", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 10, seed: 11 });
  try {
    const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
    const running = startServer({
      holder,
      logger: quiet,
      config: { port: 0, hostname: "127.0.0.1", adminToken: TOKEN, batchWorkers: 0 },
    });
    let stop = false;
    const versions = new Set<number>();
    const failures: string[] = [];
    let served = 0;
    const client = async (k: number) => {
      for (let i = 0; !stop || i < 20; i++) {
        const response = await fetch(new URL("/predict", running.url), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(applicants[(k * 97 + i) % applicants.length]),
        });
        const body = await response.json();
        if (response.status !== 200) failures.push(`${response.status} ${JSON.stringify(body)}`);
        else versions.add(body.model_version);
        served++;
      }
    };
    const clients = Array.from({ length: 4 }, (_, k) => client(k));
    const reloads: number[] = [];
    for (let r = 0; r < 4; r++) {
      await trainFixtureModel({ modelsDir: fixture.modelsDir, nEstimators: 10, seed: 20 + r });
      const response = await fetch(new URL("/admin/reload", running.url), {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.equal(body.changed, true);
      reloads.push(body.model_version);
    }
    stop = true;
    await Promise.all(clients);
    await running.shutdown();
    assert.deepEqual(failures, []);
    assert.deepEqual(reloads, [2, 3, 4, 5]);
    assert.ok(served >= 80, `served ${served}`);
    assert.ok(versions.has(5), `served versions ${[...versions]}`);
    assert.ok(versions.size >= 2, `served versions ${[...versions]}`);
  } finally {
    await fixture.cleanup();
  }
});

const SERVE = new URL("../../serve.ts", import.meta.url).pathname;

function serveProcess(env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-env", "--allow-ffi", "--allow-sys", SERVE],
    env: { HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", NO_COLOR: "1", AUDIT: "off", ...env },
    stdout: "piped",
    stderr: "piped",
    cwd: "/",
  }).spawn();
}

Deno.test("deno run serve.ts: SIGTERM lets the in-flight request finish, then exits 0", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 10 });
  const child = serveProcess({ MODELS_DIR: fixture.modelsDir });
  try {
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    const logged: Record<string, unknown>[] = [];
    const nextLog = async (msg: string) => {
      for (;;) {
        const found = logged.find((l) => l.msg === msg);
        if (found) return found;
        const { value, done } = await lines.read();
        if (done) throw new Error(`the server stopped before logging ${msg}`);
        buffered += value;
        const parts = buffered.split("\n");
        buffered = parts.pop()!;
        for (const part of parts) if (part.trim()) logged.push(JSON.parse(part));
      }
    };
    const listening = await nextLog("listening");
    const url = new URL(listening.url as string);
    const held = heldRequest(url, JSON.stringify(applicants[9]));
    await held.firstSent;
    await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill("SIGTERM");
    await nextLog("shutting down");
    held.release();
    const response = await held.response;
    assert.equal(response.status, 200);
    assert.equal((await response.json()).probability_bad, fixture.model.probabilityOne(applicants[9]));
    await nextLog("stopped");
    const request = logged.find((l) => l.msg === "request")!;
    assert.equal(request.path, "/predict");
    assert.equal(request.status, 200);
    assert.equal(typeof request.request_id, "string");
    while (!(await lines.read()).done) { /* drain until the process closes stdout */ }
    const status = await child.status;
    assert.equal(status.code, 0);
  } finally {
    await child.stderr.cancel().catch(() => {});
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await fixture.cleanup();
  }
});

Deno.test("deno run serve.ts refuses a tampered model at start with a clear message and exit 1", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 5 });
  try {
    const text = await Deno.readTextFile(fixture.artifactPath);
    await Deno.writeTextFile(fixture.artifactPath, text.replace('"threshold":0.5', '"threshold":0.1'));
    const child = serveProcess({ MODELS_DIR: fixture.modelsDir, LOG: "off" });
    const { code, stderr, stdout } = await child.output();
    assert.equal(code, 1);
    assert.match(
      new TextDecoder().decode(stderr),
      /sha256 [0-9a-f]{64}, but the registry expects [0-9a-f]{64}: refusing a modified artifact/,
    );
    assert.equal(new TextDecoder().decode(stdout), "");
  } finally {
    await fixture.cleanup();
  }
});
