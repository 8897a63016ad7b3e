/**
 * Quality floors for the whole training flow on the fixed seed (42), with small, fast settings:
 * the held-out test AUC and expected cost must clear floors a broken tree builder, calibration or
 * threshold would miss, and the same flow on shuffled labels must score near chance. The metrics
 * are recomputed here from `predictions.csv` (pairwise AUC, the 5:1 cost matrix), not taken from
 * the run's own report.
 *
 * The floors, measured with these settings (seeds 42 / 1 / 7 / 3: test AUC 0.771 / 0.731 / 0.737 /
 * 0.819, cost 0.575 / 0.690 / 0.530 / 0.480): on seed 42 the AUC must reach 0.72 (chance is 0.5 with
 * a standard error of 0.045 on 60 bad and 140 good rows) and the cost must stay at or below 0.66
 * (declining everyone costs 0.70, approving everyone 1.50).
 */
import assert from "node:assert/strict";
import { DEFAULT_TRAIN_OPTIONS, train, type TrainOptions } from "../../pipeline/model/train.ts";
import { Random } from "../../pipeline/random.ts";
import { parseCsv } from "../fixtures.ts";
import { withTempDir } from "../temp.ts";

const DATA = new URL("../../data/german.data", import.meta.url).pathname;

const small = (modelsDir: string, dataPath = DATA): TrainOptions => ({
  ...DEFAULT_TRAIN_OPTIONS,
  dataPath,
  modelsDir,
  trials: 6,
  folds: 3,
  searchRepeats: 1,
  searchTrees: 60,
  trees: 300,
  seed: 42,
  promote: "always",
});

/** AUC by its definition: the share of (bad, good) pairs the bad one outranks, ties counting ½. */
function pairwiseAuc(labels: number[], scores: number[]): number {
  let wins = 0, pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

/** The data set's cost matrix (data/README.md): a bad approved costs 5, a good declined costs 1. */
function costPerApplicant(labels: number[], scores: number[], threshold: number): number {
  let cost = 0;
  labels.forEach((label, i) => {
    const declined = scores[i] >= threshold;
    if (label === 1 && !declined) cost += 5;
    if (label === 0 && declined) cost += 1;
  });
  return cost / labels.length;
}

async function testPredictions(modelsDir: string, runId: string) {
  const rows = parseCsv(await Deno.readTextFile(`${modelsDir}/runs/${runId}/predictions.csv`));
  return { labels: rows.map((r) => Number(r.label)), scores: rows.map((r) => Number(r.probability)) };
}

Deno.test("seed 42: test AUC ≥ 0.72 and expected cost ≤ 0.66, recomputed from predictions.csv", async () => {
  await withTempDir("train-quality-", async (dir) => {
    const result = await train(small(dir));
    const { labels, scores } = await testPredictions(dir, result.runId);
    assert.equal(labels.length, 200);
    assert.equal(
      labels.filter((l) => l === 1).length,
      60,
      "the stratified test split keeps the 30 % bad rate",
    );
    const auc = pairwiseAuc(labels, scores);
    const cost = costPerApplicant(labels, scores, result.threshold);
    assert.ok(Math.abs(auc - result.test.roc_auc) < 1e-12, `reported AUC ${result.test.roc_auc} vs ${auc}`);
    assert.ok(Math.abs(cost - result.test.cost) < 1e-12, `reported cost ${result.test.cost} vs ${cost}`);
    assert.ok(auc >= 0.72, `test AUC ${auc} is below the floor 0.72`);
    assert.ok(cost <= 0.66, `test cost ${cost} is above the ceiling 0.66`);
  });
});

Deno.test("control: the same flow on shuffled labels scores near chance (AUC within 0.5 ± 0.12, cost ≥ 0.62)", async () => {
  await withTempDir("train-shuffled-", async (dir) => {
    const lines = (await Deno.readTextFile(DATA)).trimEnd().split("\n").map((l) => l.trimEnd().split(" "));
    const labels = lines.map((fields) => fields[20]);
    const rng = new Random(2101);
    for (let i = labels.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [labels[i], labels[j]] = [labels[j], labels[i]];
    }
    const shuffled = `${dir}/shuffled.data`;
    await Deno.writeTextFile(
      shuffled,
      lines.map((fields, i) => [...fields.slice(0, 20), labels[i]].join(" ")).join("\n") + "\n",
    );
    const result = await train(small(`${dir}/models`, shuffled));
    const predictions = await testPredictions(`${dir}/models`, result.runId);
    const auc = pairwiseAuc(predictions.labels, predictions.scores);
    const cost = costPerApplicant(predictions.labels, predictions.scores, result.threshold);
    assert.ok(Math.abs(auc - 0.5) <= 0.12, `shuffled-label AUC ${auc} is not near chance`);
    assert.ok(cost >= 0.62, `shuffled-label cost ${cost} beats what chance allows`);
  });
});
