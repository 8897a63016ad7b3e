/** Weight of evidence and information value: hand-computed tables and the published IVs of the German data. */

import assert from "node:assert/strict";
import {
  attributeInformationValues,
  ivStrength,
  weightOfEvidence,
} from "../../../pipeline/report/eda/woe.ts";
import { loadCreditTable } from "../../../pipeline/data/etl.ts";
import { close } from "./close.ts";

Deno.test("weightOfEvidence and the information value match a hand computation", () => {
  // 100 good and 40 bad. A: %good 0.4, %bad 0.25 → WoE ln 1.6; B: %good 0.6, %bad 0.75 → WoE ln 0.8.
  const table = weightOfEvidence([
    { key: "A", label: "A", good: 40, bad: 10 },
    { key: "B", label: "B", good: 60, bad: 30 },
  ]);
  assert.equal(table.smoothed, false);
  close(table.bins[0].woe, Math.log(1.6));
  close(table.bins[1].woe, Math.log(0.8));
  close(table.bins[0].iv, 0.15 * Math.log(1.6));
  close(table.bins[1].iv, -0.15 * Math.log(0.8));
  close(table.iv, 0.15 * Math.log(1.6) - 0.15 * Math.log(0.8)); // 0.10397…
  close(table.bins[0].badRate, 0.2);
  assert.equal(ivStrength(table.iv), "medium");
});

Deno.test("weightOfEvidence smooths every group when one lacks a class, and drops empty groups", () => {
  // A has no bad applicant: 0.5 is added to each count, totals grow by 2 · 0.5.
  // A: %good 10.5/21 = 0.5, %bad 0.5/11; B: %good 0.5, %bad 10.5/11.
  const table = weightOfEvidence([
    { key: "A", label: "A", good: 10, bad: 0 },
    { key: "empty", label: "empty", good: 0, bad: 0 },
    { key: "B", label: "B", good: 10, bad: 10 },
  ]);
  assert.equal(table.smoothed, true);
  assert.deepEqual(table.bins.map((b) => b.key), ["A", "B"]);
  close(table.bins[0].woe, Math.log(11));
  close(table.bins[1].woe, Math.log(0.5 / (10.5 / 11)));
  const expected = (0.5 - 0.5 / 11) * Math.log(11) + (0.5 - 10.5 / 11) * Math.log(0.5 / (10.5 / 11));
  close(table.iv, expected); // 1.38387…
  assert.ok(Number.isFinite(table.iv));
  assert.throws(() => weightOfEvidence([{ key: "A", label: "A", good: 3, bad: 0 }]), /both classes/);
});

Deno.test("ivStrength uses the usual bands", () => {
  assert.equal(ivStrength(0), "useless");
  assert.equal(ivStrength(0.0199), "useless");
  assert.equal(ivStrength(0.02), "weak");
  assert.equal(ivStrength(0.0999), "weak");
  assert.equal(ivStrength(0.1), "medium");
  assert.equal(ivStrength(0.3), "strong");
  assert.equal(ivStrength(2), "strong");
});

Deno.test("on the German credit data: the published information values", async () => {
  const { frame, bad } = await loadCreditTable();
  const ivs = attributeInformationValues(frame, bad!);
  const iv = (name: string) => ivs.find((v) => v.name === name)!;
  // The values credit-scoring texts report for the categorical attributes of this data set.
  close(iv("checking_status").iv, 0.666, 5e-4);
  close(iv("credit_history").iv, 0.2932, 5e-4);
  assert.equal(iv("checking_status").strength, "strong");
  assert.equal(iv("num_dependents").strength, "useless");
});
