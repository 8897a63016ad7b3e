import assert from "node:assert/strict";
import {
  fairnessIntervals,
  fairnessIntervalsOfDecisions,
} from "../../pipeline/monitoring/fairness_intervals.ts";
import type { Applicant } from "../../pipeline/data/schema.ts";

const person = (age: number, personal_status = "A93") =>
  ({ age, personal_status }) as unknown as Pick<Applicant, "age" | "personal_status">;

const options = { resamples: 4000, seed: 7 };

function numbersIn(value: unknown, out: number[] = []): number[] {
  if (typeof value === "number") out.push(value);
  else if (value && typeof value === "object") { for (const v of Object.values(value)) numbersIn(v, out); }
  return out;
}

Deno.test("approval rate and disparate impact intervals equal the binomial quantiles (closed form)", () => {
  // 10 under-25s, all good, 5 approved; 10 older, all good, all approved. The stratified bootstrap
  // draws the under-25s' approvals from Binomial(10, 0.5): P(X ≤ 1) = 0.011, P(X ≤ 2) = 0.055,
  // P(X ≤ 7) = 0.945, P(X ≤ 8) = 0.989, so the 2.5 and 97.5 percentiles are 2/10 and 8/10. The
  // reference rate is 1 in every resample, so disparate impact has the same interval.
  const applicants = [
    ...Array.from({ length: 10 }, () => person(20)),
    ...Array.from({ length: 10 }, () => person(40)),
  ];
  const labels = new Array(20).fill(0);
  const declined = applicants.map((_, i) => i < 10 && i % 2 === 0);
  const [age] = fairnessIntervalsOfDecisions(applicants, labels, declined, undefined, options).groupings;
  assert.deepEqual(age.protected.approval_rate, { estimate: 0.5, low: 0.2, high: 0.8 });
  assert.deepEqual(age.reference.approval_rate, { estimate: 1, low: 1, high: 1 });
  assert.deepEqual(age.disparate_impact, { estimate: 0.5, low: 0.2, high: 0.8 });
  // All good: declined good share is 1 − approval, and the equal-opportunity gap is approval − 1.
  assert.deepEqual(age.protected.good_declined_rate, { estimate: 0.5, low: 0.2, high: 0.8 });
  assert.equal(age.equal_opportunity_difference.estimate, -0.5);
  assert.ok(Math.abs(age.equal_opportunity_difference.low! - -0.8) < 1e-12);
  assert.ok(Math.abs(age.equal_opportunity_difference.high! - -0.2) < 1e-12);
});

Deno.test("an applicant is resampled with all its predictions, not prediction by prediction", () => {
  // Three under-25s scored ten times each (as nested CV's repeats would): one always approved, two
  // always declined. Resampling applicants gives rates k/3 with P(1) = 1/27 = 0.037 > 0.025, so the
  // upper bound is 1; resampling the 30 predictions independently would give Binomial(30, 1/3)/30,
  // whose 97.5th percentile is about 0.5.
  const applicants = [person(20), person(21), person(22), person(40)];
  const labels = [0, 0, 0, 0];
  const applicant: number[] = [];
  const declined: boolean[] = [];
  for (let i = 0; i < 4; i++) {
    for (let r = 0; r < 10; r++) applicant.push(i), declined.push(i === 1 || i === 2);
  }
  const [age] = fairnessIntervals({ applicants, labels, applicant, declined }, options).groupings;
  assert.equal(age.protected.applicants, 3);
  assert.equal(age.protected.predictions, 30);
  assert.ok(Math.abs(age.protected.approval_rate.estimate! - 1 / 3) < 1e-12);
  assert.equal(age.protected.approval_rate.low, 0);
  assert.equal(age.protected.approval_rate.high, 1);
});

Deno.test("calibration within a group: mean PD, bad rate and their gap, hand-computed", () => {
  const applicants = [person(20), person(21), person(30), person(31)];
  const labels = [1, 0, 0, 0];
  const pd = [0.5, 0.3, 0.1, 0.2];
  const [age] = fairnessIntervalsOfDecisions(applicants, labels, [true, false, false, false], pd, options)
    .groupings;
  assert.ok(Math.abs(age.protected.mean_pd!.estimate! - 0.4) < 1e-12);
  assert.equal(age.protected.bad_rate.estimate, 0.5);
  assert.ok(Math.abs(age.protected.calibration_gap!.estimate! - -0.1) < 1e-12);
  assert.ok(Math.abs(age.reference.mean_pd!.estimate! - 0.15) < 1e-12);
  // Two applicants: mean PD resamples are 0.3, 0.4 or 0.5.
  assert.ok(Math.abs(age.protected.mean_pd!.low! - 0.3) < 1e-12);
  assert.ok(Math.abs(age.protected.mean_pd!.high! - 0.5) < 1e-12);
});

Deno.test("degenerate groups are undefined with a reason, never NaN", () => {
  // No women at all; no older applicant approved; no good applicant among the under-25s.
  const applicants = [person(20), person(22), person(40), person(50)];
  const labels = [1, 1, 0, 1];
  const declined = [false, true, true, true];
  const [age, sex] = fairnessIntervalsOfDecisions(applicants, labels, declined, [0.1, 0.2, 0.3, 0.4], options)
    .groupings;
  assert.equal(sex.protected.applicants, 0);
  assert.equal(sex.protected.approval_rate.estimate, null);
  assert.match(sex.protected.approval_rate.undefined_reason!, /no applicants female/);
  assert.equal(sex.disparate_impact.estimate, null);
  assert.match(sex.note!, /A95/);
  assert.equal(age.disparate_impact.estimate, null);
  assert.match(age.disparate_impact.undefined_reason!, /no 25 and over applicant approved/);
  assert.equal(age.protected.good_declined_rate.estimate, null);
  assert.match(age.protected.good_declined_rate.undefined_reason!, /no good applicants under 25/);
  assert.equal(age.equal_opportunity_difference.estimate, null);
  const report = fairnessIntervalsOfDecisions(applicants, labels, declined, undefined, options);
  assert.ok(numbersIn(report).every(Number.isFinite));
});

Deno.test("an interval that some resamples cannot define is reported undefined, its estimate kept", () => {
  // The only older good applicant is approved, the other older one is bad: a resample drawing the
  // bad one twice has no good older applicant, so the equal-opportunity interval is undefined.
  const applicants = [person(20), person(21), person(40), person(50)];
  const [age] =
    fairnessIntervalsOfDecisions(applicants, [0, 0, 0, 1], [false, true, false, true], undefined, {
      resamples: 200,
      seed: 1,
    }).groupings;
  assert.equal(age.equal_opportunity_difference.estimate, -0.5);
  assert.equal(age.equal_opportunity_difference.low, null);
  assert.match(
    age.equal_opportunity_difference.undefined_reason!,
    /interval undefined: no good applicants 25 and over in \d+ of 200 resamples/,
  );
});

Deno.test("intervals are reproducible from the seed and move with it", () => {
  const applicants = Array.from({ length: 60 }, (_, i) => person(18 + i, i % 3 ? "A93" : "A92"));
  const labels = applicants.map((_, i) => (i % 4 === 0 ? 1 : 0));
  const declined = applicants.map((_, i) => i % 5 < 2);
  const a = fairnessIntervalsOfDecisions(applicants, labels, declined, undefined, {
    resamples: 300,
    seed: 3,
  });
  const b = fairnessIntervalsOfDecisions(applicants, labels, declined, undefined, {
    resamples: 300,
    seed: 3,
  });
  const c = fairnessIntervalsOfDecisions(applicants, labels, declined, undefined, {
    resamples: 300,
    seed: 4,
  });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.groupings[1].disparate_impact, c.groupings[1].disparate_impact);
  assert.match(a.method, /percentile bootstrap/);
});

Deno.test("inconsistent input is a clear error", () => {
  assert.throws(
    () => fairnessIntervalsOfDecisions([person(20)], [0, 1], [false]),
    /1 applicants but 2 labels/,
  );
  assert.throws(
    () => fairnessIntervals({ applicants: [person(20)], labels: [0], applicant: [3], declined: [false] }),
    /prediction 0 names applicant 3/,
  );
  assert.throws(() => fairnessIntervalsOfDecisions([person(20)], [2], [false]), /not 0 or 1/);
});
