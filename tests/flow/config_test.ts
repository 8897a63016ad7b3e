/**
 * The flow configuration: defaults filled, a step's partial policy merged with that step's
 * defaults, every bad or unknown field named, and the canonical JSON independent of key order.
 */
import assert from "node:assert/strict";
import {
  canonicalJson,
  DEFAULT_FLOW_CONFIG,
  DEFAULT_STEP_POLICIES,
  FLOW_OBJECTIVES,
  loadConfig,
  normaliseConfig,
} from "../../pipeline/flow/config.ts";
import { OBJECTIVES } from "../../pipeline/model/objective.ts";
import { withTempDir } from "../temp.ts";

Deno.test("the config's objectives are the model's", () => {
  assert.deepEqual([...FLOW_OBJECTIVES], [...OBJECTIVES]);
});

Deno.test("defaults: the values the README states", () => {
  assert.deepEqual(
    [
      DEFAULT_FLOW_CONFIG.train.trials,
      DEFAULT_FLOW_CONFIG.train.search_trees,
      DEFAULT_FLOW_CONFIG.train.trees,
    ],
    [12, 100, 300],
  );
  assert.deepEqual(DEFAULT_FLOW_CONFIG.compare, {
    folds: 5,
    inner_folds: 3,
    repeats: 2,
    seed: 20261128,
    trees: null,
  });
  assert.deepEqual(DEFAULT_FLOW_CONFIG.gate, {
    margin: 0.01,
    max_disparate_impact_drop: 0.05,
    min_disparate_impact: null,
  });
  assert.equal(DEFAULT_FLOW_CONFIG.lock_wait_ms, 0);
  assert.deepEqual(DEFAULT_FLOW_CONFIG.steps.deploy, {
    retries: 3,
    backoff_ms: 500,
    backoff_factor: 2,
    timeout_ms: 120_000,
  });
});

Deno.test("a step's partial policy keeps that step's other defaults", () => {
  const config = normaliseConfig({ steps: { deploy: { retries: 0 }, train: { timeout_ms: 1000 } } });
  assert.deepEqual(config.steps.deploy, { ...DEFAULT_STEP_POLICIES.deploy, retries: 0 });
  assert.deepEqual(config.steps.train, { ...DEFAULT_STEP_POLICIES.train, timeout_ms: 1000 });
  assert.deepEqual(config.steps.validate, DEFAULT_STEP_POLICIES.validate);
});

Deno.test("bad and unknown fields are named, all of them", () => {
  assert.throws(
    () =>
      normaliseConfig({
        train: { trials: 0, treez: 5 },
        gate: { margin: -1 },
        deploy: { servers: ["ftp://x"], token_env: "lower case" },
        steps: { deploy: { retries: "3" }, deplooy: {} },
      }, "flow config f.json"),
    (error: Error) => {
      const lines = error.message.split("\n");
      assert.equal(lines[0], "flow config f.json is not valid:");
      const fields = lines.slice(1).map((l) => l.trim().split(":")[0]).sort();
      assert.deepEqual(fields, [
        "deploy.servers.0",
        "deploy.token_env",
        "gate.margin",
        "steps",
        "steps.deploy.retries",
        "train",
        "train.trials",
      ]);
      assert.match(error.message, /train: Unrecognized key: "treez"/);
      assert.match(error.message, /steps: Unrecognized key: "deplooy"/);
      return true;
    },
  );
});

Deno.test("loadConfig: a missing file and bad JSON are user errors naming the file", async () => {
  await withTempDir("flow-config-", async (dir) => {
    await assert.rejects(
      () => loadConfig(`${dir}/none.json`),
      /cannot read flow config .*none\.json: file not found/,
    );
    await Deno.writeTextFile(`${dir}/bad.json`, "{ trials: 3 }");
    await assert.rejects(() => loadConfig(`${dir}/bad.json`), /flow config .*bad\.json is not valid JSON/);
    await Deno.writeTextFile(`${dir}/ok.json`, JSON.stringify({ train: { trials: 3 } }));
    assert.equal((await loadConfig(`${dir}/ok.json`)).train.trials, 3);
  });
});

Deno.test("canonical JSON sorts keys at every level", () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } }),
    '{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}',
  );
  assert.equal(
    canonicalJson(normaliseConfig({ gate: { margin: 0.02 }, train: { trials: 4 } })),
    canonicalJson(normaliseConfig({ train: { trials: 4 }, gate: { margin: 0.02 } })),
  );
});
