/**
 * `POST /predict/batch` admission: `BATCH_TOKEN` when set, and at most `BATCH_CONCURRENCY` batches
 * at once (the next is answered 429 with Retry-After, and admitted again once one finishes).
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanCsv, trainFixtureModel } from "../fixtures.ts";

const fixture = await trainFixtureModel({ nEstimators: 5 });
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const quiet = new Logger("off");
const csv = await germanCsv({ rows: 20 });
const TOKEN = "batch-token-0123456789";

Deno.test("with BATCH_TOKEN set, a batch needs the token", async () => {
  const app = createApp({ holder, logger: quiet, config: { batchToken: TOKEN, auditPath: null } });
  const send = (headers: Record<string, string>) =>
    app.request("/predict/batch", {
      method: "POST",
      body: csv,
      headers: { "content-type": "text/csv", ...headers },
    });
  assert.equal((await send({})).status, 401);
  assert.equal((await send({ authorization: "Bearer wrong-token-0123456789" })).status, 403);
  const ok = await send({ authorization: `Bearer ${TOKEN}` });
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.equal((await ok.json()).scored, 20);
});

Deno.test("over BATCH_CONCURRENCY, a batch is answered 429 with Retry-After naming the cap", async () => {
  const app = createApp({ holder, logger: quiet, config: { batchConcurrency: 1, auditPath: null } });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const encoder = new TextEncoder();
  // The first batch's body trickles in: the batch holds its slot until the body ends.
  const slow = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode(csv.slice(0, 100)));
      await gate;
      controller.enqueue(encoder.encode(csv.slice(100)));
      controller.close();
    },
  });
  const first = app.request("/predict/batch", {
    method: "POST",
    body: slow,
    headers: { "content-type": "text/csv" },
    // @ts-ignore: Deno's fetch needs duplex for a stream body
    duplex: "half",
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const second = await app.request("/predict/batch", {
    method: "POST",
    body: csv,
    headers: { "content-type": "text/csv" },
  });
  assert.equal(second.status, 429);
  assert.equal(second.headers.get("retry-after"), "1");
  const body = await second.json();
  assert.equal(body.error, "too_many_batches");
  assert.match(body.message, /BATCH_CONCURRENCY/);
  release();
  assert.equal((await first).status, 200);
  const third = await app.request("/predict/batch", {
    method: "POST",
    body: csv,
    headers: { "content-type": "text/csv" },
  });
  assert.equal(third.status, 200);
});

Deno.test("cleanup: temporary folders are removed", async () => {
  await fixture.cleanup();
});
