/**
 * The unit shards: the files found are the ones `deno test` would pick up, minus `tests/e2e/`, and the
 * split puts each in exactly one shard, as worked out by hand.
 */
import assert from "node:assert/strict";
import { partition, unitTestFiles } from "./mod.ts";
import { withTempDir } from "../temp.ts";

Deno.test("unit test files: deno test's name patterns, nested folders, tests/e2e left out", async () => {
  await withTempDir("shards-", async (dir) => {
    const files = [
      "a_test.ts",
      "test.ts",
      "x.test.js",
      "helper.ts",
      "fixtures_test.json",
      "sub/deeper/c_test.ts",
      "sub/latest.ts",
      "e2e/b_test.ts",
      "sub/e2e/d_test.ts",
    ];
    for (const file of files) {
      await Deno.mkdir(`${dir}/${file.slice(0, file.lastIndexOf("/") + 1) || "."}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/${file}`, "");
    }
    const found = await unitTestFiles(new URL(`file://${dir}/`));
    // Only the top-level e2e folder is left out; sub/e2e is an ordinary folder.
    assert.deepEqual(found, [
      "a_test.ts",
      "sub/deeper/c_test.ts",
      "sub/e2e/d_test.ts",
      "test.ts",
      "x.test.js",
    ]);
  });
});

Deno.test("partition: heaviest first to the lighter shard, every file exactly once", () => {
  const weights: Record<string, number> = { a: 5, b: 4, c: 3, d: 3, e: 1 };
  // By hand: a→1 (5); b→2 (4); c→2 (7); d→1 (8); e: 8 against 7 → 2 (8).
  assert.deepEqual(partition(["e", "d", "c", "b", "a"], 2, (f) => weights[f]), [["a", "d"], ["b", "c", "e"]]);
  const many = Array.from({ length: 37 }, (_, i) => `f${i}`);
  for (const count of [1, 2, 3, 5]) {
    const shards = partition(many, count, (f) => Number(f.slice(1)) % 7);
    assert.equal(shards.length, count);
    assert.deepEqual(shards.flat().sort(), [...many].sort());
  }
  assert.throws(() => partition(many, 0), /count must be a positive integer, got 0/);
});
