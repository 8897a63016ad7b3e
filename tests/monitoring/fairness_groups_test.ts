/**
 * Who falls in which fairness group, at the boundaries, from the groups' own labels and the codebook:
 * "under 25" against "25 and over" (24 is under, 25 is not), and female (A92, A95) against male
 * (A91, A93, A94) from personal_status.
 */
import assert from "node:assert/strict";
import type { Applicant } from "../../pipeline/data/schema.ts";
import { FAIRNESS_GROUPINGS, fairnessReport } from "../../pipeline/monitoring/fairness.ts";

const person = (age: number, personal_status: string) => ({ age, personal_status } as unknown as Applicant);

Deno.test("age 24 is 'under 25', ages 25 and 26 are '25 and over'; A92 and A95 are female", () => {
  assert.deepEqual(
    [FAIRNESS_GROUPINGS.age.protected, FAIRNESS_GROUPINGS.age.reference],
    ["under 25", "25 and over"],
  );
  const applicants = [
    person(18, "A91"),
    person(24, "A92"),
    person(25, "A93"),
    person(26, "A94"),
    person(40, "A95"),
  ];
  const [age, sex] = fairnessReport(applicants, [0, 0, 0, 0, 0], [false, true, false, false, true]);
  assert.deepEqual([age.protected.count, age.reference.count], [2, 3]);
  assert.equal(age.protected.approval_rate, 1 / 2);
  assert.equal(age.reference.approval_rate, 2 / 3);
  assert.equal(age.disparate_impact, (1 / 2) / (2 / 3));
  assert.deepEqual([sex.protected.count, sex.reference.count], [2, 3]);
  assert.equal(sex.protected.approval_rate, 0);
  assert.equal(sex.reference.approval_rate, 1);
});
