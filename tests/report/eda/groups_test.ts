/** Good/bad counts per category and their bad rates. */

import assert from "node:assert/strict";
import { countsByCategory, withBadRates } from "../../../pipeline/report/eda/groups.ts";
import { ATTRIBUTES, type CategoricalAttribute } from "../../../pipeline/data/schema.ts";

Deno.test("countsByCategory follows the schema's code order and labels, and refuses unknown codes", () => {
  const housing = ATTRIBUTES.find((a) => a.name === "housing") as CategoricalAttribute;
  const groups = countsByCategory(housing, ["A152", "A151", "A152"], [0, 1, 1]);
  assert.deepEqual(groups, [
    { key: "A151", label: "Rent", good: 0, bad: 1 },
    { key: "A152", label: "Own", good: 1, bad: 1 },
    { key: "A153", label: "For free", good: 0, bad: 0 },
  ]);
  assert.deepEqual(withBadRates(groups).map((g) => g.badRate), [1, 0.5, 0]);
  assert.throws(() => countsByCategory(housing, ["A999"], [0]), /unknown code/);
});
