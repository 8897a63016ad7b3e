/**
 * A nested evaluation killed midway (SIGKILL of the `deno task evaluate --nested` process, as a
 * crash or an operator would) leaves no `nested.json` claiming completeness: the record written at
 * the start says `complete: false`, and no predictions file pretends to cover every fold.
 */
import assert from "node:assert/strict";
import { readNestedRecord, runFilePath } from "../../../pipeline/tracking/mod.ts";

const COMMITTED = "20261126-185337-9124a5";
const MODELS = new URL("../../../models", import.meta.url).pathname;
const CLI = new URL("../../../pipeline/cli/evaluate.ts", import.meta.url).pathname;

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("a nested run killed midway leaves nested.json with complete: false", async () => {
  const dir = await Deno.makeTempDir({ prefix: "nested_kill_" });
  try {
    await Deno.mkdir(`${dir}/runs/${COMMITTED}`, { recursive: true });
    await Deno.copyFile(`${MODELS}/runs/${COMMITTED}/run.json`, `${dir}/runs/${COMMITTED}/run.json`);
    // Settings heavy enough that no fold can finish before the kill below.
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        CLI,
        "--nested",
        "--run",
        COMMITTED,
        "--models-dir",
        dir,
        "--repeats",
        "1",
        "--folds",
        "3",
        "--trials",
        "30",
        "--search-trees",
        "200",
        "--workers",
        "1",
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let exited = false;
    const status = child.status.finally(() => exited = true);
    const folds = runFilePath(COMMITTED, "nested/folds.csv", dir);
    const deadline = Date.now() + 120_000;
    try {
      while (!(await exists(folds))) {
        assert.ok(!exited, "the evaluation exited before writing folds.csv");
        assert.ok(Date.now() < deadline, "folds.csv never appeared");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      if (!exited) child.kill("SIGKILL");
    }
    await status;
    assert.equal((await status).success, false, "the evaluation finished before it could be killed");
    const record = await readNestedRecord(COMMITTED, dir);
    assert.ok(record, "nested.json is written before the first fold starts");
    assert.equal(record.complete, false);
    assert.equal(await exists(runFilePath(COMMITTED, "nested/predictions.csv", dir)), false);
    // The run record was not amended: byte for byte the copy it started from.
    assert.equal(
      await Deno.readTextFile(`${dir}/runs/${COMMITTED}/run.json`),
      await Deno.readTextFile(`${MODELS}/runs/${COMMITTED}/run.json`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
