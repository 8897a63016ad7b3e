import assert from "node:assert/strict";
import { fairnessReport, groupOutcome } from "../../pipeline/monitoring/fairness.ts";
import type { Applicant } from "../../pipeline/data/schema.ts";

const person = (age: number, personal_status: string) => ({ age, personal_status } as unknown as Applicant);

Deno.test("fairness figures equal a hand-computed small case", () => {
  // Ages: 4 young (<25), 6 older. Sexes: A92/A95 female.
  const applicants = [
    person(22, "A92"), // bad, declined
    person(23, "A93"), // good, declined
    person(24, "A95"), // good, approved
    person(21, "A93"), // good, declined
    person(30, "A93"), // bad, declined
    person(40, "A94"), // bad, approved
    person(50, "A92"), // good, approved
    person(35, "A91"), // good, approved
    person(45, "A93"), // good, approved
    person(60, "A92"), // good, declined
  ];
  const labels = [1, 0, 0, 0, 1, 1, 0, 0, 0, 0];
  const declined = [true, true, false, true, true, false, false, false, false, true];
  const [age, sex] = fairnessReport(applicants, labels, declined);

  assert.equal(age.protected.count, 4);
  assert.equal(age.protected.approval_rate, 1 / 4);
  assert.equal(age.protected.recall_bad, 1);
  assert.equal(age.protected.false_decline_rate, 2 / 3);
  assert.equal(age.reference.count, 6);
  assert.equal(age.reference.approval_rate, 4 / 6);
  assert.equal(age.reference.recall_bad, 1 / 2);
  assert.equal(age.reference.false_decline_rate, 1 / 4);
  assert.ok(Math.abs(age.disparate_impact - (1 / 4) / (4 / 6)) < 1e-12);
  assert.ok(Math.abs(age.equal_opportunity_difference - ((1 - 2 / 3) - (1 - 1 / 4))) < 1e-12);
  assert.match(
    age.warning!,
    /disparate impact 0\.38 < 0\.8: under 25 applicants are approved at 25 % vs 67 %/,
  );

  // Female: rows 0, 2, 6, 9 → approved 2 of 4; male: rows 1, 3, 4, 5, 7, 8 → approved 3 of 6.
  assert.equal(sex.protected.approval_rate, 0.5);
  assert.equal(sex.reference.approval_rate, 0.5);
  assert.equal(sex.disparate_impact, 1);
  assert.equal(sex.warning, null);
});

Deno.test("an empty group reports zero rates instead of NaN", () => {
  const outcome = groupOutcome("nobody", [1, 0], [true, false], [false, false]);
  assert.deepEqual(outcome, {
    group: "nobody",
    count: 0,
    bad_count: 0,
    approval_rate: 0,
    recall_bad: 0,
    false_decline_rate: 0,
  });
  assert.throws(() => fairnessReport([person(30, "A93")], [1, 0], [true]), /equally long/);
});
