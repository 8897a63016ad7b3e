/**
 * The retraining flow in process, on `data/german.data` with a small configuration, in temporary
 * models folders: promotion without a champion, the cached re-run and `--force`, the gate
 * promoting an equal challenger and refusing a worse one (and one below the fairness floor), bad
 * data stopping the flow at validate with line numbers, and the flow key.
 */
import assert from "node:assert/strict";
import { normaliseConfig } from "../../pipeline/flow/config.ts";
import { codeVersion, flowKey } from "../../pipeline/flow/key.ts";
import { listFlows, readFlowRecord } from "../../pipeline/flow/record.ts";
import { runFlow } from "../../pipeline/flow/retrain.ts";
import type { CompareOutput } from "../../pipeline/flow/steps.ts";
import { readStepOutput } from "../../pipeline/flow/record.ts";
import { listRuns, readRegistry } from "../../pipeline/tracking/mod.ts";
import { withTempDir } from "../temp.ts";
import { slow } from "../scope.ts";

const DATA = new URL("../../data/german.data", import.meta.url).pathname;
const SMALL = {
  train: { trials: 3, folds: 3, search_repeats: 1, search_trees: 20, trees: 40 },
  compare: { repeats: 1, folds: 3, inner_folds: 2 },
};
const small = (extra: Record<string, unknown> = {}) => normaliseConfig({ ...SMALL, ...extra });
const CODE = await codeVersion();

Deno.test(
  "no champion: promoted; a re-run returns the recorded outcome; --force runs again and promotes the equal challenger",
  slow,
  async () => {
    await withTempDir("flow-retrain-", async (modelsDir) => {
      const first = await runFlow({ dataPath: DATA, config: small(), modelsDir, codeVersion: CODE });
      assert.equal(first.mode, "new");
      assert.equal(first.record.status, "succeeded");
      assert.equal(first.record.outcome?.decision, "promoted");
      assert.equal(first.record.outcome?.reason, "no production model yet");
      assert.equal(first.record.outcome?.challenger?.version, 1);
      assert.deepEqual(first.record.steps.map((s) => [s.name, s.state, s.attempts.length]), [
        ["validate", "completed", 1],
        ["drift", "completed", 1],
        ["train", "completed", 1],
        ["compare", "completed", 1],
        ["gate", "completed", 1],
        ["deploy", "completed", 1],
        ["record", "completed", 1],
      ]);
      assert.equal(first.record.links.runs.challenger, first.record.outcome?.challenger?.run_id);

      const registryBefore = await Deno.readTextFile(`${modelsDir}/registry.json`);
      const runsBefore = (await listRuns(modelsDir)).length;
      const again = await runFlow({ dataPath: DATA, config: small(), modelsDir, codeVersion: CODE });
      assert.equal(again.mode, "cached");
      assert.equal(again.record.flow_id, first.record.flow_id);
      assert.equal(await Deno.readTextFile(`${modelsDir}/registry.json`), registryBefore);
      assert.equal((await listRuns(modelsDir)).length, runsBefore);

      const forced = await runFlow({
        dataPath: DATA,
        config: small(),
        modelsDir,
        codeVersion: CODE,
        force: true,
      });
      assert.equal(forced.mode, "new");
      assert.notEqual(forced.record.flow_id, first.record.flow_id);
      assert.equal(forced.record.key, first.record.key);
      // The same configuration trained on the same data with the same seeds: identical per-fold
      // results, so every paired difference is exactly 0.
      const compared = await readStepOutput(forced.record.flow_id, "compare", modelsDir);
      assert.ok(compared.found);
      const result = (compared.output as CompareOutput).result!;
      assert.deepEqual(result.challenger.values.cost, result.champion.values.cost);
      assert.equal(result.differences.cost.mean, 0);
      // The same fit, too: the two artifacts decide alike on the challenger's held-out rows.
      assert.equal((compared.output as CompareOutput).artifact!.difference, 0);
      assert.equal(forced.record.outcome?.decision, "promoted");
      assert.equal(forced.record.outcome?.champion?.version, 1);
      assert.equal(forced.record.outcome?.production_version, 2);
      const registry = await readRegistry(modelsDir);
      assert.deepEqual(registry.models.map((m) => [m.version, m.stage]), [[1, "archived"], [
        2,
        "production",
      ]]);
      const promoted = registry.history.filter((e) => e.event === "promoted").at(-1)!;
      assert.equal(promoted.version, 2);
      assert.match(promoted.detail!, new RegExp(`^flow ${forced.record.flow_id}: passed every check`));

      const { flows } = await listFlows(modelsDir);
      assert.deepEqual(flows.map((f) => f.flow_id), [forced.record.flow_id, first.record.flow_id]);

      // Someone rolls production back to v1: the recorded decision (v2 in production) no longer
      // stands, so the same key runs anew instead of answering with a stale outcome.
      const rolledBack = await readRegistry(modelsDir);
      for (const m of rolledBack.models) m.stage = m.version === 1 ? "production" : "archived";
      await Deno.writeTextFile(`${modelsDir}/registry.json`, JSON.stringify(rolledBack));
      const afterRollback = await runFlow({ dataPath: DATA, config: small(), modelsDir, codeVersion: CODE });
      assert.equal(afterRollback.mode, "new");
      assert.notEqual(afterRollback.record.flow_id, forced.record.flow_id);
      assert.equal(afterRollback.record.outcome?.champion?.version, 1);
      const stillCached = await runFlow({ dataPath: DATA, config: small(), modelsDir, codeVersion: CODE });
      assert.equal(stillCached.mode, "cached");
      assert.equal(stillCached.record.flow_id, afterRollback.record.flow_id);
    });
  },
);

Deno.test(
  "the gate refuses a worse challenger (one tree, one trial): it stays a candidate, the flow says why",
  slow,
  async () => {
    await withTempDir("flow-retrain-", async (modelsDir) => {
      await runFlow({ dataPath: DATA, config: small(), modelsDir, codeVersion: CODE });
      const worse = normaliseConfig({
        ...SMALL,
        train: { ...SMALL.train, trials: 1, trees: 1, search_trees: 1 },
      });
      const flow = await runFlow({ dataPath: DATA, config: worse, modelsDir, codeVersion: CODE });
      assert.equal(flow.record.status, "succeeded");
      assert.equal(flow.record.outcome?.decision, "kept_challenger");
      assert.match(
        flow.record.outcome!.reason,
        /^refused: performance: cost challenger 0\.\d{4} vs champion 0\.\d{4}/,
      );
      const compared = (await readStepOutput(flow.record.flow_id, "compare", modelsDir)) as {
        found: true;
        output: CompareOutput;
      };
      const d = compared.output.result!.differences.cost;
      // The refusal follows from the recorded numbers: challenger − champion beyond the margin.
      assert.ok(d.mean > 0.01, `difference ${d.mean}`);
      const r = compared.output.result!;
      const byHand = r.challenger.values.cost.reduce((s, v, i) =>
        s + v.value - r.champion.values.cost[i].value, 0) /
        r.challenger.values.cost.length;
      assert.ok(Math.abs(byHand - d.mean) < 1e-12);
      const registry = await readRegistry(modelsDir);
      assert.deepEqual(registry.models.map((m) => [m.version, m.stage]), [[1, "production"], [
        2,
        "candidate",
      ]]);
      assert.equal(flow.record.outcome?.production_version, 1);
      const deploy = flow.record.steps.find((s) => s.name === "deploy")!;
      assert.equal(deploy.summary?.skipped, "nothing promoted");
    });
  },
);

Deno.test("the fairness floor refuses a challenger equal in cost", slow, async () => {
  await withTempDir("flow-retrain-", async (modelsDir) => {
    await runFlow({ dataPath: DATA, config: small(), modelsDir, codeVersion: CODE });
    const strict = small({ gate: { min_disparate_impact: 0.99 } });
    const flow = await runFlow({ dataPath: DATA, config: strict, modelsDir, codeVersion: CODE });
    assert.equal(flow.record.outcome?.decision, "kept_challenger");
    assert.doesNotMatch(flow.record.outcome!.reason, /performance/);
    assert.match(flow.record.outcome!.reason, /fairness floor: age: disparate impact 0\.\d{4} < floor 0\.99/);
    assert.equal((await readRegistry(modelsDir)).models.find((m) => m.version === 2)?.stage, "candidate");
  });
});

Deno.test("bad data stops the flow at validate, naming the line; nothing is trained", slow, async () => {
  await withTempDir("flow-retrain-", async (modelsDir) => {
    const lines = (await Deno.readTextFile(DATA)).split("\n");
    lines[2] = lines[2].replace(/^A1\d/, "A19");
    const path = `${modelsDir}/bad.data`;
    await Deno.writeTextFile(path, lines.join("\n"));
    await assert.rejects(
      () => runFlow({ dataPath: path, config: small(), modelsDir, codeVersion: CODE }),
      /step validate failed \(not retried: retrying cannot fix it\): .*bad\.data: 1 problem\n {2}line 3, column checking_status: unknown code/s,
    );
    const { flows } = await listFlows(modelsDir);
    assert.equal(flows.length, 1);
    const record = (await readFlowRecord(flows[0].flow_id, modelsDir))!;
    assert.equal(record.status, "failed");
    assert.equal(record.error?.step, "validate");
    assert.deepEqual(record.steps.map((s) => s.state), ["failed", ...Array(6).fill("pending")]);
    assert.equal((await listRuns(modelsDir)).length, 0);
  });
});

Deno.test(
  "the flow key changes with the data, the config and the code, and not with the config's key order",
  slow,
  async () => {
    const data = new TextEncoder().encode("some bytes");
    const base = await flowKey("d", data, small(), "code-1");
    const reordered = normaliseConfig({ compare: SMALL.compare, train: SMALL.train });
    assert.equal((await flowKey("d", data, reordered, "code-1")).key, base.key);
    assert.notEqual(
      (await flowKey("d", new TextEncoder().encode("some bytez"), small(), "code-1")).key,
      base.key,
    );
    assert.notEqual((await flowKey("d", data, small({ gate: { margin: 0.02 } }), "code-1")).key, base.key);
    assert.notEqual((await flowKey("d", data, small(), "code-2")).key, base.key);
  },
);

Deno.test(
  "a fair champion: the challenger keeps its profile unless the config names another",
  slow,
  async () => {
    await withTempDir("flow-retrain-fair-", async (modelsDir) => {
      // The first flow promotes a challenger trained under an explicit fair profile.
      const first = await runFlow({
        dataPath: DATA,
        config: small({ train: { ...SMALL.train, profile: "fair" } }),
        modelsDir,
        codeVersion: CODE,
      });
      assert.equal(first.record.outcome?.decision, "promoted");
      const profileOf = async (runId: string) => {
        const run = JSON.parse(await Deno.readTextFile(`${modelsDir}/runs/${runId}/run.json`));
        return [run.params.attribute_profile, run.params.excluded_attributes];
      };
      const fair = ["fair", ["personal_status", "age", "foreign_worker"]];
      assert.deepEqual(await profileOf(first.record.outcome!.challenger!.run_id), fair);
      // The default ("champion") follows the production model: no protected attribute comes back.
      const second = await runFlow({ dataPath: DATA, config: small(), modelsDir, codeVersion: CODE });
      assert.deepEqual(await profileOf(second.record.outcome!.challenger!.run_id), fair);
      // An equal challenger of the same profile and seeds: the paired comparison finds no difference.
      const compared = await readStepOutput(second.record.flow_id, "compare", modelsDir);
      assert.ok(compared.found);
      assert.equal((compared.output as CompareOutput).result!.differences.cost.mean, 0);
      const third = await runFlow({
        dataPath: DATA,
        config: small({ train: { ...SMALL.train, profile: "full" } }),
        modelsDir,
        codeVersion: CODE,
      });
      assert.deepEqual(await profileOf(third.record.outcome!.challenger!.run_id), ["full", []]);
    });
  },
);
