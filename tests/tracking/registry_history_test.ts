/**
 * The registry keeps its whole history: versions only go up (even past versions no longer listed),
 * no model or event is ever dropped by a new registration, and a registry stored before the history
 * existed (the committed one) is migrated on read. Also: `gitProvenance` reports the commit and a
 * dirty flag as git itself does.
 */
import assert from "node:assert/strict";
import {
  gitProvenance,
  readRegistry,
  registerModel,
  type RegistryEvent,
  registryPath,
} from "../../pipeline/tracking/mod.ts";

const MODELS = new URL("../../models", import.meta.url).pathname;

async function fakeArtifact(dir: string, name: string): Promise<string> {
  await Deno.mkdir(`${dir}/runs/${name}`, { recursive: true });
  await Deno.writeTextFile(`${dir}/runs/${name}/model.json`, JSON.stringify({ name }));
  return `runs/${name}/model.json`;
}

const entry = (runId: string, artifact: string, value: number) => ({
  run_id: runId,
  artifact,
  objective: "cost",
  objective_value: value,
  direction: "minimize" as const,
  metrics: { cost: value },
});

function assertMonotone(history: readonly RegistryEvent[]) {
  const registered = history.filter((e) => e.event === "registered").map((e) => e.version);
  for (let i = 1; i < registered.length; i++) assert.ok(registered[i] > registered[i - 1], `${registered}`);
  for (let i = 1; i < history.length; i++) {
    assert.ok(Date.parse(history[i].at) >= Date.parse(history[i - 1].at));
  }
}

Deno.test("a registry without history (the committed one) is migrated on read and keeps it at the next registration", async () => {
  const dir = await Deno.makeTempDir({ prefix: "registry_history_" });
  try {
    // The registry as committed before it kept a history: v1 in production, no `history`.
    const committed = JSON.parse(await Deno.readTextFile(`${MODELS}/registry.json`));
    const v1 = committed.models.find((m: { version: number }) => m.version === 1);
    await Deno.writeTextFile(
      registryPath(dir),
      JSON.stringify({ format_version: 1, models: [{ ...v1, stage: "production" }] }),
    );
    const stored = JSON.parse(await Deno.readTextFile(registryPath(dir)));
    assert.equal(stored.history, undefined);
    const migrated = await readRegistry(dir);
    // The committed registry lists v1, production: registered, then promoted.
    assert.deepEqual(migrated.history.map((e) => [e.event, e.version]), [["registered", 1], ["promoted", 1]]);

    const second = await registerModel(entry("r2", await fakeArtifact(dir, "r2"), 0.1), { modelsDir: dir });
    assert.equal(second.version.version, 2);
    const after = JSON.parse(await Deno.readTextFile(registryPath(dir)));
    assert.deepEqual(after.models.map((m: { version: number }) => m.version), [1, 2]);
    assert.deepEqual(
      after.history.map((e: RegistryEvent) => [e.event, e.version]),
      [["registered", 1], ["promoted", 1], ["registered", 2], ["archived", 1], ["promoted", 2]],
    );
    assertMonotone(after.history);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("versions only go up and nothing is dropped, even when a version was removed by hand", async () => {
  const dir = await Deno.makeTempDir({ prefix: "registry_history_" });
  try {
    for (const [i, value] of [0.5, 0.6, 0.4].entries()) {
      await registerModel(entry(`r${i}`, await fakeArtifact(dir, `r${i}`), value), { modelsDir: dir });
    }
    const before = await readRegistry(dir);
    assert.deepEqual(before.models.map((m) => m.version), [1, 2, 3]);
    // Someone deletes v3 from the list by hand: its number is still taken, its events still there.
    const edited = JSON.parse(await Deno.readTextFile(registryPath(dir)));
    edited.models = edited.models.filter((m: { version: number }) => m.version !== 3);
    await Deno.writeTextFile(registryPath(dir), JSON.stringify(edited));
    const next = await registerModel(entry("r3", await fakeArtifact(dir, "r3"), 0.7), { modelsDir: dir });
    assert.equal(next.version.version, 4);
    const after = await readRegistry(dir);
    assert.deepEqual(after.history.slice(0, before.history.length), before.history);
    assert.deepEqual(after.history.filter((e) => e.event === "registered").map((e) => e.version), [
      1,
      2,
      3,
      4,
    ]);
    assertMonotone(after.history);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gitProvenance: the commit git reports, dirty exactly when a tracked file differs", async () => {
  const git = async (args: string[], cwd: string) =>
    new TextDecoder().decode((await new Deno.Command("git", { args, cwd, stdout: "piped" }).output()).stdout)
      .trim();
  const dir = await Deno.makeTempDir({ prefix: "git_provenance_" });
  const here = Deno.cwd();
  try {
    await git(["init", "-q"], dir);
    await Deno.writeTextFile(`${dir}/a.txt`, "one\n");
    await git(["add", "a.txt"], dir);
    await git(["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "one"], dir);
    Deno.chdir(dir);
    const clean = await gitProvenance();
    assert.equal(clean.git_commit, await git(["rev-parse", "HEAD"], dir));
    assert.equal(clean.git_dirty, false);
    await Deno.writeTextFile(`${dir}/a.txt`, "two\n");
    assert.equal((await gitProvenance()).git_dirty, true);
  } finally {
    Deno.chdir(here);
    await Deno.remove(dir, { recursive: true });
  }
  const outside = await Deno.makeTempDir({ prefix: "no_git_" });
  try {
    Deno.chdir(outside);
    assert.deepEqual(await gitProvenance(), { git_commit: null, git_dirty: null });
  } finally {
    Deno.chdir(here);
    await Deno.remove(outside, { recursive: true });
  }
});
