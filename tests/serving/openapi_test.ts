/**
 * The OpenAPI document's Applicant against the documented attributes written out by hand
 * (tests/documented_schema.ts): a client generated from /openapi.json must accept exactly what the
 * API accepts, so every numeric attribute is a bounded integer and every categorical one an enum of
 * the codebook's codes, all required, nothing else allowed.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { DOCUMENTED_CODES, DOCUMENTED_RANGES } from "../documented_schema.ts";
import { moduleTempDir } from "../temp.ts";

const empty = await moduleTempDir("openapi-test-");
const app = createApp({
  holder: await ModelHolder.open({ modelsDir: empty }, { allowEmpty: true }),
  logger: new Logger("off"),
});

Deno.test("/openapi.json: Applicant is the documented integers and codes, all required, no other fields", async () => {
  const doc = await (await app.request("/openapi.json")).json();
  const applicant = doc.components.schemas.Applicant;
  const names = [...Object.keys(DOCUMENTED_RANGES), ...Object.keys(DOCUMENTED_CODES)].sort();
  assert.deepEqual(Object.keys(applicant.properties).sort(), names);
  assert.deepEqual([...applicant.required].sort(), names);
  assert.equal(applicant.additionalProperties, false);
  for (const [name, [min, max]] of Object.entries(DOCUMENTED_RANGES)) {
    const { type, minimum, maximum } = applicant.properties[name];
    assert.deepEqual({ type, minimum, maximum }, { type: "integer", minimum: min, maximum: max }, name);
  }
  for (const [name, codes] of Object.entries(DOCUMENTED_CODES)) {
    const { type, enum: values } = applicant.properties[name];
    assert.deepEqual({ type, values }, { type: "string", values: codes }, name);
  }
});
