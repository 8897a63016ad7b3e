import assert from "node:assert/strict";
import { moduleTempDir } from "../temp.ts";
import { loadCreditTable } from "../../pipeline/data/etl.ts";
import { rocAuc } from "../../pipeline/model/metrics.ts";
import { CreditModel } from "../../pipeline/model/artifact.ts";
import {
  type Hyperparameters,
  parseCsv,
  readRegistry,
  readRun,
  registrySchema,
  runRecordSchema,
} from "../../pipeline/tracking/mod.ts";
import { DEFAULT_TRAIN_OPTIONS, replayParams, train, type TrainOptions } from "../../pipeline/model/train.ts";
import { parseTrainArgs } from "../../pipeline/cli/train.ts";
import { FeatureEncoder } from "../../pipeline/features/encoder.ts";

const quick = (modelsDir: string, overrides: Partial<TrainOptions> = {}): TrainOptions => ({
  ...DEFAULT_TRAIN_OPTIONS,
  modelsDir,
  trials: 6,
  folds: 3,
  seed: 7,
  ...overrides,
});

const table = await loadCreditTable();

Deno.test("a training run leaves a complete, valid run directory and a registered production model", async () => {
  const dir = await moduleTempDir("train_test_");
  const result = await train(quick(dir));
  const run = (await readRun(result.runId, dir))!;
  const parsed = runRecordSchema.safeParse(run);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  assert.equal(run.status, "finished");
  assert.deepEqual(run.steps.map((s) => s.name), [
    "load",
    "split",
    "features",
    "tune",
    "threshold",
    "calibrate",
    "fit",
    "evaluate",
    "explain",
    "baseline",
    "write",
    "register",
  ]);
  assert.ok(run.steps.every((s) => s.status === "finished" && s.duration_ms! >= 0));
  for (const key of ["roc_auc", "recall_bad", "accuracy", "cost"]) {
    assert.equal(typeof (run.metrics.test as Record<string, number>)[key], "number", key);
  }
  assert.ok(run.metrics.baseline_test);
  assert.equal(run.metrics.threshold, result.threshold);
  // params.model holds only the searched hyperparameters, under the search's own names (the columns
  // of trials.csv); replayed through the search space they give the model the run trained.
  const chosen = run.params.model as Hyperparameters;
  assert.ok(!("threshold" in chosen) && Object.keys(chosen).every((k) => k === k.toLowerCase()));
  const replayed = replayParams(chosen);
  assert.deepEqual({
    ...replayed.forest,
    nEstimators: run.params.trees,
    engineered_features: replayed.engineered,
    threshold: run.metrics.threshold,
  }, result.params);
  const header = (await Deno.readTextFile(`${dir}/runs/${run.run_id}/trials.csv`)).split("\n")[0].split(",");
  for (const key of Object.keys(chosen)) assert.ok(header.includes(key), key);
  assert.match(run.tags.data_sha256, /^e2bc1078/);
  assert.equal(run.tags.seed, "7");
  for (
    const file of ["model.json", "trials.csv", "predictions.csv", "curves.json", "feature_importances.json"]
  ) {
    assert.ok(run.artifacts.includes(file), file);
    assert.ok((await Deno.stat(`${dir}/runs/${run.run_id}/${file}`)).size > 0, file);
  }

  const trials = parseCsv(await Deno.readTextFile(`${dir}/runs/${run.run_id}/trials.csv`));
  assert.equal(trials.length, 6);
  assert.ok(trials.every((t) => ["complete", "pruned", "failed"].includes(t.state)));

  // predictions.csv lets anyone recompute the test metrics independently.
  const predictions = parseCsv(await Deno.readTextFile(`${dir}/runs/${run.run_id}/predictions.csv`));
  assert.equal(predictions.length, 200);
  for (const p of predictions) assert.equal(Number(p.label), table.bad![Number(p.row)]);
  const labels = predictions.map((p) => Number(p.label));
  const probabilities = predictions.map((p) => Number(p.probability));
  assert.equal(rocAuc(labels, probabilities), (run.metrics.test as Record<string, number>).roc_auc);
  assert.equal(new Set(predictions.map((p) => p.row)).size, 200);

  // The artifact reproduces those probabilities through the record path.
  const registry = await readRegistry(dir);
  assert.ok(registrySchema.safeParse(registry).success);
  assert.equal(registry.models.length, 1);
  assert.equal(registry.models[0].stage, "production");
  const { model } = await CreditModel.load(
    `${dir}/${registry.models[0].artifact}`,
    registry.models[0].sha256,
  );
  const encoder: FeatureEncoder = model.encoder;
  const matrix = encoder.transformFrame(table.frame);
  const all = model.probabilities(matrix);
  for (const p of predictions.slice(0, 50)) assert.equal(all[Number(p.row)], Number(p.probability));
});

Deno.test("the same seed reproduces the same params and metrics; another seed differs", async () => {
  const [a, b, c] = await Promise.all([
    moduleTempDir("train_test_"),
    moduleTempDir("train_test_"),
    moduleTempDir("train_test_"),
  ]);
  const first = await train(quick(a));
  const second = await train(quick(b));
  const other = await train(quick(c, { seed: 8 }));
  assert.deepEqual(first.params, second.params);
  assert.deepEqual(first.test, second.test);
  assert.equal(first.cv.value, second.cv.value);
  assert.notDeepEqual(first.test, other.test);
  const modelA = await Deno.readTextFile(`${a}/runs/${first.runId}/model.json`);
  const modelB = await Deno.readTextFile(`${b}/runs/${second.runId}/model.json`);
  assert.deepEqual(JSON.parse(modelA).forest, JSON.parse(modelB).forest);
});

Deno.test("a failing data file fails the run, naming the step and the line, and leaves the registry alone", async () => {
  const dir = await moduleTempDir("train_test_");
  const broken = `${dir}/broken.data`;
  const lines = (await Deno.readTextFile("data/german.data")).split("\n");
  lines[9] = lines[9].replace("A1", "Z1");
  await Deno.writeTextFile(broken, lines.join("\n"));
  await assert.rejects(train(quick(dir, { dataPath: broken })), /step "load" failed: .*line 10/s);
  const runs = [...Deno.readDirSync(`${dir}/runs`)];
  assert.equal(runs.length, 1);
  const run = (await readRun(runs[0].name, dir))!;
  assert.equal(run.status, "failed");
  assert.equal(run.steps[0].status, "failed");
  assert.deepEqual((await readRegistry(dir)).models, []);
});

Deno.test("a training process killed midway leaves its run running, never finished, and the registry valid", async () => {
  const dir = await moduleTempDir("train_test_");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      `--allow-write=${dir}`,
      "--allow-ffi",
      "--allow-env",
      "--allow-sys",
      "--allow-run=git",
      "pipeline/cli/train.ts",
      "--models-dir",
      dir,
      "--trials",
      "500",
      "--quiet",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Wait until the search is under way, then kill without warning.
  const deadline = Date.now() + 30_000;
  let runId = "";
  while (Date.now() < deadline) {
    const entries = [...Deno.readDirSync(dir).filter((e) => e.name === "runs")];
    if (entries.length) {
      runId = [...Deno.readDirSync(`${dir}/runs`)][0]?.name ?? "";
      const run = runId ? await readRun(runId, dir).catch(() => null) : null;
      if (run?.steps.some((s) => s.name === "tune")) break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  await child.status;
  const run = (await readRun(runId, dir))!;
  assert.ok(runRecordSchema.safeParse(run).success);
  assert.equal(run.status, "running");
  assert.deepEqual((await readRegistry(dir)).models, []);
  assert.equal([...Deno.readDirSync(`${dir}/runs/${runId}`)].some((e) => e.name.endsWith(".tmp")), false);
});

Deno.test("command-line flags are parsed and bad ones named", () => {
  const options = parseTrainArgs([
    "--trials",
    "12",
    "--objective",
    "recall",
    "--min-accuracy",
    "0.72",
    "--no-promote",
  ]);
  assert.equal(options.trials, 12);
  assert.equal(options.objective, "recall");
  assert.equal(options.minAccuracy, 0.72);
  assert.equal(options.promote, "never");
  assert.throws(() => parseTrainArgs(["--trials", "0"]), /--trials must be an integer ≥ 1, got 0/);
  assert.throws(
    () => parseTrainArgs(["--objective", "profit"]),
    /--objective must be one of cost, recall, auc/,
  );
  assert.throws(() => parseTrainArgs(["--promote", "--no-promote"]), /exclude each other/);
});

Deno.test("the recall objective keeps accuracy at or above its floor on the out-of-fold predictions", async () => {
  const dir = await moduleTempDir("train_test_");
  const result = await train(quick(dir, { objective: "recall", minAccuracy: 0.7 }));
  const run = (await readRun(result.runId, dir))!;
  const oof = (run.metrics.cv as { out_of_fold: { accuracy: number; recall_bad: number } }).out_of_fold;
  assert.ok(oof.accuracy >= 0.7, `accuracy ${oof.accuracy}`);
  // The out-of-fold report is at the threshold those same rows chose; `cv.value` is now cross-fitted.
  assert.equal(oof.recall_bad, result.cv.valueSameRows);
});
