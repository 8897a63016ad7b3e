/**
 * The run-file module: the committed run and a hand-written record in the old `params.model` shape
 * read, validate and migrate without touching the disk; every artifact format round-trips; an
 * absent file reads as null and a malformed one is named; amending a run holds the lock, never
 * writes the synthetic stale tag and never changes params.
 */
import assert from "node:assert/strict";
import { moduleTempDir } from "../temp.ts";
import {
  amendRun,
  chosenHyperparameters,
  CURVES,
  FEATURE_IMPORTANCES,
  migrateRunRecord,
  PREDICTIONS,
  readRun,
  readRunArtifacts,
  readRunFile,
  readStoredRun,
  requireRunFile,
  Run,
  type RunFile,
  RunFileError,
  runFilePath,
  runFileRef,
  type RunRecord,
  runRecordSchema,
  STALE_AFTER_MS,
  TRIALS,
  writeRunFile,
} from "../../pipeline/tracking/mod.ts";

const COMMITTED = "20261126-185337-9124a5";
const MODELS = new URL("../../models", import.meta.url).pathname;

/** A finished run in the shape training first wrote (forest options and threshold in params.model), in a fresh models folder. */
async function legacyRun(model: Record<string, unknown>, extra: Partial<RunRecord> = {}) {
  const dir = await moduleTempDir("run_files_test_");
  const record = {
    run_id: "20200101-000000-legacy",
    experiment: "german-credit",
    status: "finished",
    start_time: "2020-01-01T00:00:00.000Z",
    end_time: "2020-01-01T00:00:10.000Z",
    duration_ms: 10_000,
    pid: 1,
    heartbeat_at: "2020-01-01T00:00:10.000Z",
    params: { objective: "cost", trials: 30, trees: 300, min_accuracy: 0.7, model, best_trial: 3 },
    metrics: { threshold: model.threshold, test: { cost: 0.5 } },
    tags: { seed: "42" },
    steps: [],
    artifacts: ["model.json"],
    ...extra,
  };
  const text = JSON.stringify(record, null, 2) + "\n";
  await writeRunFile(record.run_id, "run.json", text, dir);
  return { dir, runId: record.run_id, text };
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

Deno.test("the committed run reads valid, migrated to the new shape, and its file is left as it was", async () => {
  const path = `${MODELS}/runs/${COMMITTED}/run.json`;
  const before = await Deno.readTextFile(path);
  const stored = JSON.parse(before);
  const run = (await readRun(COMMITTED, MODELS))!;
  assert.ok(runRecordSchema.safeParse(run).success);
  assert.deepEqual(run.params.model, {
    limit_depth: true,
    max_depth: 10,
    min_samples_leaf: 1,
    max_features: "log2",
    sampling_strategy: stored.params.model.samplingStrategy,
    replacement: true,
    criterion: "entropy",
    engineered_features: true,
  });
  assert.equal(run.params.trees, stored.params.model.nEstimators);
  assert.equal(run.metrics.threshold, stored.params.model.threshold);
  assert.deepEqual(await readStoredRun(COMMITTED, MODELS), stored);
  assert.equal(await Deno.readTextFile(path), before);
});

Deno.test("a record already in the new shape is not changed by migration", () => {
  const record = {
    params: { trees: 20, model: { limit_depth: true, max_depth: 4, criterion: "gini" } },
    metrics: { threshold: 0.3 },
  } as unknown as RunRecord;
  assert.equal(migrateRunRecord(record), record);
  const fixture = { params: { nEstimators: 40, seed: 1 }, metrics: {} } as unknown as RunRecord;
  assert.equal(migrateRunRecord(fixture), fixture);
  assert.equal(chosenHyperparameters(fixture), null);
});

Deno.test("an invalid record is reported with its path and field, not returned", async () => {
  const { dir, runId } = await legacyRun(OLD_MODEL, { status: "done" as RunRecord["status"] });
  await assert.rejects(
    readRun(runId, dir),
    (e) => e instanceof RunFileError && /run\.json .* status/.test(e.message),
  );
  await writeRunFile(runId, "run.json", "{ not json", dir);
  await assert.rejects(
    readRun(runId, dir),
    (e) => e instanceof RunFileError && /is not JSON/.test(e.message),
  );
  assert.equal(await readRun("../registry", dir), null);
  assert.throws(() => runFilePath(runId, "../registry.json", dir), /not valid/);
  assert.equal(runFileRef(runId, "model.json"), `runs/${runId}/model.json`);
});

Deno.test("every artifact format reads back what was written, Infinity thresholds included", async () => {
  const { dir, runId } = await legacyRun(OLD_MODEL);
  const sweep = { cost: 1.5, recall_bad: 0, specificity: 1, accuracy: 0.7, tp: 0, fp: 0, tn: 7, fn: 3 };
  const curves = {
    roc: [{ threshold: Infinity, fpr: 0, tpr: 0 }, { threshold: 0.2, fpr: 1, tpr: 1 }],
    pr: [{ threshold: Infinity, precision: 1, recall: 0 }],
    threshold_sweep: [{ threshold: Infinity, ...sweep }],
    cv_threshold_sweep: [{ threshold: 0.5, ...sweep }],
    reliability: { raw: [{ meanPredicted: 0.05, observed: 0, count: 2 }], calibrated: [] },
  };
  const trials = [
    {
      number: 0,
      state: "complete",
      value: 0.5,
      durationMs: 12.4,
      params: { limit_depth: false, max_features: "sqrt" },
    },
    {
      number: 1,
      state: "failed",
      value: null,
      durationMs: 3,
      params: { limit_depth: true, max_depth: 4, max_features: 0.35 },
      error: 'bad, "quoted"',
    },
  ];
  const predictions = [{ row: 3, label: 1, probability: 0.25 }, { row: 9, label: 0, probability: 0.5 }];
  const importances = [{ name: "duration", importance: 0.5 }, { name: "age", importance: 0.25 }];
  for (
    const [file, value] of [[CURVES, curves], [TRIALS, trials], [PREDICTIONS, predictions], [
      FEATURE_IMPORTANCES,
      importances,
    ]] as const
  ) {
    await writeRunFile(runId, file.name, (file.format as (v: unknown) => string)(value), dir);
  }
  assert.deepEqual(await readRunFile(CURVES, runId, dir), curves);
  assert.deepEqual(await readRunFile(PREDICTIONS, runId, dir), predictions);
  assert.deepEqual(await readRunFile(FEATURE_IMPORTANCES, runId, dir), importances);
  // trials.csv as written by hand: a column per hyperparameter any trial asked for, empty where not asked.
  assert.equal(
    await Deno.readTextFile(runFilePath(runId, "trials.csv", dir)),
    "number,state,value,duration_ms,limit_depth,max_features,max_depth,error\n" +
      "0,complete,0.5,12,false,sqrt,,\n" +
      '1,failed,,3,true,0.35,4,"bad, ""quoted"""\n',
  );
  assert.deepEqual(await readRunFile(TRIALS, runId, dir), [
    {
      number: 0,
      state: "complete",
      value: 0.5,
      durationMs: 12,
      params: { limit_depth: "false", max_features: "sqrt" },
    },
    {
      number: 1,
      state: "failed",
      value: null,
      durationMs: 3,
      params: { limit_depth: "true", max_features: "0.35", max_depth: 4 },
    },
  ]);
  const artifacts = await readRunArtifacts(runId, dir);
  assert.deepEqual(artifacts.curves, curves);
  assert.equal(artifacts.run.run_id, runId);
});

Deno.test("an absent artifact reads as null for every reader; a malformed one is named", async () => {
  const { dir, runId } = await legacyRun(OLD_MODEL);
  const files: RunFile<never, unknown>[] = [CURVES, TRIALS, PREDICTIONS, FEATURE_IMPORTANCES];
  for (const file of files) {
    assert.equal(await readRunFile(file, runId, dir), null, file.name);
    await assert.rejects(
      requireRunFile(file, runId, dir),
      (e) => e instanceof RunFileError && e.message === `run ${runId} has no ${file.name} under ${dir}/runs`,
    );
  }
  assert.equal(await readRunFile(CURVES, "no-such-run", dir), null);
  await assert.rejects(readRunArtifacts(runId, dir), RunFileError);
  await writeRunFile(
    runId,
    "curves.json",
    JSON.stringify({ roc: [{ fpr: "x" }], pr: [], threshold_sweep: [] }),
    dir,
  );
  await assert.rejects(
    readRunFile(CURVES, runId, dir),
    (e) =>
      e instanceof RunFileError &&
      /curves\.json is not a valid curves\.json: roc\.0\.threshold/.test(e.message),
  );
  await writeRunFile(runId, "predictions.csv", "row,label,probability\n1,2,0.5\n", dir);
  await assert.rejects(readRunFile(PREDICTIONS, runId, dir), /row 1 is not a row number, a 0\/1 label/);
});

Deno.test("amending a killed run adds metrics and files, never the stale tag, never params", async () => {
  const heartbeat = new Date(Date.now() - STALE_AFTER_MS - 1000).toISOString();
  const { dir, runId, text } = await legacyRun(OLD_MODEL, { status: "running", heartbeat_at: heartbeat });
  assert.equal((await readRun(runId, dir))!.tags.stale, "true");
  const seen: RunRecord[] = [];
  // Two amendments at once: the lock keeps both groups.
  await Promise.all([
    amendRun(runId, { metrics: { repeated_cv: { cost: 1 } } }, dir),
    amendRun(runId, {
      metrics: { repeated_cv_plain: { cost: 2 } },
      artifacts: (run) => {
        seen.push(run);
        return { "MODEL_CARD.md": `# ${run.run_id}\n` };
      },
    }, dir),
  ]);
  const stored = JSON.parse(await Deno.readTextFile(runFilePath(runId, "run.json", dir)));
  const original = JSON.parse(text);
  assert.equal(stored.tags.stale, undefined);
  assert.deepEqual(stored.tags, original.tags);
  assert.deepEqual(stored.params, original.params);
  assert.deepEqual(Object.keys(stored), Object.keys(original));
  assert.deepEqual(stored.metrics.repeated_cv, { cost: 1 });
  assert.deepEqual(stored.metrics.repeated_cv_plain, { cost: 2 });
  assert.deepEqual(stored.artifacts, ["model.json", "MODEL_CARD.md"]);
  // The card is rendered from the record as readers see it: migrated, without the stale tag.
  assert.equal(seen[0].tags.stale, undefined);
  assert.equal((seen[0].params.model as Record<string, unknown>).limit_depth, false);
  assert.equal(await Deno.readTextFile(runFilePath(runId, "MODEL_CARD.md", dir)), `# ${runId}\n`);
});

Deno.test("a live run cannot be amended, and a missing one is named", async () => {
  const dir = await moduleTempDir("run_files_test_");
  const run = await Run.start({ experiment: "t", modelsDir: dir });
  await assert.rejects(amendRun(run.id, { metrics: { x: 1 } }, dir), /is still running/);
  await assert.rejects(amendRun("20990101-000000-nosuch", {}, dir), /no run 20990101-000000-nosuch/);
  await run.finish();
  const amended = await amendRun(run.id, { metrics: { x: 1 } }, dir);
  assert.deepEqual(amended.metrics, { x: 1 });
});
