/**
 * JSON bodies of applicants for property tests, drawn from the attribute table: valid ones (range
 * ends included, keys in a random order), broken ones (a value wrong for its attribute, a key
 * dropped, an unknown or hostile key added), and bodies that are no applicant at all. Shared by the
 * schema's compiled check (tests/data/schema_test.ts) and the `/predict` fast path
 * (tests/serving/predict_fast_test.ts).
 * @module
 */
import fc from "fast-check";
import { ATTRIBUTES } from "../../pipeline/data/schema.ts";

/** Keys of `Object.prototype` a body may carry as its own (JSON.parse makes them own keys). */
export const HOSTILE_KEYS = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];

/** A valid applicant drawn from the attribute table, range ends included, keys in a random order. */
export const validApplicant: fc.Arbitrary<Record<string, unknown>> = fc.tuple(
  fc.tuple(
    ...ATTRIBUTES.map((a): fc.Arbitrary<unknown> =>
      a.kind === "numeric"
        ? fc.oneof(fc.constantFrom(a.min, a.max), fc.integer({ min: a.min, max: a.max }))
        : fc.constantFrom(...a.codes.map((c) => c.code))
    ),
  ),
  fc.array(fc.nat(), { minLength: ATTRIBUTES.length, maxLength: ATTRIBUTES.length }),
).map(([values, order]) => {
  const entries = ATTRIBUTES.map((a, i) => [a.name, values[i]] as const);
  const shuffled = entries.map((e, i) => [order[i], e] as const).sort((x, y) => x[0] - y[0]).map((x) => x[1]);
  return Object.fromEntries(shuffled);
});

/** A value that is wrong for some attribute (or right for another). */
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-0, 0, 0.5, 1.5, 2 ** 53, 2 ** 53 + 2, 1e308, -1, 121, 1_000_001, 17, 101, 21),
  fc.double(),
  fc.integer(),
  fc.constantFrom("12", "A11", "a11", "A11 ", "A999", "", "A201", "A202", "A152"),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);

const attributeName = fc.constantFrom(...ATTRIBUTES.map((a) => a.name as string));
type Mutation = { set: string; value: unknown } | { drop: string } | { extra: string; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ set: attributeName, value: oddValue }),
  fc.record({ drop: attributeName }),
  fc.record({
    extra: fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 8 })),
    value: oddValue,
  }),
);

/** JSON text of an applicant, valid or broken (hostile keys written as own keys), or not an applicant at all. */
export const bodyText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: validApplicant.map((a) => JSON.stringify(a)) },
  {
    weight: 4,
    arbitrary: fc.tuple(validApplicant, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(
      ([applicant, mutations]) => {
        const entries = Object.entries(applicant);
        for (const m of mutations) {
          if ("drop" in m) entries.splice(0, entries.length, ...entries.filter(([k]) => k !== m.drop));
          else if ("set" in m) {
            const at = entries.findIndex(([k]) => k === m.set);
            if (at >= 0) entries[at] = [m.set, m.value];
          } else entries.push([m.extra, m.value]);
        }
        // Written by hand so that "__proto__" stays an own key, as it is when JSON.parse reads it.
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v ?? null)}`).join(",")}}`;
      },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom("[]", "null", "12", '"x"', "{", "{}", "", " ", '{"duration":6}'),
      validApplicant.map((a) => `[${JSON.stringify(a)}]`),
      validApplicant.map((a) => JSON.stringify(a).slice(0, -1)),
    ),
  },
);
