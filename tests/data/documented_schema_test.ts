/**
 * The schema module against the documented attributes written out by hand in
 * `tests/documented_schema.ts`: the same codes and ranges, and `checkValue` accepting exactly the
 * documented values at and around every boundary.
 */
import assert from "node:assert/strict";
import { ATTRIBUTES, checkValue, validateApplicant } from "../../pipeline/data/schema.ts";
import { DOCUMENTED_CODES, DOCUMENTED_RANGES, documentedValid } from "../documented_schema.ts";

Deno.test("the schema defines exactly the documented codes and ranges", () => {
  assert.deepEqual(
    ATTRIBUTES.map((a) => a.name).sort(),
    [...Object.keys(DOCUMENTED_RANGES), ...Object.keys(DOCUMENTED_CODES)].sort(),
  );
  for (const a of ATTRIBUTES) {
    if (a.kind === "numeric") assert.deepEqual([a.min, a.max], DOCUMENTED_RANGES[a.name], a.name);
    else assert.deepEqual(a.codes.map((c) => c.code), DOCUMENTED_CODES[a.name], a.name);
  }
});

Deno.test("checkValue accepts exactly the documented values at and around every boundary", () => {
  const probes: unknown[] = ["", "A1", "a11", " A11", null, true, [], {}, Number.NaN, Infinity, 1e308, 2.5];
  for (const a of ATTRIBUTES) {
    const values: unknown[] = [...probes];
    const range = DOCUMENTED_RANGES[a.name];
    if (range) {
      const [min, max] = range;
      values.push(min - 1, min, min + 0.5, max, max - 0.5, max + 1, String(min), -0);
    } else {
      for (const code of DOCUMENTED_CODES[a.name]) {
        values.push(code, code.toLowerCase(), `${code} `, `${code}0`);
      }
    }
    for (const value of values) {
      const problem = checkValue(a, value);
      assert.equal(
        problem === null,
        documentedValid(a.name, value),
        `${a.name} = ${String(value)}: ${problem}`,
      );
      if (problem !== null) assert.ok(problem.length > 0);
    }
  }
});

Deno.test("validateApplicant: an applicant at every documented minimum, then every maximum, is valid", () => {
  const at = (end: 0 | 1) =>
    Object.fromEntries(ATTRIBUTES.map((a) => {
      const range = DOCUMENTED_RANGES[a.name];
      const codes = DOCUMENTED_CODES[a.name];
      return [a.name, range ? range[end] : codes[end === 0 ? 0 : codes.length - 1]];
    }));
  for (const end of [0, 1] as const) assert.equal(validateApplicant(at(end)).ok, true, `end ${end}`);
});

Deno.test("checkValue's words for each kind of wrong value", () => {
  const age = ATTRIBUTES.find((a) => a.name === "age")!;
  const job = ATTRIBUTES.find((a) => a.name === "job")!;
  const cases: [typeof age | typeof job, unknown, string][] = [
    [age, undefined, "expected a number, got nothing"],
    [age, null, "expected a number, got null"],
    [age, "40", 'expected a number, got "40"'],
    [age, true, "expected a number, got true"],
    [age, [40], "expected a number, got an array"],
    [age, { years: 40 }, "expected a number, got an object"],
    [age, Number.NaN, "expected a number, got NaN"],
    [age, 40.5, "expected a whole number, got 40.5"],
    [age, 101, "101 is outside the accepted range 18–100"],
    [job, 3, "expected one of the codes A171, A172, A173, A174, got 3"],
    [job, undefined, "expected one of the codes A171, A172, A173, A174, got nothing"],
    [job, "a171", 'unknown code "a171"; expected one of A171, A172, A173, A174'],
    [job, "x".repeat(50), `unknown code "${"x".repeat(40)}…"; expected one of A171, A172, A173, A174`],
  ];
  for (const [attribute, value, message] of cases) {
    assert.equal(checkValue(attribute, value), message, String(value));
  }
});
