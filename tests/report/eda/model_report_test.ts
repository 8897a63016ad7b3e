/** Tables of the model report: hyperparameter effects, importance per attribute, feature labels. */

import assert from "node:assert/strict";
import {
  featureLabel,
  hyperparameterEffects,
  importanceByAttribute,
} from "../../../pipeline/report/eda/model_report.ts";
import { parseTrials } from "../../../pipeline/report/eda/run_artifacts.ts";
import { close } from "./close.ts";

Deno.test("hyperparameterEffects: rank correlation for numbers, mean per level for choices", () => {
  const trials = parseTrials(
    "number,state,value,duration_ms,depth,criterion\n" +
      "0,complete,0.6,1,2,gini\n1,complete,0.5,1,4,gini\n2,complete,0.4,1,8,entropy\n3,pruned,0.1,1,1,gini\n",
  );
  const [depth, criterion] = hyperparameterEffects(trials, "minimize");
  close(depth.spearman!, -1);
  assert.equal(depth.trials, 3);
  assert.equal(depth.best, 8);
  assert.equal(criterion.spearman, null);
  assert.deepEqual(criterion.levels.map((l) => [l.level, l.trials]), [["entropy", 1], ["gini", 2]]);
  close(criterion.levels[1].mean, 0.55);
});

Deno.test("importanceByAttribute and featureLabel map one-hot columns to attributes", () => {
  const summed = importanceByAttribute([
    { name: "checking_status=A11", importance: 0.2 },
    { name: "duration", importance: 0.3 },
    { name: "checking_status=A14", importance: 0.25 },
  ]);
  assert.deepEqual(summed.map((s) => s.name), ["checking_status", "duration"]);
  close(summed[0].importance, 0.45);
  assert.equal(featureLabel("checking_status=A14"), "Checking account: No checking account");
  assert.equal(featureLabel("duration"), "Duration");
  assert.equal(featureLabel("monthly_instalment"), "monthly_instalment");
});
