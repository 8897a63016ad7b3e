/**
 * Faults in training: `deno task train` (`pipeline/cli/train.ts`) killed with SIGKILL as each of its steps begins leaves a
 * registry that parses, artifacts that match their sha256, and run records that are whole; a run
 * afterwards in the same folder registers normally. Two runs at once in one folder both finish,
 * with two versions registered and exactly one in production.
 */
import assert from "node:assert/strict";
import { storedReference } from "../../pipeline/monitoring/mod.ts";
import { CreditModel } from "../../pipeline/model/artifact.ts";
import {
  registrySchema,
  runRecordSchema,
  sha256File,
  withRegistryLock,
} from "../../pipeline/tracking/mod.ts";

const TRAIN = new URL("../../pipeline/cli/train.ts", import.meta.url).pathname;
const STEPS = [
  "load",
  "split",
  "features",
  "tune",
  "threshold",
  "calibrate",
  "fit",
  "evaluate",
  "baseline",
  "write",
  "register",
];

function trainProcess(modelsDir: string, seed = 42) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${modelsDir}`,
      "--allow-ffi",
      "--allow-env",
      "--allow-sys",
      "--allow-run=git",
      TRAIN,
      "--models-dir",
      modelsDir,
      "--trials",
      "6",
      "--folds",
      "3",
      "--seed",
      String(seed),
      "--quiet",
    ],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Every file under `dir`, relative. */
async function files(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) out.push(...await files(`${dir}/${entry.name}`, `${path}/`));
    else out.push(path);
  }
  return out;
}

/** The models folder is consistent: registry, artifacts and run records whole; returns the registry. */
async function assertConsistent(modelsDir: string, context: string) {
  const all = await files(modelsDir).catch(() => [] as string[]);
  for (const name of all.filter((f) => f.endsWith(".json"))) {
    const text = await Deno.readTextFile(`${modelsDir}/${name}`);
    assert.doesNotThrow(() => JSON.parse(text), `${context}: ${name} is not whole JSON`);
  }
  for (const name of all.filter((f) => /^runs\/[^/]+\/run\.json$/.test(f))) {
    const parsed = runRecordSchema.safeParse(JSON.parse(await Deno.readTextFile(`${modelsDir}/${name}`)));
    assert.ok(parsed.success, `${context}: ${name}: ${parsed.error?.issues[0]?.message}`);
  }
  let registry: ReturnType<typeof registrySchema.parse> = { format_version: 1, models: [] };
  if (all.includes("registry.json")) {
    const parsed = registrySchema.safeParse(
      JSON.parse(await Deno.readTextFile(`${modelsDir}/registry.json`)),
    );
    assert.ok(parsed.success, `${context}: registry.json: ${parsed.error?.issues[0]?.message}`);
    registry = parsed.data!;
  }
  assert.ok(
    registry.models.filter((m) => m.stage === "production").length <= 1,
    `${context}: two production models`,
  );
  assert.equal(
    new Set(registry.models.map((m) => m.version)).size,
    registry.models.length,
    `${context}: versions`,
  );
  for (const m of registry.models) {
    assert.equal(
      await sha256File(`${modelsDir}/${m.artifact}`),
      m.sha256,
      `${context}: v${m.version} sha256`,
    );
  }
  return { registry, orphans: all.filter((f) => f.endsWith(".tmp")) };
}

/** Runs training and kills it with SIGKILL as soon as `step` shows in its run record. */
async function killAtStep(modelsDir: string, step: string): Promise<string | null> {
  const before = new Set(await files(`${modelsDir}/runs`).catch(() => [] as string[]));
  const child = trainProcess(modelsDir);
  const deadline = Date.now() + 60_000;
  let killedAt: string | null = null;
  try {
    while (Date.now() < deadline) {
      const record = (await files(`${modelsDir}/runs`).catch(() => [] as string[]))
        .find((f) => f.endsWith("/run.json") && !before.has(f));
      if (record) {
        const run = await Deno.readTextFile(`${modelsDir}/runs/${record}`).then(JSON.parse).catch(() => null);
        const steps: string[] = run?.steps.map((s: { name: string }) => s.name) ?? [];
        if (steps.includes(step) && run.status === "running") {
          child.kill("SIGKILL");
          killedAt = steps[steps.length - 1];
          break;
        }
        if (run && run.status !== "running") break; // finished before the step could be caught
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await child.stderr.cancel().catch(() => {});
  }
  return killedAt;
}

Deno.test("training killed with SIGKILL at each step leaves the registry and runs valid; the next run registers", async () => {
  const modelsDir = await Deno.makeTempDir({ prefix: "credit-faults-" });
  try {
    const killed: string[] = [];
    let orphans = 0;
    let locksLeft = 0;
    for (const step of STEPS) {
      const at = await killAtStep(modelsDir, step);
      if (at) killed.push(at);
      const state = await assertConsistent(modelsDir, `killed at ${at ?? `(missed ${step})`}`);
      orphans = state.orphans.length;
      // The registry lock is an OS lock: a killed holder releases it, so it must be free right away.
      const free = await Promise.race([
        withRegistryLock(modelsDir, () => Promise.resolve(true)),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 2000)),
      ]);
      if (!free) locksLeft++;
    }
    assert.ok(new Set(killed).size >= 5, `killed at ${killed.join(", ")}`);
    assert.equal(locksLeft, 0, "no registry lock outlives the process that held it");

    const child = trainProcess(modelsDir);
    const { code, stderr } = await child.output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const { registry } = await assertConsistent(modelsDir, "after a clean run");
    const production = registry.models.filter((m) => m.stage === "production");
    assert.equal(production.length, 1);
    const { model } = await CreditModel.load(`${modelsDir}/${production[0].artifact}`, production[0].sha256);
    assert.notEqual(storedReference(model), null, "the artifact carries its drift reference");
    console.log(
      `    ${STEPS.length} kills, caught at: ${
        killed.join(", ")
      }; ${registry.models.length} versions registered; ` +
        `${orphans} orphan .tmp file(s), ${locksLeft} registry lock(s) still held`,
    );
  } finally {
    await Deno.remove(modelsDir, { recursive: true });
  }
});

Deno.test("two training runs at once: both finish, two versions, exactly one production", async () => {
  const modelsDir = await Deno.makeTempDir({ prefix: "credit-concurrent-" });
  try {
    const runs = [trainProcess(modelsDir, 1), trainProcess(modelsDir, 2)];
    const results = await Promise.all(runs.map((r) => r.output()));
    for (const r of results) assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
    const { registry } = await assertConsistent(modelsDir, "two runs");
    assert.equal(await withRegistryLock(modelsDir, () => Promise.resolve("free")), "free");
    assert.deepEqual(registry.models.map((m) => m.version).sort(), [1, 2]);
    assert.equal(registry.models.filter((m) => m.stage === "production").length, 1);
    assert.equal(new Set(registry.models.map((m) => m.run_id)).size, 2);
    for (const m of registry.models) {
      const run = JSON.parse(await Deno.readTextFile(`${modelsDir}/runs/${m.run_id}/run.json`));
      assert.equal(run.status, "finished");
      assert.equal(run.tags.model_version, String(m.version));
    }
  } finally {
    await Deno.remove(modelsDir, { recursive: true });
  }
});
