/**
 * Body limits at their edge: a body of exactly MAX_BODY_BYTES is read, one byte more is 413, whether
 * the size is declared in Content-Length or only found while streaming (batches read their bodies
 * through the same two checks, with MAX_BATCH_BODY_BYTES).
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { moduleTempDir } from "../temp.ts";

const LIMIT = 2048;
const empty = await moduleTempDir("limits-test-");
const app = createApp({
  holder: await ModelHolder.open({ modelsDir: empty }, { allowEmpty: true }),
  logger: new Logger("off"),
  config: { maxBodyBytes: LIMIT, maxBatchBodyBytes: LIMIT },
});

/** A JSON object padded with spaces to exactly `bytes` bytes. */
const padded = (bytes: number) => `{"age": 17}`.padEnd(bytes, " ");

async function post(path: string, text: string, declareLength: boolean): Promise<Response> {
  const bytes = new TextEncoder().encode(text);
  const body = declareLength ? bytes : new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return await app.request(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(declareLength ? { "content-length": String(bytes.length) } : {}),
    },
    body,
  });
}

Deno.test("exactly the limit is read, one byte more is 413, declared or streamed", async () => {
  for (const declareLength of [true, false]) {
    const at = await post("/predict", padded(LIMIT), declareLength);
    assert.equal(at.status, 422, `${LIMIT} bytes, declared ${declareLength}: ${await at.clone().text()}`);
    await at.body?.cancel();
    const over = await post("/predict", padded(LIMIT + 1), declareLength);
    assert.equal(over.status, 413, `${LIMIT + 1} bytes, declared ${declareLength}`);
    const body = await over.json();
    assert.equal(body.error, "payload_too_large");
    assert.equal(body.message, `the request body exceeds the limit of ${LIMIT} bytes`);
  }
});
