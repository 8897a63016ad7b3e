/**
 * The dashboard's readers of a run record (`static/dashboard/fields.js`, the module the browser
 * loads, free of the DOM): statuses, durations, thresholds, parameters and protocols read from
 * run.json records written by hand, against values worked out by hand.
 */
import assert from "node:assert/strict";
import type { RunRecord } from "../../pipeline/tracking/mod.ts";
import {
  durationOf,
  format,
  modelParams,
  paramSummary,
  protocolOf,
  repeatedCost,
  statusOf,
  thresholdOf,
} from "../../static/dashboard/fields.js";

/** A finished run of one minute, with what the case sets on top. */
function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    run_id: "20200101-000000-abcdef",
    experiment: "german-credit",
    status: "finished",
    start_time: "2020-01-01T00:00:00.000Z",
    pid: 1,
    heartbeat_at: "2020-01-01T00:01:00.000Z",
    params: {},
    metrics: {},
    tags: {},
    steps: [],
    artifacts: [],
    ...overrides,
  };
}

Deno.test("status: a running run whose heartbeat stopped is shown as killed", () => {
  assert.equal(statusOf(run()), "finished");
  assert.equal(statusOf(run({ status: "running" })), "running");
  assert.equal(statusOf(run({ status: "running", tags: { stale: "true" } })), "killed");
});

Deno.test("duration: recorded, until the last heartbeat when killed, so far when running", () => {
  assert.equal(durationOf(run({ duration_ms: 1234 })), 1234);
  const killed = run({
    status: "running",
    tags: { stale: "true" },
    heartbeat_at: "2020-01-01T00:04:30.000Z",
  });
  assert.equal(durationOf(killed), 270_000);
  assert.equal(durationOf(run({ status: "failed" })), null);
  const started = Date.now() - 5_000;
  const live = durationOf(run({ status: "running", start_time: new Date(started).toISOString() }))!;
  assert.ok(live >= 5_000 && live <= Date.now() - started, String(live));
});

Deno.test("threshold: the run's own, else the test metrics', else the model parameters'", () => {
  const params = { model: { threshold: 0.3 } };
  assert.equal(thresholdOf(run({ params, metrics: { threshold: 0.4, test: { threshold: 0.5 } } })), 0.4);
  assert.equal(thresholdOf(run({ params, metrics: { test: { threshold: 0.5 } } })), 0.5);
  assert.equal(thresholdOf(run({ params })), 0.3);
  assert.equal(thresholdOf(run({ metrics: { threshold: "0.4" } })), null);
});

Deno.test("model parameters: params.model of a training run, else the params themselves", () => {
  // run.json's current shape: searched hyperparameters in snake_case, the tree count beside them.
  const model = { limit_depth: true, max_depth: 8, sampling_strategy: 0.5, criterion: "gini" };
  assert.deepEqual(modelParams(run({ params: { objective: "cost", model } })), model);
  assert.deepEqual(modelParams(run({ params: { trees: 5, seed: 1 } })), { trees: 5, seed: 1 });
  assert.equal(
    paramSummary(run({ params: { trees: 300, model } })),
    "300 trees · depth 8 · sampling 0.50 · gini",
  );
  assert.equal(paramSummary(run({ params: { seed: 1 } })), "–");
});

Deno.test("repeated CV cost: mean and sd when the mean is a number, else nothing", () => {
  const cost = { mean: 0.502, sd: 0.1 };
  assert.deepEqual(repeatedCost(run({ metrics: { repeated_cv: { cost } } })), cost);
  assert.equal(repeatedCost(run({ metrics: { repeated_cv: { cost: { sd: 0.1 } } } })), null);
  assert.equal(repeatedCost(run({ metrics: { repeated_cv: 3 } })), null);
  assert.equal(repeatedCost(run()), null);
});

Deno.test("protocol: a training run's split, a sentence as written, else a dash", () => {
  const split = "stratified 80/20 train/test split, seed 42";
  assert.equal(protocolOf(run({ metrics: { protocol: { split, cv: "5-fold" } } })), split);
  const sentence = "fixture: fitted and measured on the same 1,000 rows (in-sample, for tests only)";
  assert.equal(protocolOf(run({ metrics: { protocol: sentence } })), sentence);
  assert.equal(protocolOf(run({ metrics: { protocol: {} } })), "–");
  assert.equal(protocolOf(run()), "–");
});

Deno.test("format: integers as they are, other numbers to 4 decimals, objects as JSON", () => {
  assert.equal(format(300), "300");
  assert.equal(format(0.123456), "0.1235");
  assert.equal(format(null), "–");
  assert.equal(format(undefined), "–");
  assert.equal(format({ a: [1, 2] }), '{"a":[1,2]}');
  assert.equal(format("gini"), "gini");
});
