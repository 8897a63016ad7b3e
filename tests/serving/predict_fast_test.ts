/**
 * The `/predict` fast path (predict_fast.ts) against the way it skips: zod's `Applicant` schema is
 * the oracle of the compiled check, and the route's full chain (zod-openapi's gates, zod, the
 * validation hook) the oracle of every answer, byte for byte, on random valid and broken bodies,
 * query strings and content types.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Hono } from "hono";
import { Applicant } from "../../pipeline/serving/api_schemas.ts";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { fastPredictInput } from "../../pipeline/serving/predict_fast.ts";
import { applicantOrNull, ATTRIBUTES } from "../../pipeline/data/schema.ts";
import { trainFixtureModel } from "../fixtures.ts";
import { afterAllTests } from "../temp.ts";

const HOSTILE_KEYS = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];

/** A valid applicant drawn from the attribute table, range ends included, keys in a random order. */
const validApplicant: fc.Arbitrary<Record<string, unknown>> = fc.tuple(
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
const bodyText: fc.Arbitrary<string> = fc.oneof(
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

Deno.test("fastPredictInput takes only a pre-read JSON body with no query but explain=true|false", async () => {
  const app = new Hono();
  app.post("/predict", (c) => c.json({ fast: fastPredictInput(c, 4096) }));
  const valid = JSON.stringify(Object.fromEntries(
    ATTRIBUTES.map((a) => [a.name, a.kind === "numeric" ? a.max : a.codes.at(-1)!.code]),
  ));
  const ask = async (
    query: string,
    text: string | undefined,
    headers: Record<string, string> = {},
  ) => {
    const response = await app.request(`/predict${query}`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(valid.length), ...headers },
      body: valid,
    }, { bodyText: text });
    return (await response.json()).fast;
  };
  assert.deepEqual(await ask("", valid), { applicant: JSON.parse(valid) });
  assert.equal((await ask("?explain=false", valid)).explain, "false");
  assert.equal((await ask("?explain=true", valid)).explain, "true");
  for (const query of ["?explain=0", "?explain=false&x=1", "?x=1", "?", "?explain=FALSE"]) {
    assert.equal(await ask(query, valid), null, query);
  }
  assert.equal(await ask("", undefined), null, "a body the server did not read");
  assert.equal(await ask("", valid, { "content-type": "application/json; charset=utf-8" }), null);
  assert.equal(await ask("", valid, { "content-length": "5000" }), null, "over the limit");
  assert.equal(await ask("", valid.slice(0, -1)), null, "malformed JSON");
});

const fixture = await trainFixtureModel({ nEstimators: 5 });
afterAllTests(() => fixture.cleanup());

Deno.test("POST /predict: the fast path's answers are byte-identical to the full route's", async () => {
  const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
  const app = createApp({ holder, logger: new Logger("off"), config: { reviewMargin: 0.05 } });
  const normalise = async (response: Response) => {
    const id = response.headers.get("x-request-id") ?? "";
    assert.ok(id.length > 0);
    const headers = [...response.headers].filter(([name]) => name !== "x-request-id");
    return { status: response.status, headers, body: (await response.text()).replaceAll(id, "ID") };
  };
  const statuses = new Set<number>();
  await fc.assert(
    fc.asyncProperty(
      bodyText,
      fc.constantFrom(
        "",
        "?explain=false",
        "?explain=true",
        "?explain=0",
        "?explain=maybe",
        "?explain=false&x=1",
      ),
      fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain"),
      async (text, query, type) => {
        const request = () =>
          new Request(`http://localhost/predict${query}`, {
            method: "POST",
            headers: {
              "content-type": type,
              "content-length": String(new TextEncoder().encode(text).length),
            },
            body: text,
          });
        // With the text beside it (as server.ts hands it) the fast path may answer; without, the route does.
        const fast = await normalise(await app.fetch(request(), { bodyText: text }));
        const full = await normalise(await app.fetch(request(), {}));
        assert.deepEqual(fast, full, `${query} ${type} ${text}`);
        statuses.add(full.status);
      },
    ),
    { numRuns: 400, seed: 16 },
  );
  assert.deepEqual([...statuses].sort(), [200, 400, 415, 422], "every kind of answer was compared");
});
