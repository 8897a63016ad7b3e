import assert from "node:assert/strict";
import { moduleTempDir } from "../temp.ts";
import {
  listRuns,
  readRegistry,
  readRun,
  registerModel,
  registrySchema,
  Run,
  runRecordSchema,
  STALE_AFTER_MS,
  StepError,
  toCsv,
  withRegistryLock,
} from "../../pipeline/tracking/mod.ts";

async function tempModels(): Promise<string> {
  return await moduleTempDir("tracking_test_");
}

async function fakeArtifact(dir: string, name: string, body = name): Promise<string> {
  await Deno.mkdir(`${dir}/runs/${name}`, { recursive: true });
  await Deno.writeTextFile(`${dir}/runs/${name}/model.json`, JSON.stringify({ body }));
  return `runs/${name}/model.json`;
}

const entry = (runId: string, artifact: string, value: number, objective = "cost") => ({
  run_id: runId,
  artifact,
  objective,
  objective_value: value,
  direction: objective === "cost" ? "minimize" as const : "maximize" as const,
  metrics: { cost: value },
});

Deno.test("a run records params once, metrics, steps and artifacts, and finishes", async () => {
  const dir = await tempModels();
  const run = await Run.start({ experiment: "t", modelsDir: dir, tags: { seed: "1" } });
  assert.equal((await readRun(run.id, dir))!.status, "running");
  await run.logParams({ a: 1 });
  await run.logParams({ a: 1, b: "x" });
  await assert.rejects(run.logParams({ a: 2 }), /param a was already logged/);
  const value = await run.step("work", () => 41 + 1);
  assert.equal(value, 42);
  await run.logMetrics("test", { cost: 0.5 });
  await run.logArtifact("notes.txt", "hello");
  await run.finish();
  const record = (await readRun(run.id, dir))!;
  assert.ok(runRecordSchema.safeParse(record).success);
  assert.equal(record.status, "finished");
  assert.deepEqual(record.params, { a: 1, b: "x" });
  assert.equal(record.steps[0].name, "work");
  assert.equal(record.steps[0].status, "finished");
  assert.deepEqual(record.artifacts, ["notes.txt"]);
  assert.equal(await Deno.readTextFile(`${run.dir}/notes.txt`), "hello");
  assert.deepEqual([...Deno.readDirSync(run.dir)].filter((e) => e.name.endsWith(".tmp")), []);
});

Deno.test("a failing step names itself and the run is marked failed", async () => {
  const dir = await tempModels();
  const run = await Run.start({ experiment: "t", modelsDir: dir });
  const error = await run.step("load", () => {
    throw new Error("line 3: bad");
  }).catch((e) => e);
  assert.ok(error instanceof StepError);
  assert.equal(error.message, 'step "load" failed: line 3: bad');
  await run.fail(error);
  const record = (await readRun(run.id, dir))!;
  assert.equal(record.status, "failed");
  assert.equal(record.steps[0].status, "failed");
  assert.match(record.error!, /step "load" failed/);
});

Deno.test("a running run whose heartbeat stopped is flagged stale, a live one is not", async () => {
  const dir = await tempModels();
  const run = await Run.start({ experiment: "t", modelsDir: dir });
  assert.equal((await readRun(run.id, dir))!.tags.stale, undefined);
  const record = { ...run.record, heartbeat_at: new Date(Date.now() - STALE_AFTER_MS - 1000).toISOString() };
  await Deno.writeTextFile(`${run.dir}/run.json`, JSON.stringify(record));
  assert.equal((await readRun(run.id, dir))!.tags.stale, "true");
  assert.equal((await listRuns(dir)).length, 1);
});

Deno.test("readRun refuses ids that could leave the runs folder", async () => {
  const dir = await tempModels();
  for (const id of ["..", "../registry", "a/b", "%2e%2e", ""]) assert.equal(await readRun(id, dir), null);
});

Deno.test("the first model becomes production; a worse challenger stays candidate; a better one is promoted", async () => {
  const dir = await tempModels();
  const first = await registerModel(entry("r1", await fakeArtifact(dir, "r1"), 0.55), { modelsDir: dir });
  assert.equal(first.promoted, true);
  assert.match(first.reason, /no production model yet/);
  const worse = await registerModel(entry("r2", await fakeArtifact(dir, "r2"), 0.6), { modelsDir: dir });
  assert.equal(worse.promoted, false);
  assert.match(worse.reason, /worse, kept as candidate/);
  const better = await registerModel(entry("r3", await fakeArtifact(dir, "r3"), 0.5), { modelsDir: dir });
  assert.equal(better.promoted, true);
  const forced = await registerModel(entry("r4", await fakeArtifact(dir, "r4"), 0.9), {
    modelsDir: dir,
    promote: "always",
  });
  assert.equal(forced.promoted, true);
  const never = await registerModel(entry("r5", await fakeArtifact(dir, "r5"), 0.1), {
    modelsDir: dir,
    promote: "never",
  });
  assert.equal(never.promoted, false);
  const registry = await readRegistry(dir);
  assert.deepEqual(registry.models.map((m) => [m.version, m.stage]), [
    [1, "archived"],
    [2, "candidate"],
    [3, "archived"],
    [4, "production"],
    [5, "candidate"],
  ]);
  assert.match(registry.models[0].sha256, /^[0-9a-f]{64}$/);
});

Deno.test("a challenger chosen on another objective is not compared blindly", async () => {
  const dir = await tempModels();
  await registerModel(entry("a", await fakeArtifact(dir, "a"), 0.5), { modelsDir: dir });
  const other = await registerModel(entry("b", await fakeArtifact(dir, "b"), 0.8, "auc"), { modelsDir: dir });
  assert.equal(other.promoted, false);
  assert.match(other.reason, /not auc; use --promote/);
});

Deno.test("concurrent registrations keep the registry valid with distinct versions and one production model", async () => {
  const dir = await tempModels();
  const artifacts = await Promise.all(Array.from({ length: 8 }, (_, i) => fakeArtifact(dir, `c${i}`)));
  await Promise.all(
    artifacts.map((a, i) => registerModel(entry(`c${i}`, a, 0.5 - i / 100), { modelsDir: dir })),
  );
  const registry = await readRegistry(dir);
  assert.ok(registrySchema.safeParse(registry).success);
  assert.deepEqual(registry.models.map((m) => m.version).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(registry.models.filter((m) => m.stage === "production").length, 1);
  assert.equal(await withRegistryLock(dir, () => Promise.resolve("free")), "free");
});

Deno.test("a corrupt registry is reported, not silently replaced", async () => {
  const dir = await tempModels();
  await Deno.writeTextFile(
    `${dir}/registry.json`,
    JSON.stringify({ format_version: 1, models: [{ version: "x" }] }),
  );
  await assert.rejects(readRegistry(dir), /not a valid registry/);
});

Deno.test("toCsv quotes commas, quotes and newlines", () => {
  assert.equal(
    toCsv(["a", "b"], [{ a: 'x,"y"', b: 1 }, { a: null, b: "l1\nl2" }]),
    'a,b\n"x,""y""",1\n,"l1\nl2"\n',
  );
});
