/**
 * The `/predict` fast path (predict_fast.ts) against the way it skips: the route's full chain
 * (zod-openapi's gates, zod, the validation hook) is the oracle of every answer, byte for byte, on
 * random valid and broken bodies, query strings and content types. The compiled check it relies on,
 * `applicantOrNull`, is tested against zod's `Applicant` beside the schema (tests/data/schema_test.ts).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Hono } from "hono";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { fastPredictInput } from "../../pipeline/serving/predict_fast.ts";
import { ATTRIBUTES } from "../../pipeline/data/schema.ts";
import { bodyText } from "../data/applicant_bodies.ts";
import { trainFixtureModel } from "../fixtures.ts";
import { afterAllTests } from "../temp.ts";

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
