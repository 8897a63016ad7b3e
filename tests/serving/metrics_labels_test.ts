/**
 * Response headers and metric labels a client cannot influence: every answer carries
 * `X-Frame-Options: DENY`, and made-up HTTP method names share one "other" series.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { methodLabel } from "../../pipeline/serving/prometheus.ts";
import { Random } from "../../pipeline/random.ts";
import { germanApplicants, trainFixtureModel } from "../fixtures.ts";

const fixture = await trainFixtureModel({ nEstimators: 5 });
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const quiet = new Logger("off");

const series = (text: string) => text.split("\n").filter((l) => l.startsWith("http_requests_total{")).length;

Deno.test("1,000 random method names add at most one http_requests_total series", async () => {
  const app = createApp({ holder, logger: quiet });
  await app.request("/health");
  const before = series(await (await app.request("/metrics")).text());
  const random = new Random(11);
  const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (let i = 0; i < 1000; i++) {
    let name = "";
    const length = 1 + random.int(40);
    for (let k = 0; k < length; k++) name += letters[random.int(letters.length)];
    if (["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"].includes(name.toUpperCase())) continue;
    await app.request("/predict", { method: name });
  }
  await app.request("/health", { method: "X".repeat(60_000) });
  const text = await (await app.request("/metrics")).text();
  // /metrics itself adds one series (GET /metrics 200); the random names at most one more.
  assert.ok(series(text) <= before + 2, `${series(text) - before} new series`);
  assert.doesNotMatch(text, /method="(?!GET"|POST"|PUT"|DELETE"|PATCH"|HEAD"|OPTIONS"|other")/);
  assert.match(text, /method="other"/);
});

Deno.test("the method label is the method for the standard ones, else other", () => {
  for (const m of ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]) {
    assert.equal(methodLabel(m), m);
  }
  for (const m of ["get", "PROPFIND", "TRACE", "CONNECT", "", "X".repeat(60_000)]) {
    assert.equal(methodLabel(m), "other");
  }
});

Deno.test("every response carries X-Frame-Options: DENY", async () => {
  const app = createApp({ holder, logger: quiet });
  const [applicant] = await germanApplicants();
  const responses = [
    await app.request("/health"),
    await app.request("/metrics"),
    await app.request("/nowhere"),
    await app.request("/predict", {
      method: "POST",
      body: "{",
      headers: { "content-type": "application/json" },
    }),
    await app.request("/predict", {
      method: "POST",
      body: JSON.stringify(applicant),
      headers: { "content-type": "application/json" },
    }),
    await app.request("/", { method: "BREW" }),
  ];
  for (const response of responses) {
    assert.equal(response.headers.get("x-frame-options"), "DENY", `${response.url} ${response.status}`);
    await response.body?.cancel();
  }
});

Deno.test("cleanup: temporary folders are removed", async () => {
  await fixture.cleanup();
});
