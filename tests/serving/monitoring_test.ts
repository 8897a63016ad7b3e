/**
 * `/monitoring` is private (issue 17, item 3): absent without `MONITORING_TOKEN`, behind the token
 * with it; its report is published per refresh period and only after k new decisions, so the diff
 * around one `/predict` shows nothing; and an attribute's bin counts appear only when every bin
 * holds k applicants. The counts are checked against a brute-force count of the posted rows.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { configFromEnv } from "../../pipeline/serving/config.ts";
import { ATTRIBUTES, isCategorical } from "../../pipeline/data/schema.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { afterAllTests } from "../temp.ts";
import { germanApplicants, germanCsv, trainFixtureModel } from "../fixtures.ts";

const TOKEN = "monitoring-test-token-0123456789";
const fixture = await trainFixtureModel({ nEstimators: 5 });
afterAllTests(() => fixture.cleanup());
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const applicants = await germanApplicants();

function server(config: Record<string, unknown> = { monitoringToken: TOKEN }) {
  let now = 1_000_000;
  const app = createApp({ holder, logger: new Logger("off"), config, clock: () => now });
  return {
    app,
    nextPeriod: () => now += 60_000,
    monitoring: async () => {
      const response = await app.request("/monitoring", { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(response.status, 200);
      return await response.json();
    },
    predict: async (applicant: unknown) => {
      const response = await app.request("/predict?explain=false", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(applicant),
      });
      assert.equal(response.status, 200);
      await response.body?.cancel();
    },
  };
}

/** The applicant: a large amount, personal status A92, aged 19, a foreign worker (A202). */
const conspicuous = {
  ...applicants[0],
  credit_amount: 18_000,
  personal_status: "A92",
  age: 19,
  foreign_worker: "A202",
};

Deno.test("without MONITORING_TOKEN the route is absent; with it, no or a wrong token is refused", async () => {
  const open = server({});
  assert.equal((await open.app.request("/monitoring")).status, 404);
  const { app } = server();
  assert.equal((await app.request("/monitoring")).status, 401);
  assert.equal(
    (await app.request("/monitoring", { headers: { authorization: "Bearer wrong-token" } })).status,
    403,
  );
  const document = await (await app.request("/openapi.json")).json();
  assert.deepEqual(document.paths["/monitoring"].get.security, [{ bearer: [] }]);
});

Deno.test("one /predict cannot be read off /monitoring: the report around it is identical", async () => {
  const s = server();
  const batch = await s.app.request("/predict/batch?explain=false", {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: await germanCsv(),
  });
  assert.equal(batch.status, 200);
  await batch.body?.cancel();
  s.nextPeriod();
  const before = await s.monitoring();
  assert.equal(before.window.rows, 1000);

  await s.predict(conspicuous);
  assert.deepEqual(await s.monitoring(), before, "same period: the published report");
  s.nextPeriod();
  assert.deepEqual(await s.monitoring(), before, "next period, one new decision (< k): still the same");

  // k − 1 more: 20 new decisions, but the period has not turned yet.
  for (let i = 1; i < 20; i++) await s.predict(applicants[i]);
  assert.deepEqual(await s.monitoring(), before, "never recomputed within a period");
  s.nextPeriod();
  const after = await s.monitoring();
  assert.equal(after.window.rows, 1020, "with k new decisions the next period publishes");
  assert.notEqual(after.published_at, before.published_at);
});

Deno.test("bin counts are published only for attributes whose every bin holds k applicants", async () => {
  const s = server();
  const batch = await s.app.request("/predict/batch?explain=false", {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: await germanCsv(),
  });
  await batch.body?.cancel();
  s.nextPeriod();
  const report = await s.monitoring();
  const byName = new Map(report.attributes.map((d: { name: string }) => [d.name, d]));
  let published = 0, suppressed = 0;
  for (const attribute of ATTRIBUTES) {
    if (!isCategorical(attribute)) continue;
    // Brute force over the posted rows, by the schema's codes.
    const counts = attribute.codes.map((c) => applicants.filter((a) => a[attribute.name] === c.code).length);
    const drift = byName.get(attribute.name) as {
      suppressed: boolean;
      psi: number;
      bins: { label: string; count: number }[];
    };
    assert.equal(typeof drift.psi, "number", `${attribute.name}: its drift score is always published`);
    if (counts.some((n) => n < 20)) {
      suppressed++;
      assert.equal(drift.suppressed, true, attribute.name);
      assert.deepEqual(drift.bins, [], attribute.name);
    } else {
      published++;
      assert.equal(drift.suppressed, false, attribute.name);
      assert.deepEqual(drift.bins.map((b) => b.count), counts, attribute.name);
    }
  }
  // The data holds both cases (e.g. foreign_worker A202: 37 rows; personal_status A95: none).
  assert.ok(published > 0 && suppressed > 0, `${published} published, ${suppressed} suppressed`);
  assert.equal((byName.get("foreign_worker") as { suppressed: boolean }).suppressed, false);
  assert.equal((byName.get("personal_status") as { suppressed: boolean }).suppressed, true);
  for (const d of [...report.attributes, report.score]) {
    if (!d.suppressed) assert.ok(d.bins.every((b: { count: number }) => b.count >= 20), d.name);
  }
});

Deno.test("a higher MONITORING_MIN_BIN suppresses more; nothing is published before k decisions", async () => {
  const s = server({ monitoringToken: TOKEN, monitoringMinBin: 400 });
  for (let i = 0; i < 5; i++) await s.predict(applicants[i]);
  s.nextPeriod();
  const early = await s.monitoring();
  assert.equal(early.published_at, null, "5 decisions < k: no report at all (a PSI of 5 rows names them)");
  assert.deepEqual(early.attributes, []);
  const batch = await s.app.request("/predict/batch?explain=false", {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: await germanCsv(),
  });
  await batch.body?.cancel();
  s.nextPeriod();
  const report = await s.monitoring();
  assert.equal(report.privacy.min_bin, 400);
  const foreign = report.attributes.find((d: { name: string }) => d.name === "foreign_worker");
  assert.equal(foreign.suppressed, true, "A202's 37 rows are fewer than 400");
});

Deno.test("MONITORING_* settings are read and checked", () => {
  const env = (vars: Record<string, string>) => configFromEnv((name) => vars[name]);
  const defaults = env({});
  assert.equal(defaults.monitoringToken, undefined);
  assert.equal(defaults.monitoringMinBin, 20);
  assert.equal(defaults.monitoringRefreshSeconds, 60);
  const set = env({ MONITORING_TOKEN: TOKEN, MONITORING_MIN_BIN: "50", MONITORING_REFRESH_SECONDS: "300" });
  assert.deepEqual([set.monitoringToken, set.monitoringMinBin, set.monitoringRefreshSeconds], [
    TOKEN,
    50,
    300,
  ]);
  assert.throws(() => env({ MONITORING_TOKEN: "short" }), /MONITORING_TOKEN must be at least 16/);
  assert.throws(() => env({ MONITORING_TOKEN: TOKEN, ADMIN_TOKEN: TOKEN }), /must differ from ADMIN_TOKEN/);
  assert.throws(() => env({ MONITORING_MIN_BIN: "0" }), /MONITORING_MIN_BIN must be a whole number from 1/);
  assert.throws(() => env({ MONITORING_REFRESH_SECONDS: "0.5" }), /MONITORING_REFRESH_SECONDS/);
});
