/**
 * The tasks' grants (issue 17, item 12): FFI is granted only for the native addons that need it —
 * polars' (every platform package the lock file lists) and, for `bench:onnx`, onnxruntime's — and
 * each task still loads its addon under exactly its own flags. A scope that missed the addon would
 * fail at import ("Requires ffi access"); the negative control shows the check would see that.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;
const tasks: Record<string, string> = JSON.parse(await Deno.readTextFile(`${root}deno.json`)).tasks;
const lock = await Deno.readTextFile(`${root}deno.lock`);
const ADDON_PACKAGES = [
  ...new Set([...lock.matchAll(/"(nodejs-polars-[a-z0-9-]+@[0-9.]+)"/g)].map((m) => m[1])),
].filter((name) => !/android|win32/.test(name));

/** Loads the addon as the pipeline does. */
const LOADER = "tests/e2e/load_polars.ts";

/** `deno run <flags> <script>` of a task, split. */
function runOf(task: string): { flags: string[]; script: string } {
  const words = tasks[task].split(/\s+/);
  const run = words.indexOf("run");
  const script = words.findIndex((w, i) => i > run && !w.startsWith("-"));
  return { flags: words.slice(run + 1, script), script: words[script] };
}

Deno.test("no task but the test runners grants FFI unscoped, and each scope names addon packages only", () => {
  const granting = Object.keys(tasks).filter((t) => /--allow-ffi\b/.test(tasks[t]));
  assert.ok(granting.includes("serve"));
  for (const task of granting) {
    // The test runners spawn all of the above. `start`, the quick start, reads anything already
    // (--allow-read) and must work where node_modules is a symbolic link (FFI is checked on the
    // addon's real path, outside a relative scope): tests/e2e/ship_test.ts runs it that way.
    if (["test", "test:unit", "start"].includes(task)) continue;
    const flag = tasks[task].match(/--allow-ffi(=\S+)?/)!;
    assert.ok(flag[1], `${task}: --allow-ffi is unscoped`);
    const entries = flag[1].slice(1).split(",");
    for (const entry of entries) {
      assert.match(
        entry,
        /^node_modules\/\.deno\/(nodejs-polars-[a-z0-9-]+|onnxruntime-node)@[0-9.]+$/,
        task,
      );
    }
    for (const name of ADDON_PACKAGES) {
      assert.ok(entries.includes(`node_modules/.deno/${name}`), `${task}: ${name}`);
    }
  }
});

Deno.test("each FFI task loads its native addons under exactly its own flags", async () => {
  const granting = Object.keys(tasks).filter((t) => /--allow-ffi=/.test(tasks[t]));
  const checked = ["serve", "train", "etl", "evaluate", "score", "drift", "export"];
  assert.deepEqual(checked.filter((t) => !granting.includes(t)), []);
  for (const task of checked) {
    const { flags } = runOf(task);
    // The scripts load the addon on first use (data/polars.ts), not at import: the loader script
    // loads it under the task's flags.
    const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, LOADER],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.doesNotMatch(new TextDecoder().decode(stderr), /Requires ffi access|NotCapable/, task);
    assert.equal(new TextDecoder().decode(stdout).trim(), "3", task);
  }
  // The negative control: with FFI scoped elsewhere, the same import is refused.
  const { flags } = runOf("serve");
  const refused = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...flags.map((f) => f.startsWith("--allow-ffi") ? "--allow-ffi=/nonexistent" : f),
      LOADER,
    ],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.match(new TextDecoder().decode(refused.stderr), /Requires ffi access to ".*nodejs-polars/);
});
