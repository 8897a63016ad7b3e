import assert from "node:assert/strict";
import {
  applicantSchema,
  ATTRIBUTE_NAMES,
  ATTRIBUTES,
  checkValue,
  codeLabel,
  EXAMPLE_APPLICANT,
  isCategorical,
  schemaDocument,
  validateApplicant,
} from "../../pipeline/data/schema.ts";
import { loadCreditTable, toApplicants } from "../../pipeline/data/etl.ts";

const example = EXAMPLE_APPLICANT;

Deno.test("schema lists the 20 codebook attributes in file order with both languages", () => {
  assert.equal(ATTRIBUTES.length, 20);
  assert.deepEqual(ATTRIBUTES.map((a) => a.position), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(ATTRIBUTE_NAMES[0], "checking_status");
  assert.equal(ATTRIBUTE_NAMES[19], "foreign_worker");
  for (const a of ATTRIBUTES) {
    assert.ok(a.label.en && a.label.es && a.description.en && a.description.es, a.name);
    if (isCategorical(a)) {
      for (const c of a.codes) assert.ok(c.label.en && c.label.es, `${a.name} ${c.code}`);
    } else assert.ok(a.min < a.max, a.name);
  }
});

Deno.test("codes that never occur in the data (A47, A95) are still valid", () => {
  assert.equal(codeLabel("purpose", "A47"), "Vacation");
  assert.equal(codeLabel("personal_status", "A95", "es"), "Mujer, soltera");
  assert.equal(validateApplicant({ ...example, purpose: "A47", personal_status: "A95" }).ok, true);
});

Deno.test("every code and number in the data is accepted by the schema", async () => {
  const table = await loadCreditTable();
  for (const row of toApplicants(table.frame)) {
    const result = validateApplicant(row);
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(applicantSchema.safeParse(row).success, true);
  }
});

Deno.test("validateApplicant names every offending field and why", () => {
  const { purpose: _, ...withoutPurpose } = example;
  const result = validateApplicant({
    ...withoutPurpose,
    checking_status: "A15",
    age: 17,
    duration: 6.5,
    extra: 1,
  });
  assert.equal(result.ok, false);
  if (result.ok) return;
  const byField = Object.fromEntries(result.issues.map((i) => [i.field, i.message]));
  assert.match(byField.checking_status, /unknown code "A15"; expected one of A11, A12, A13, A14/);
  assert.match(byField.age, /17 is outside the accepted range 18–100/);
  assert.match(byField.duration, /whole number/);
  assert.match(byField.purpose, /required/);
  assert.match(byField.extra, /not an attribute/);
  assert.equal(result.issues.length, 5);
});

Deno.test("checkValue rejects wrong types without throwing", () => {
  const age = ATTRIBUTES.find((a) => a.name === "age")!;
  assert.match(checkValue(age, "30")!, /expected a number, got "30"/);
  assert.match(checkValue(age, Number.NaN)!, /expected a number/);
  const housing = ATTRIBUTES.find((a) => a.name === "housing")!;
  assert.match(checkValue(housing, 152)!, /expected one of the codes/);
  assert.equal(checkValue(housing, "A152"), null);
});

Deno.test("the zod schema agrees with validateApplicant", () => {
  assert.equal(applicantSchema.safeParse(example).success, true);
  for (const bad of [{ ...example, age: 101 }, { ...example, job: "A170" }, { ...example, extra: true }]) {
    assert.equal(applicantSchema.safeParse(bad).success, false);
    assert.equal(validateApplicant(bad).ok, false);
  }
});

Deno.test("the schema document is plain JSON carrying every attribute", () => {
  const doc = JSON.parse(JSON.stringify(schemaDocument()));
  assert.equal(doc.attributes.length, 20);
  assert.deepEqual(Object.keys(doc.groups), ["loan", "accounts", "employment", "personal"]);
});
