/**
 * The mutation list stays applicable: a refactor that moves a mutated line (as moving the decision
 * rule to `model/decision.ts` did) would otherwise leave `deno task mutants` refusing to run, found
 * only when someone runs the benchmark. And the checker itself reports each kind of stale entry.
 */
import assert from "node:assert/strict";
import { MUTANTS } from "../../bench/mutants/mutants.ts";
import { staleMutants } from "../../bench/mutants/run.ts";
import { withTempDir } from "../temp.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("every mutant's snippet occurs exactly once in its file, and its tests exist", async () => {
  assert.ok(MUTANTS.length >= 30, `${MUTANTS.length} mutants`);
  assert.deepEqual(await staleMutants(MUTANTS, ROOT), []);
});

Deno.test("the checker names a snippet found twice or not at all, a missing file or test, a no-op and a reused id", async () => {
  await withTempDir("mutants-check-", async (root) => {
    await Deno.mkdir(`${root}/src`);
    await Deno.writeTextFile(`${root}/src/a.ts`, "const x = 1;\nconst y = 1;\n");
    await Deno.writeTextFile(`${root}/a_test.ts`, "");
    const base = { why: "", tests: ["a_test.ts"] };
    const problems = await staleMutants([
      { ...base, id: "ok", file: "src/a.ts", original: "const x = 1;", replacement: "const x = 2;" },
      { ...base, id: "twice", file: "src/a.ts", original: "= 1;", replacement: "= 2;" },
      { ...base, id: "absent", file: "src/a.ts", original: "const z", replacement: "let z" },
      { ...base, id: "moved", file: "src/b.ts", original: "a", replacement: "b" },
      { ...base, id: "same", file: "src/a.ts", original: "const y = 1;", replacement: "const y = 1;" },
      {
        id: "untested",
        file: "src/a.ts",
        original: "const y",
        replacement: "let y",
        why: "",
        tests: ["b_test.ts"],
      },
      { ...base, id: "ok", file: "src/a.ts", original: "y = 1", replacement: "y = 3" },
    ], root);
    assert.deepEqual(problems, [
      'twice: the snippet occurs 2 times in src/a.ts, not exactly once: "= 1;"',
      'absent: the snippet occurs 0 times in src/a.ts, not exactly once: "const z"',
      "moved: src/b.ts does not exist (moved? update bench/mutants/mutants.ts)",
      "same: the replacement equals the original",
      "untested: test file b_test.ts does not exist",
      "ok: the id is used twice",
    ]);
  });
});
