import assert from "node:assert/strict";
import { modelCard } from "../../pipeline/report/model_card.ts";
import type { RunRecord } from "../../pipeline/tracking/mod.ts";
import { fairnessIntervalsOfDecisions } from "../../pipeline/monitoring/fairness_intervals.ts";
import type { Applicant } from "../../pipeline/data/schema.ts";

function run(params: Record<string, unknown>, metrics: Record<string, unknown>): RunRecord {
  return {
    run_id: "20261128-000000-abcdef",
    experiment: "german-credit",
    status: "finished",
    start_time: "2026-11-28T00:00:00.000Z",
    params,
    metrics,
    tags: {},
    steps: [],
    artifacts: [],
  } as unknown as RunRecord;
}

const influence = (ranking: [string, boolean][]) => ({
  rows: "held-out test part (200 rows)",
  measure: "mean |attribute-level TreeSHAP contribution to P(bad)|",
  ranking: ranking.map(([attribute, isProtected], i) => ({
    attribute,
    mean_abs_contribution: 0.1 / (i + 1),
    rank: i + 1,
    protected: isProtected,
  })),
});

Deno.test("a full model's card says so explicitly when a protected attribute is among the largest contributions", () => {
  const card = modelCard(run({}, {
    attribute_influence: influence([
      ["checking_status", false],
      ["age", true],
      ["duration", false],
      ["credit_amount", false],
      ["savings_status", false],
      ["personal_status", true],
    ]),
  }));
  assert.match(card, /Attribute profile \*\*full\*\* \(recorded before profiles existed\)/);
  assert.match(
    card,
    /\*\*A protected attribute is among the model's five largest contributions:\*\* `age` ranks 2nd of 6\./,
  );
  // personal_status ranks 6th: not among the five, not named in the note.
  assert.doesNotMatch(card, /`personal_status` ranks/);
});

Deno.test("no note when no protected attribute is among the five largest; a fair card says what it cannot see", () => {
  const quiet = modelCard(run({ attribute_profile: "full", excluded_attributes: [] }, {
    attribute_influence: influence([
      ["checking_status", false],
      ["duration", false],
      ["credit_amount", false],
      ["savings_status", false],
      ["housing", false],
      ["age", true],
    ]),
  }));
  assert.doesNotMatch(quiet, /A protected attribute is among/);
  assert.doesNotMatch(quiet, /recorded before profiles existed/);
  const fair = modelCard(run({
    attribute_profile: "fair",
    excluded_attributes: ["personal_status", "age", "foreign_worker"],
    excluded_features: ["amount_per_age_year", "age_band"],
    mitigation: "reweigh",
  }, {}));
  assert.match(
    fair,
    /the model \*\*cannot see\*\* `personal_status`, `age`, `foreign_worker`, nor the engineered features derived from them \(`amount_per_age_year`, `age_band`\)/,
  );
  assert.match(fair, /reweighed \(Kamiran & Calders\)/);
});

Deno.test("fairness figures appear in the card only with their intervals", () => {
  const point = [{
    attribute: "age",
    protected: { group: "under 25", approval_rate: 0.125 },
    disparate_impact: 0.29,
  }];
  const old = modelCard(run({}, { fairness: { cv_out_of_fold: point, test: point } }));
  assert.match(old, /recorded its fairness figures without intervals/);
  assert.doesNotMatch(old, /0\.29|12\.5 %/);
  const applicants = [20, 21, 22, 40, 41, 42, 43, 44].map((age, i) =>
    ({ age, personal_status: i % 2 ? "A92" : "A93" }) as Applicant
  );
  const intervals = fairnessIntervalsOfDecisions(
    applicants,
    [0, 0, 1, 0, 0, 1, 0, 0],
    [true, false, true, false, false, true, false, false],
    undefined,
    { resamples: 200, seed: 1 },
  );
  const card = modelCard(run({}, { fairness: { test: point }, fairness_intervals: { test: intervals } }));
  const table = card.slice(card.indexOf("## Fairness"), card.indexOf("## Limitations"));
  // Every percentage and ratio in the table rows has its bracketed interval (or says it is undefined).
  let checked = 0;
  for (const line of table.split("\n").filter((l) => /^\| (age|sex|\s)/.test(l) && !l.startsWith("| ---"))) {
    for (const cell of line.split("|").slice(4, -1).filter((c) => c.trim() && c.trim() !== "–")) {
      assert.match(cell, /\[.*\]|undefined/, `${cell} in ${line}`);
      checked++;
    }
  }
  assert.ok(checked >= 16, `only ${checked} cells checked`);
});
