/**
 * The durable step engine on toy steps in a temporary models folder: retries with exponential
 * backoff (the delays checked against `backoff_ms · factor^(k−1)` by hand), errors that are not
 * retried, timeouts, and resuming from checkpoints without running a completed step again.
 */
import assert from "node:assert/strict";
import { UserError } from "../../pipeline/errors.ts";
import type { StepPolicy } from "../../pipeline/flow/config.ts";
import { type FlowStep, runSteps, StepFailedError } from "../../pipeline/flow/engine.ts";
import {
  FLOW_FORMAT_VERSION,
  type FlowRecord,
  readFlowRecord,
  readStepOutput,
  writeStepOutput,
} from "../../pipeline/flow/record.ts";
import { withTempDir } from "../temp.ts";

const KEY = "ab".repeat(32);

function newRecord(modelsDir: string, id = "20261128-120000-abababababab"): FlowRecord {
  const now = new Date().toISOString();
  return {
    format_version: FLOW_FORMAT_VERSION,
    flow_id: id,
    key: KEY,
    key_inputs: { data_path: "x", data_sha256: "0", config_sha256: "0", code_version: "0" },
    config: {},
    models_dir: modelsDir,
    status: "running",
    sessions: [{ started_at: now, pid: Deno.pid, forced: false }],
    created_at: now,
    updated_at: now,
    finished_at: null,
    duration_ms: null,
    steps: [],
    outcome: null,
    links: { runs: {} },
    error: null,
  };
}

const policy = (p: Partial<StepPolicy> = {}): StepPolicy => ({
  retries: 0,
  backoff_ms: 100,
  backoff_factor: 2,
  timeout_ms: 10_000,
  ...p,
});

Deno.test("a step that fails twice then succeeds is recorded with 3 attempts, waiting 100 then 200 ms", async () => {
  await withTempDir("flow-engine-", async (dir) => {
    const record = newRecord(dir);
    let calls = 0;
    const flaky: FlowStep = {
      name: "deploy",
      run: () => {
        calls++;
        if (calls <= 2) return Promise.reject(new Error(`connection refused (${calls})`));
        return Promise.resolve({ ok: calls });
      },
    };
    const waits: number[] = [];
    const outputs = await runSteps(record, [flaky], { deploy: policy({ retries: 3 }) }, {
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    assert.deepEqual(outputs.deploy, { ok: 3 });
    assert.deepEqual(waits, [100, 200]);
    const stored = (await readFlowRecord(record.flow_id, dir))!;
    const step = stored.steps[0];
    assert.equal(step.state, "completed");
    assert.equal(step.attempts.length, 3);
    assert.deepEqual(step.attempts.map((a) => a.error), [
      "connection refused (1)",
      "connection refused (2)",
      null,
    ]);
    assert.deepEqual(step.attempts.map((a) => a.attempt), [1, 2, 3]);
    assert.ok(step.attempts.every((a) => a.ended_at !== null && a.duration_ms !== null));
    assert.deepEqual(await readStepOutput(record.flow_id, "deploy", dir), { found: true, output: { ok: 3 } });
  });
});

Deno.test("retries run out: the error names the step, the attempts and the cause, and the flow is failed", async () => {
  await withTempDir("flow-engine-", async (dir) => {
    const record = newRecord(dir);
    const down: FlowStep = { name: "deploy", run: () => Promise.reject(new Error("HTTP 503")) };
    await assert.rejects(
      () => runSteps(record, [down], { deploy: policy({ retries: 1 }) }, { sleep: () => Promise.resolve() }),
      (error: unknown) => {
        assert.ok(error instanceof StepFailedError);
        assert.equal(error.step, "deploy");
        assert.equal(error.message, "step deploy failed (after 2 attempt(s) in this run): HTTP 503");
        return true;
      },
    );
    const stored = (await readFlowRecord(record.flow_id, dir))!;
    assert.equal(stored.status, "failed");
    assert.deepEqual(stored.error, { step: "deploy", message: "HTTP 503" });
    assert.equal(stored.steps[0].attempts.length, 2);
    assert.deepEqual(await readStepOutput(record.flow_id, "deploy", dir), { found: false });
  });
});

Deno.test("a user error (bad data) is not retried", async () => {
  await withTempDir("flow-engine-", async (dir) => {
    const record = newRecord(dir);
    let calls = 0;
    const bad: FlowStep = {
      name: "validate",
      run: () => {
        calls++;
        return Promise.reject(new UserError("line 3, column age: not a number"));
      },
    };
    await assert.rejects(
      () => runSteps(record, [bad], { validate: policy({ retries: 4 }) }),
      /step validate failed \(not retried: retrying cannot fix it\): line 3, column age: not a number/,
    );
    assert.equal(calls, 1);
  });
});

Deno.test("an attempt past its timeout fails with a timeout, its signal aborted, and is retried", async () => {
  await withTempDir("flow-engine-", async (dir) => {
    const record = newRecord(dir);
    const signals: AbortSignal[] = [];
    let calls = 0;
    const slow: FlowStep = {
      name: "compare",
      run: (c) => {
        signals.push(c.signal);
        calls++;
        if (calls === 1) return new Promise(() => {}); // hangs
        return Promise.resolve("done");
      },
    };
    const outputs = await runSteps(record, [slow], { compare: policy({ retries: 1, timeout_ms: 30 }) }, {
      sleep: () => Promise.resolve(),
    });
    assert.equal(outputs.compare, "done");
    assert.equal(signals[0].aborted, true);
    assert.equal(signals[1].aborted, false);
    const step = (await readFlowRecord(record.flow_id, dir))!.steps[0];
    assert.deepEqual(step.attempts.map((a) => a.error), ["timed out after 30 ms", null]);
  });
});

Deno.test("resuming: checkpointed steps are not run again, even when flow.json still says running", async () => {
  await withTempDir("flow-engine-", async (dir) => {
    const record = newRecord(dir);
    const runs: string[] = [];
    const step = (name: string): FlowStep => ({
      name,
      run: (c) => {
        runs.push(name);
        return Promise.resolve(name === "b" ? `${c.output<string>("a")}+b` : name);
      },
    });
    // As left by a process killed between step b's checkpoint and its record.
    await writeStepOutput(record.flow_id, "a", "a", dir);
    await writeStepOutput(record.flow_id, "b", "a+b", dir);
    record.steps.push({
      name: "b",
      state: "running",
      attempts: [{
        attempt: 1,
        started_at: record.created_at,
        ended_at: null,
        duration_ms: null,
        error: null,
      }],
      duration_ms: null,
      session: 1,
      summary: null,
      error: null,
    });
    const policies = { a: policy(), b: policy(), c: policy() };
    const outputs = await runSteps(record, [step("a"), step("b"), step("c")], policies);
    assert.deepEqual(runs, ["c"]);
    assert.deepEqual(outputs, { a: "a", b: "a+b", c: "c" });
    const stored = (await readFlowRecord(record.flow_id, dir))!;
    assert.deepEqual(stored.steps.map((s) => [s.name, s.state]), [["a", "completed"], ["b", "completed"], [
      "c",
      "completed",
    ]]);
    assert.match(stored.steps[1].attempts[0].error!, /interrupted/);
  });
});
