/**
 * `deno task bench:flow`: the retraining flow's three targets, as processes, in a temporary folder
 * laid out like a deployment (links to the code and `data/`, a copy of the committed `models/`, so
 * the champion is the production run and the committed folder is never written):
 *
 * 1. `deno task flow --data data/german.data`: one full cycle with the default config (≤ 30 s);
 * 2. the same command again: the recorded outcome (≤ 1 s);
 * 3. on a fresh copy, the task's `deno run` command SIGKILLed `--kill-after` seconds (default 3)
 *    into training, then run again: it must resume with validate and drift not re-run.
 *
 * Prints wall times, the flow's step durations and the load average before and after each, and
 * writes `bench/results/flow.json`.
 * @module
 */

import { parseArgs } from "node:util";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { type FlowRecord, listFlows } from "../pipeline/flow/record.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { "kill-after": { type: "string", default: "3" } },
});
const killAfterMs = Number(values["kill-after"]) * 1000;
const ROOT = new URL("../", import.meta.url).pathname;
const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const TASK = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks.flow as string;

async function workspace(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "credit-flow-bench-" });
  // `ln` rather than Deno.symlink, which would need unscoped write permission.
  const names = ["deno.json", "deno.lock", "pipeline", "data", "static", "serve.ts"];
  const link = await new Deno.Command("ln", { args: ["-s", ...names.map((n) => `${ROOT}${n}`), dir] })
    .output();
  if (link.code !== 0) throw new Error(`ln failed: ${new TextDecoder().decode(link.stderr)}`);
  // Hard links, not a symbolic link: the task's scoped --allow-ffi is checked against the addon's
  // resolved path, which must lie under this folder's node_modules as in a deployment.
  const modules = await new Deno.Command("cp", {
    args: ["-al", `${ROOT}node_modules`, `${dir}/node_modules`],
  })
    .output();
  if (modules.code !== 0) {
    throw new Error(`cp -al node_modules failed: ${new TextDecoder().decode(modules.stderr)}`);
  }
  const copy = await new Deno.Command("cp", { args: ["-r", `${ROOT}models`, `${dir}/models`] }).output();
  if (copy.code !== 0) throw new Error("could not copy models/");
  await Deno.remove(`${dir}/models/registry.lock`).catch(() => {});
  return dir;
}

async function timed(dir: string, args: string[]): Promise<{ seconds: number; stderr: string }> {
  const started = performance.now();
  const out = await new Deno.Command("deno", { args, cwd: dir, env: { NO_COLOR: "1" } }).output();
  const seconds = (performance.now() - started) / 1000;
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(`deno ${args.join(" ")} exited ${out.code}:\n${stderr}`);
  return { seconds, stderr };
}

async function theFlow(dir: string): Promise<FlowRecord> {
  const { flows } = await listFlows(`${dir}/models`);
  if (flows.length !== 1) throw new Error(`expected one flow, found ${flows.length}`);
  return flows[0];
}

const steps = (f: FlowRecord) =>
  Object.fromEntries(f.steps.map((s) => [s.name, { ms: s.duration_ms, attempts: s.attempts.length }]));

const results: Record<string, unknown> = {
  measured_at: new Date().toISOString(),
  cores: navigator.hardwareConcurrency,
};
const dir = await workspace();
try {
  let before = load();
  const full = await timed(dir, ["task", "flow", "--data", "data/german.data", "--quiet"]);
  const flow = await theFlow(dir);
  results.full = { seconds: full.seconds, load_before: before, load_after: load(), steps: steps(flow) };
  before = load();
  const cached = await timed(dir, ["task", "flow", "--data", "data/german.data", "--quiet"]);
  results.cached = { seconds: cached.seconds, load_before: before, load_after: load() };
  results.outcome = flow.outcome;

  // A fresh copy, the task's own command run directly so that the kill reaches the flow.
  await Deno.remove(`${dir}/models`, { recursive: true });
  const copy = await new Deno.Command("cp", { args: ["-r", `${ROOT}models`, `${dir}/models`] }).output();
  if (copy.code !== 0) throw new Error("could not copy models/");
  const args = [...TASK.split(" ").slice(1), "--data", "data/german.data"];
  before = load();
  const child = new Deno.Command("deno", { args, cwd: dir, stderr: "piped", stdout: "null" })
    .spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("step train: started")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the flow ended before training:\n${text}`);
    text += value;
  }
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel();
  const killed = await theFlow(dir);
  const atKill = killed.steps.map((s) => `${s.name}:${s.state}`).join(" ");
  const resumed = await timed(dir, args);
  const after = await theFlow(dir);
  const kept = ["validate", "drift"].every((name) =>
    JSON.stringify(after.steps.find((s) => s.name === name)) ===
      JSON.stringify(killed.steps.find((s) => s.name === name))
  );
  results.resume = {
    seconds: resumed.seconds,
    load_before: before,
    load_after: load(),
    at_kill: atKill,
    validate_and_drift_not_rerun: kept,
    steps: steps(after),
    status: after.status,
  };

  const f = (s: number) => `${s.toFixed(2)} s`;
  const r = results as Record<string, { seconds: number; load_before: string; load_after: string }>;
  console.log(`cores ${navigator.hardwareConcurrency}; load averages (1, 5, 15 min) before → after`);
  console.log(`full cycle   ${f(r.full.seconds).padStart(9)}   ${r.full.load_before} → ${r.full.load_after}`);
  console.log(`  steps: ${JSON.stringify(steps(flow))}`);
  console.log(
    `cached       ${f(r.cached.seconds).padStart(9)}   ${r.cached.load_before} → ${r.cached.load_after}`,
  );
  console.log(
    `resumed      ${f(r.resume.seconds).padStart(9)}   ${r.resume.load_before} → ${r.resume.load_after}`,
  );
  console.log(`  at the kill: ${atKill}; validate and drift not re-run: ${kept}`);
  console.log(`  steps: ${JSON.stringify(steps(after))}`);
  await writeJsonAtomic(`${ROOT}bench/results/flow.json`, results);
} finally {
  await Deno.remove(dir, { recursive: true });
}
