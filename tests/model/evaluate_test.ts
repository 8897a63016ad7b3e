/**
 * `deno task evaluate` on runs as they are on disk: a run recorded in the old `params.model` shape
 * (the committed production run, and one by hand) replays to exactly the configuration the old
 * decoder read; a value outside today's search space is named; the CLI adds its metric group to a
 * copy of the committed run and changes nothing else of the record.
 */
import assert from "node:assert/strict";
import { moduleTempDir } from "../temp.ts";
import { repeatedCv, runConfiguration } from "../../pipeline/model/evaluate.ts";
import { main as evaluateMain } from "../../pipeline/cli/evaluate.ts";
import { cliExitCode } from "../../pipeline/cli/run_cli.ts";
import { readRun, runFilePath, writeRunFile } from "../../pipeline/tracking/mod.ts";

const COMMITTED = "20261126-185337-9124a5";
const MODELS = new URL("../../models", import.meta.url).pathname;

/** A finished run whose `params.model` is in the old shape, alone in a fresh models folder. */
async function oldShapeRun(model: Record<string, unknown>) {
  const dir = await moduleTempDir("evaluate_test_");
  const runId = "20200101-000000-oldshape";
  await writeRunFile(
    runId,
    "run.json",
    JSON.stringify({
      run_id: runId,
      experiment: "german-credit",
      status: "finished",
      start_time: "2020-01-01T00:00:00.000Z",
      pid: 1,
      heartbeat_at: "2020-01-01T00:00:10.000Z",
      params: { objective: "recall", min_accuracy: 0.72, trees: 300, model },
      metrics: { threshold: model.threshold },
      tags: {},
      steps: [],
      artifacts: [],
    }),
    dir,
  );
  return (await readRun(runId, dir))!;
}

const OLD_MODEL = {
  maxDepth: null,
  minSamplesLeaf: 4,
  maxFeatures: 0.35,
  samplingStrategy: 0.75,
  replacement: false,
  criterion: "gini",
  nEstimators: 300,
  engineered_features: false,
  threshold: 0.41,
};

Deno.test("an old-shape run replays to exactly the forest options its old decoder read", async () => {
  // The former decoder: `const { engineered_features, threshold, ...forest } = run.params.model`.
  const old = (model: Record<string, unknown>) => {
    const { engineered_features, threshold: _threshold, ...forest } = model;
    return { forest, engineered: engineered_features };
  };
  const configuration = runConfiguration(await oldShapeRun(OLD_MODEL));
  assert.deepEqual({ forest: configuration.forest, engineered: configuration.engineered }, old(OLD_MODEL));
  assert.equal(configuration.objective, "recall");
  assert.equal(configuration.minAccuracy, 0.72);

  const stored = JSON.parse(await Deno.readTextFile(`${MODELS}/runs/${COMMITTED}/run.json`));
  const committed = runConfiguration((await readRun(COMMITTED, MODELS))!);
  assert.deepEqual({ forest: committed.forest, engineered: committed.engineered }, old(stored.params.model));
});

Deno.test("a run whose params.model lies outside the search space is refused, naming the parameter", async () => {
  const run = await oldShapeRun({ ...OLD_MODEL, maxDepth: 40 });
  assert.throws(
    () => runConfiguration(run),
    /run 20200101-000000-oldshape: parameter "max_depth" = 40 is outside its distribution: an integer in \[3, 16\]/,
  );
  const bare = await oldShapeRun({});
  assert.throws(() => runConfiguration({ ...bare, params: {} }), /has no model params \(status finished\)/);
});

Deno.test("evaluate adds repeated_cv to a copy of the committed run and leaves the rest of its record as it was", async () => {
  const dir = await Deno.makeTempDir({ prefix: "evaluate_test_" });
  try {
    await Deno.mkdir(`${dir}/runs/${COMMITTED}`, { recursive: true });
    for (const name of ["run.json", "MODEL_CARD.md"]) {
      await Deno.copyFile(`${MODELS}/runs/${COMMITTED}/${name}`, `${dir}/runs/${COMMITTED}/${name}`);
    }
    const before = JSON.parse(await Deno.readTextFile(runFilePath(COMMITTED, "run.json", dir)));
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: string) => printed.push(line);
    let code;
    try {
      code = await cliExitCode(
        "evaluate",
        evaluateMain,
        [
          "--models-dir",
          dir,
          "--run",
          COMMITTED,
          "--repeats",
          "1",
          "--folds",
          "2",
          "--inner-folds",
          "2",
          "--json",
        ],
        { print: (line) => printed.push(line) },
      );
    } finally {
      console.log = log;
    }
    assert.equal(code, 0, printed.join("\n"));
    const result = JSON.parse(printed.join("\n"));
    assert.equal(result.cost.values.length, 2);
    const after = JSON.parse(await Deno.readTextFile(runFilePath(COMMITTED, "run.json", dir)));
    assert.deepEqual(after.metrics.repeated_cv, result);
    assert.deepEqual(Object.keys(after), Object.keys(before));
    const { repeated_cv: _new, ...rest } = after.metrics;
    const { repeated_cv: _old, ...restBefore } = before.metrics;
    assert.deepEqual({ ...after, metrics: rest }, { ...before, metrics: restBefore });
    assert.match(
      await Deno.readTextFile(runFilePath(COMMITTED, "MODEL_CARD.md", dir)),
      /\| max_depth \| 10 \|/,
    );

    assert.equal(await cliExitCode("evaluate", evaluateMain, ["--folds", "1"], { print: () => {} }), 2);
    assert.equal(
      await cliExitCode("evaluate", evaluateMain, ["--models-dir", dir, "--run", "nosuch"], {
        print: () => {},
      }),
      1,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("repeated CV of a fair run refits without the protected attributes: scrambling them changes nothing", async () => {
  const fairRun = (await readRun("20261128-204234-b9d3e7", MODELS))!;
  const fair = runConfiguration(fairRun);
  assert.deepEqual([...fair.profile.excluded], ["personal_status", "age", "foreign_worker"]);
  assert.equal(runConfiguration((await readRun(COMMITTED, MODELS))!).profile.excluded.length, 0);

  // The same applicants with personal_status (column 9), age (13) and foreign_worker (20) rotated
  // among rows: a refit that saw any of them would score differently.
  const dir = await moduleTempDir("evaluate_test_fair_");
  const lines = (await Deno.readTextFile(new URL("../../data/german.data", import.meta.url)))
    .trimEnd().split("\n").map((line) => line.split(" "));
  const scrambled = lines.map((fields, i) => {
    const donor = lines[(i * 7 + 3) % lines.length];
    const out = [...fields];
    for (const column of [8, 12, 19]) out[column] = donor[column];
    return out.join(" ");
  });
  await Deno.writeTextFile(`${dir}/scrambled.data`, scrambled.join("\n") + "\n");
  const options = { repeats: 1, folds: 3, innerFolds: 2, seed: 5 };
  const small = (c: typeof fair) => ({ ...c, forest: { ...c.forest, nEstimators: 15 } });
  const original = await repeatedCv(small(fair), { ...options, dataPath: "data/german.data" });
  const onScrambled = await repeatedCv(small(fair), { ...options, dataPath: `${dir}/scrambled.data` });
  assert.deepEqual(onScrambled.cost.values, original.cost.values);
  assert.deepEqual(onScrambled.roc_auc.values, original.roc_auc.values);
  // The control: the same configuration allowed to see every attribute does notice.
  const full = { ...small(fair), profile: { name: "full" as const, excluded: [] } };
  const fullOriginal = await repeatedCv(full, { ...options, dataPath: "data/german.data" });
  const fullScrambled = await repeatedCv(full, { ...options, dataPath: `${dir}/scrambled.data` });
  assert.notDeepEqual(fullScrambled.roc_auc.values, fullOriginal.roc_auc.values);
});

Deno.test("a run trained with reweighing is not replayed by repeated CV, and says which evaluation does", async () => {
  const run = (await readRun(COMMITTED, MODELS))!;
  const reweighed = { ...run, params: { ...run.params, mitigation: "reweigh" } };
  assert.throws(() => runConfiguration(reweighed), /mitigation "reweigh".*evaluate --nested/);
});
