/**
 * The decision rule as the README states it: decline when P(bad) ≥ threshold (the same side as the
 * metrics' "predicted bad when score ≥ threshold"), approve below it, and `review` when P(bad) is
 * closer to the threshold than REVIEW_MARGIN, on either side.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanApplicants, trainFixtureModel } from "../fixtures.ts";
import { afterAllTests } from "../temp.ts";

const THRESHOLD = 0.4;
const fixture = await trainFixtureModel({ nEstimators: 5, threshold: THRESHOLD });
afterAllTests(() => fixture.cleanup());

/** The rule written out: the oracle for every case below. */
function expected(p: number, margin: number): string {
  if (margin > 0 && Math.abs(p - THRESHOLD) < margin) return "review";
  return p >= THRESHOLD ? "decline" : "approve";
}

Deno.test("decide: the threshold itself declines; review only within the margin, on both sides", () => {
  const cases: [number, number][] = [];
  for (const margin of [0, 0.05, 0.1]) {
    for (const p of [0, 0.2, 0.29, 0.3, 0.31, 0.35, 0.39, 0.4, 0.41, 0.45, 0.5, 0.51, 0.6, 1]) {
      cases.push([p, margin]);
    }
  }
  for (const [p, margin] of cases) {
    assert.equal(fixture.model.decide(p, margin), expected(p, margin), `p = ${p}, margin = ${margin}`);
  }
  assert.equal(fixture.model.decide(THRESHOLD), "decline");
  assert.equal(fixture.model.decide(THRESHOLD - 1e-12), "approve");
});

Deno.test("POST /predict with REVIEW_MARGIN 0.05: approve, review and decline as the rule says", async () => {
  const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
  const app = createApp({ holder, logger: new Logger("off"), config: { reviewMargin: 0.05 } });
  const seen = new Set<string>();
  for (const applicant of (await germanApplicants()).slice(0, 60)) {
    const response = await app.request("/predict?explain=false", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(applicant),
    });
    const body = await response.json();
    assert.equal(body.decision, expected(body.probability_bad, 0.05), `P(bad) ${body.probability_bad}`);
    seen.add(body.decision);
  }
  assert.deepEqual([...seen].sort(), ["approve", "decline", "review"], "all three answers occurred");
});
