import assert from "node:assert/strict";
import fc from "fast-check";
import {
  applicantOrNull,
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
// The route's own schema (the same fields as applicantSchema, named for OpenAPI): what the fast
// path must agree with.
import { Applicant } from "../../pipeline/serving/api_schemas.ts";
import { bodyText, HOSTILE_KEYS } from "./applicant_bodies.ts";

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

Deno.test("applicantOrNull accepts exactly what zod's Applicant accepts, and outputs the same object", () => {
  let accepted = 0;
  fc.assert(
    fc.property(bodyText, (text) => {
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch {
        return; // not JSON: the route's own gate answers it before any schema
      }
      const fast = applicantOrNull(input);
      const zod = Applicant.safeParse(input);
      assert.equal(fast !== null, zod.success, `fast ${fast !== null}, zod ${zod.success} on ${text}`);
      if (fast !== null) {
        accepted++;
        // Same values and the same key order (the audit row and the answer serialise it).
        assert.equal(JSON.stringify(fast), JSON.stringify(zod.data));
        assert.notEqual(fast, input, "a new object, as zod's");
      }
    }),
    { numRuns: 3000, seed: 15 },
  );
  assert.ok(accepted > 500, `only ${accepted} valid bodies drawn`);
});

Deno.test("applicantOrNull: the schema's edges (ranges, -0, unsafe integers, hostile keys)", () => {
  const base = Object.fromEntries(
    ATTRIBUTES.map((a) => [a.name, a.kind === "numeric" ? a.min : a.codes[0].code]),
  );
  const cases: [string, unknown][] = [
    ["duration", 0],
    ["duration", 121],
    ["duration", 120],
    ["duration", 6.5],
    ["duration", "6"],
    ["num_dependents", -0],
    ["credit_amount", 2 ** 53 + 2],
    ["checking_status", "a11"],
  ];
  for (const [field, value] of cases) {
    const input = { ...base, [field]: value };
    assert.equal(applicantOrNull(input) !== null, Applicant.safeParse(input).success, `${field} = ${value}`);
  }
  for (const key of HOSTILE_KEYS) {
    const input = JSON.parse(`{${JSON.stringify(key)}:1,${JSON.stringify(base).slice(1)}`);
    assert.equal(applicantOrNull(input), null, key);
    assert.equal(Applicant.safeParse(input).success, false, key);
  }
});
