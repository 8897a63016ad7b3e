/**
 * The nested evaluation is nested: with an observer recording every table row that reaches the
 * encoder fit, a search fit, a search or final threshold choice, the calibration or the final fit,
 * no outer test row ever appears, while every outer-training row does (so the observer is live).
 * Also: `folds.csv` partitions the rows in every repeat and is stratified, and `predictions.csv`
 * scores every row once per repeat (checked by counting, independently of the code that wrote them).
 */
import assert from "node:assert/strict";
import { germanCredit } from "../fixtures.ts";
import {
  DEFAULT_NESTED_OPTIONS,
  type NestedOptions,
  outerFolds,
  runNestedFolds,
} from "../../pipeline/model/nested.ts";
import { recordNestedEvaluation } from "../../pipeline/model/nested_run.ts";
import { parseCsv, readNestedFolds, readNestedRecord, runFilePath } from "../../pipeline/tracking/mod.ts";
import { slow } from "../scope.ts";

/** Small settings: 2 × 3 outer folds, few trials and trees. */
const SMALL: NestedOptions = {
  ...DEFAULT_NESTED_OPTIONS,
  repeats: 2,
  folds: 3,
  trials: 3,
  innerFolds: 3,
  searchRepeats: 2,
  searchTrees: 8,
  trees: 12,
  workers: 0,
};

const COMMITTED = "20261126-185337-9124a5";
const MODELS = new URL("../../models", import.meta.url).pathname;

Deno.test("no outer test row reaches any fit, search, calibration or threshold choice", async () => {
  const table = await germanCredit();
  const y = table.bad!;
  const outer = outerFolds(y, SMALL);
  const seen = new Map<string, Map<string, Set<number>>>();
  await runNestedFolds(table, y, outer, SMALL, {
    observer: (fold, stage, rows) => {
      const key = `${fold.repeat}/${fold.fold}`;
      let stages = seen.get(key);
      if (!stages) seen.set(key, stages = new Map());
      let set = stages.get(stage);
      if (!set) stages.set(stage, set = new Set());
      for (const r of rows) set.add(r);
    },
  });
  assert.equal(seen.size, outer.length);
  for (const fold of outer) {
    const stages = seen.get(`${fold.repeat}/${fold.fold}`)!;
    // Every stage of the pipeline reported, so an empty record cannot pass for a clean one.
    for (
      const stage of [
        "encoder",
        "search.fit",
        "search.threshold",
        "threshold.fit",
        "threshold.choice",
        "calibrate",
        "fit",
      ]
    ) {
      assert.ok(stages.has(stage), `fold ${fold.repeat}/${fold.fold}: stage ${stage} never observed`);
    }
    const test = new Set(fold.test);
    for (const [stage, rows] of stages) {
      const leaked = [...rows].filter((r) => test.has(r));
      assert.deepEqual(leaked, [], `fold ${fold.repeat}/${fold.fold}: ${stage} saw outer test rows`);
    }
    // The final fit and the calibration see exactly the outer-training rows.
    assert.deepEqual([...stages.get("fit")!].sort((a, b) => a - b), Array.from(fold.train));
    assert.deepEqual([...stages.get("calibrate")!].sort((a, b) => a - b), Array.from(fold.train));
    assert.equal(fold.train.length + fold.test.length, y.length);
  }
});

Deno.test(
  "folds.csv partitions every repeat into stratified folds; predictions.csv scores each row once per repeat",
  slow,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "nested_test_" });
    try {
      await Deno.mkdir(`${dir}/runs/${COMMITTED}`, { recursive: true });
      await Deno.copyFile(`${MODELS}/runs/${COMMITTED}/run.json`, `${dir}/runs/${COMMITTED}/run.json`);
      const options = { ...SMALL, workers: 2 };
      const record = await recordNestedEvaluation(options, { runId: COMMITTED, modelsDir: dir });
      assert.equal(record.complete, true);
      assert.equal((await readNestedRecord(COMMITTED, dir))!.complete, true);

      // Labels read straight from the data file's last field (2 = bad), not through the project's loader.
      const lines = (await Deno.readTextFile("data/german.data")).split("\n").filter((l) => l.trim() !== "");
      const bad = lines.map((l) => l.trim().split(/\s+/).at(-1) === "2" ? 1 : 0);
      const totalBad = bad.reduce((a: number, b) => a + b, 0);

      const folds = (await readNestedFolds(COMMITTED, dir))!;
      for (let repeat = 0; repeat < options.repeats; repeat++) {
        const rows = folds.filter((f) => f.repeat === repeat);
        // A partition: every data line exactly once.
        assert.deepEqual(rows.map((f) => f.row).sort((a, b) => a - b), lines.map((_, i) => i));
        for (let fold = 0; fold < options.folds; fold++) {
          const inFold = rows.filter((f) => f.fold === fold);
          const nBad = inFold.filter((f) => bad[f.row] === 1).length;
          // Stratified: 1000 rows (300 bad) into 3 folds gives 333 or 334 rows, 100 bad each.
          assert.ok(Math.abs(inFold.length - lines.length / options.folds) < 1, `fold size ${inFold.length}`);
          assert.ok(Math.abs(nBad - totalBad / options.folds) < 1, `bad rows ${nBad}`);
        }
      }

      const predictions = parseCsv(
        await Deno.readTextFile(runFilePath(COMMITTED, "nested/predictions.csv", dir)),
      );
      assert.deepEqual(Object.keys(predictions[0]), [
        "repeat",
        "fold",
        "row",
        "label",
        "probability",
        "pd",
        "threshold",
        "decision",
      ]);
      for (let repeat = 0; repeat < options.repeats; repeat++) {
        const rows = predictions.filter((p) => Number(p.repeat) === repeat);
        assert.deepEqual(rows.map((p) => Number(p.row)).sort((a, b) => a - b), lines.map((_, i) => i));
        for (const p of rows) {
          assert.equal(Number(p.label), bad[Number(p.row)]);
          const fold = folds.find((f) => f.repeat === repeat && f.row === Number(p.row))!;
          assert.equal(Number(p.fold), fold.fold);
          assert.equal(p.decision, Number(p.probability) >= Number(p.threshold) ? "decline" : "approve");
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
