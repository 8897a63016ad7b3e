/** Differences between good and bad applicants. */

import assert from "node:assert/strict";
import { extremeGroups } from "../../../pipeline/report/eda/class_summary.ts";
import { withBadRates } from "../../../pipeline/report/eda/groups.ts";

Deno.test("extremeGroups ignores groups below the minimum size", () => {
  const rates = withBadRates([
    { key: "tiny", label: "tiny", good: 0, bad: 5 },
    { key: "a", label: "a", good: 30, bad: 20 },
    { key: "b", label: "b", good: 45, bad: 5 },
  ]);
  const { riskiest, safest } = extremeGroups(rates, 20)!;
  assert.equal(riskiest.key, "a");
  assert.equal(safest.key, "b");
  assert.equal(extremeGroups(rates, 100), null);
});
