/**
 * `deno task flow` as a process (the task's permissions, writing to a temporary models folder):
 * killed with SIGKILL at each step and run again, it resumes without running a completed step
 * again; killed in the middle of training, it trains again and keeps the validated and drift
 * steps; two flows on one models folder: the second refuses at once (or waits its bounded time and
 * then runs), and the registry stays valid.
 */
import assert from "node:assert/strict";
import { FLOW_STEPS, normaliseConfig } from "../../pipeline/flow/config.ts";
import { codeVersion } from "../../pipeline/flow/key.ts";
import { type FlowRecord, listFlows, readFlowRecord } from "../../pipeline/flow/record.ts";
import { runFlow } from "../../pipeline/flow/retrain.ts";
import { listRuns, readRegistry } from "../../pipeline/tracking/mod.ts";
import { moduleTempDir } from "../temp.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DATA = `${ROOT}data/german.data`;
const SMALL = {
  train: { trials: 3, folds: 3, search_repeats: 1, search_trees: 20, trees: 40 },
  compare: { repeats: 1, folds: 3, inner_folds: 2 },
};

// A models folder holding a champion (made by a flow with another seed, so the CLI's flows are new).
const base = await moduleTempDir("flow-cli-base-");
await runFlow({
  dataPath: DATA,
  config: normaliseConfig({ ...SMALL, train: { ...SMALL.train, seed: 7 } }),
  modelsDir: base,
  codeVersion: await codeVersion(),
});

async function copyOfBase(): Promise<string> {
  const dir = await moduleTempDir("flow-cli-");
  const out = await new Deno.Command("cp", { args: ["-r", `${base}/.`, dir] }).output();
  assert.equal(out.code, 0);
  return dir;
}

async function writeConfig(dir: string, config: unknown): Promise<string> {
  const path = `${dir}/flow-config.json`;
  await Deno.writeTextFile(path, JSON.stringify(config));
  return path;
}

/** `deno task flow`'s command with its permissions, writing to `modelsDir` instead of models/. */
function flowProcess(modelsDir: string, configPath: string, env: Record<string, string> = {}) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${modelsDir}`,
      "--allow-net",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      "--allow-run=git",
      `${ROOT}pipeline/cli/flow.ts`,
      "--data",
      DATA,
      "--config",
      configPath,
      "--models-dir",
      modelsDir,
    ],
    env: { NO_COLOR: "1", ...env },
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads a child's standard error until a line matches; returns everything read so far. */
function stderrWatcher(child: Deno.ChildProcess) {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  return {
    async until(pattern: RegExp): Promise<string> {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the flow ended before printing ${pattern}:\n${text}`);
        text += value;
      }
      return text;
    },
    async rest(): Promise<string> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return text;
        text += value;
      }
    },
  };
}

async function onlyFlow(modelsDir: string): Promise<FlowRecord> {
  const { flows, problems } = await listFlows(modelsDir);
  assert.deepEqual(problems, []);
  const newest = flows.filter((f) => f.key_inputs.data_path === DATA && f.sessions[0].pid !== Deno.pid);
  assert.equal(newest.length, 1);
  return newest[0];
}

async function assertRegistryValid(modelsDir: string): Promise<void> {
  const registry = await readRegistry(modelsDir); // validates the schema
  const versions = registry.models.map((m) => m.version);
  assert.equal(new Set(versions).size, versions.length);
  assert.equal(registry.models.filter((m) => m.stage === "production").length, 1);
  const runs = new Set((await listRuns(modelsDir)).map((r) => r.run_id));
  for (const m of registry.models) assert.ok(runs.has(m.run_id), `v${m.version}'s run ${m.run_id} exists`);
}

for (const step of FLOW_STEPS) {
  Deno.test(`SIGKILL at step ${step}, then run again: it resumes, no completed step runs twice`, async () => {
    const dir = await copyOfBase();
    const config = await writeConfig(dir, SMALL);
    const child = flowProcess(dir, config, { FLOW_FAULT_HOLD_AT: step });
    const watch = stderrWatcher(child);
    await watch.until(new RegExp(`holding at step ${step}`));
    const before = await onlyFlow(dir);
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel();
    const index = FLOW_STEPS.indexOf(step);
    assert.deepEqual(
      before.steps.map((s) => s.state),
      FLOW_STEPS.map((_, i) => i < index ? "completed" : i === index ? "running" : "pending"),
    );

    const again = flowProcess(dir, config);
    const [status, stdout] = await Promise.all([again.status, new Response(again.stdout).text()]);
    const log = await stderrWatcher(again).rest();
    assert.equal(status.code, 0, log);
    assert.match(stdout, /resumed in/);
    const after = await onlyFlow(dir);
    assert.equal(after.flow_id, before.flow_id);
    assert.equal(after.status, "succeeded");
    assert.equal(after.sessions.length, 2);
    for (let i = 0; i < index; i++) {
      assert.deepEqual(after.steps[i], before.steps[i], `step ${FLOW_STEPS[i]} unchanged`);
      assert.match(log, new RegExp(`step ${FLOW_STEPS[i]}: done earlier, not run again`));
    }
    assert.equal(after.steps[index].attempts.length, 1);
    assert.equal(after.steps[index].session, 2);
    assert.ok(after.steps.every((s) => s.state === "completed"));
    await assertRegistryValid(dir);
  });
}

Deno.test("SIGKILL in the middle of training: the rerun trains again, validate and drift are kept", async () => {
  const dir = await copyOfBase();
  // Large enough that the search lasts well over the polling interval.
  const config = await writeConfig(dir, {
    ...SMALL,
    train: { ...SMALL.train, trials: 20, search_trees: 60 },
  });
  const runsBefore = new Set((await listRuns(dir)).map((r) => r.run_id));
  const child = flowProcess(dir, config);
  const watch = stderrWatcher(child);
  await watch.until(/step train: started/);
  // Killed once the challenger's run is in its hyperparameter search.
  let killedRun: string | undefined;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const run = (await listRuns(dir)).find((r) => !runsBefore.has(r.run_id));
    if (run?.steps.some((s) => s.name === "tune" && s.status === "running")) {
      killedRun = run.run_id;
      break;
    }
  }
  child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel();
  const before = await onlyFlow(dir);
  const train = before.steps.find((s) => s.name === "train")!;
  assert.equal(train.state, "running", "training finished before the kill: make the config larger");

  const again = flowProcess(dir, config);
  const [status] = await Promise.all([again.status, again.stdout.cancel()]);
  const log = await stderrWatcher(again).rest();
  assert.equal(status.code, 0, log);
  const after = await onlyFlow(dir);
  assert.equal(after.status, "succeeded");
  assert.deepEqual(after.steps.slice(0, 2), before.steps.slice(0, 2));
  const retrained = after.steps.find((s) => s.name === "train")!;
  assert.equal(retrained.attempts.length, 2);
  assert.match(retrained.attempts[0].error!, /interrupted/);
  assert.equal(retrained.attempts[1].error, null);
  // The killed run is kept (never deleted), and is not the challenger.
  const runs = await listRuns(dir);
  assert.ok(runs.some((r) => r.run_id === killedRun));
  assert.notEqual(after.outcome?.challenger?.run_id, killedRun);
  await assertRegistryValid(dir);
});

Deno.test("two flows on one models folder: the second refuses at once, a third waits, the registry stays valid", async () => {
  const dir = await copyOfBase();
  const config = await writeConfig(dir, SMALL);
  const first = flowProcess(dir, config, { FLOW_FAULT_HOLD_AT: "compare" });
  const firstWatch = stderrWatcher(first);
  await firstWatch.until(/holding at step compare/);
  const holder = await onlyFlow(dir);

  const second = flowProcess(dir, config);
  const [status, stdout] = await Promise.all([second.status, new Response(second.stdout).text()]);
  const refused = await stderrWatcher(second).rest();
  assert.equal(status.code, 1);
  assert.equal(stdout, "");
  assert.match(
    refused,
    new RegExp(`^flow: flow ${holder.flow_id} \\(pid \\d+, since [^)]+\\) is running on ${dir}; waited 0 ms`),
  );
  await assertRegistryValid(dir);

  const waitingConfig = await writeConfig(dir, { ...SMALL, lock_wait_ms: 120_000 });
  const third = flowProcess(dir, waitingConfig);
  const thirdWatch = stderrWatcher(third);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  first.kill("SIGKILL");
  await first.status;
  await first.stdout.cancel();
  const log = await thirdWatch.rest();
  const [thirdStatus] = await Promise.all([third.status, third.stdout.cancel()]);
  assert.equal(thirdStatus.code, 0, log);
  assert.match(log, /\(new\) on/);
  await assertRegistryValid(dir);
  // The first flow was left unfinished; the third one (another config) finished.
  assert.equal((await readFlowRecord(holder.flow_id, dir))?.status, "running");
});
