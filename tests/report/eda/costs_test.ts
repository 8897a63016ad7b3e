/** Costs of decisions: the Bayes threshold, trivial policies, the staircase and its standard error. */

import assert from "node:assert/strict";
import {
  bayesThreshold,
  costStaircase,
  expectedCostStandardError,
  groupBadRateScores,
  trivialPolicyCosts,
} from "../../../pipeline/report/eda/costs.ts";
import { thresholdSweep } from "../../../pipeline/model/metrics.ts";
import { close } from "./close.ts";

Deno.test("bayesThreshold is 1/6 for the German cost matrix; trivial policies cost 1.5 and 0.7", () => {
  close(bayesThreshold(), 1 / 6);
  close(bayesThreshold({ falseNegative: 1, falsePositive: 1 }), 0.5);
  const labels = Array.from({ length: 10 }, (_, i) => (i < 3 ? 1 : 0));
  const costs = trivialPolicyCosts(labels);
  close(costs.approveAll, 1.5);
  close(costs.declineAll, 0.7);
});

Deno.test("costStaircase draws the exact step function of a sweep", () => {
  const labels = [1, 0, 1, 0];
  const scores = [0.8, 0.6, 0.4, 0.2];
  const steps = costStaircase(thresholdSweep(labels, scores));
  // Declining from 0.2: cost 2/4; from 0.4: 1/4; from 0.6: (5 + 1)/4; from 0.8: 5/4; nobody: 10/4.
  assert.deepEqual(steps, [
    { threshold: 0, cost: 0.5 },
    { threshold: 0.2, cost: 0.5 },
    { threshold: 0.2, cost: 0.25 },
    { threshold: 0.4, cost: 0.25 },
    { threshold: 0.4, cost: 1.5 },
    { threshold: 0.6, cost: 1.5 },
    { threshold: 0.6, cost: 1.25 },
    { threshold: 0.8, cost: 1.25 },
    { threshold: 0.8, cost: 2.5 },
    { threshold: 1, cost: 2.5 },
  ]);
});

Deno.test("groupBadRateScores and expectedCostStandardError", () => {
  assert.deepEqual(Array.from(groupBadRateScores(["a", "a", "b", "b"], [1, 0, 0, 0])), [0.5, 0.5, 0, 0]);
  // Declining both bad rows and approving both good rows: every row costs 0, so no spread.
  close(expectedCostStandardError([1, 0, 1, 0], [0.9, 0.1, 0.9, 0.1], 0.5), 0);
  // Row costs 5, 0, 0, 1: mean 1.5, squared deviations sum to 17 → se = √(17 / 3) / √4.
  close(expectedCostStandardError([1, 0, 1, 0], [0.1, 0.1, 0.9, 0.9], 0.5), Math.sqrt(17 / 3) / 2);
});
