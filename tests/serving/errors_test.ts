/**
 * The exact words of the API's 422 answers: the summary message names every offending field once,
 * in the schema's order, and every issue says what is wrong in the schema module's wording. The
 * expected texts are written out by hand from the README and the codebook, not produced by the code
 * under test.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { createApp } from "../../pipeline/serving/app.ts";
import { ApiError, validationError, zodIssues } from "../../pipeline/serving/errors.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanApplicants, trainFixtureModel } from "../fixtures.ts";
import { afterAllTests, moduleTempDir } from "../temp.ts";

const quiet = new Logger("off");
const empty = await moduleTempDir("errors-test-empty-");
/** A server without a model: validation answers before the model is needed. */
const cold = createApp({
  holder: await ModelHolder.open({ modelsDir: empty }, { allowEmpty: true }),
  logger: quiet,
});
const fixture = await trainFixtureModel({ nEstimators: 3 });
afterAllTests(() => fixture.cleanup());
const app = createApp({ holder: await ModelHolder.open({ modelsDir: fixture.modelsDir }), logger: quiet });
const applicants = await germanApplicants();

const post = (target: ReturnType<typeof createApp>, path: string, body: unknown, type = "application/json") =>
  target.request(path, {
    method: "POST",
    headers: { "content-type": type, "x-request-id": "req-1" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function body422(response: Response) {
  assert.equal(response.status, 422, await response.clone().text());
  const body = await response.json();
  assert.equal(body.error, "validation_error");
  // The server's own request id; the client's comes back only as the correlation id.
  assert.equal(body.request_id, response.headers.get("x-request-id"));
  assert.match(body.request_id, /^[0-9a-f-]{36}$/);
  assert.equal(response.headers.get("x-correlation-id"), "req-1");
  return body;
}

/** The 20 attribute names in the codebook's order (data/README.md, OpenML "credit-g"). */
const ATTRIBUTE_ORDER = [
  "checking_status",
  "duration",
  "credit_history",
  "purpose",
  "credit_amount",
  "savings_status",
  "employment",
  "installment_commitment",
  "personal_status",
  "other_parties",
  "residence_since",
  "property_magnitude",
  "age",
  "other_payment_plans",
  "housing",
  "existing_credits",
  "job",
  "num_dependents",
  "own_telephone",
  "foreign_worker",
];

Deno.test("validationError: 'N problem(s) with' and each field once, in the order of the issues", () => {
  const one = validationError([{ field: "age", message: "17 is outside the accepted range 18–100" }]);
  assert.ok(one instanceof ApiError);
  assert.equal(one.status, 422);
  assert.equal(one.code, "validation_error");
  assert.equal(one.message, "1 problem with age");
  assert.deepEqual(one.details, {
    issues: [{ field: "age", message: "17 is outside the accepted range 18–100" }],
  });

  const three = validationError([
    { field: "purpose", message: "a" },
    { field: "age", message: "b" },
    { field: "purpose", message: "c" },
  ]);
  assert.equal(three.message, "3 problems with purpose, age");
  assert.equal(
    validationError([{ field: "x", message: "y" }], "the batch cannot be read").message,
    "the batch cannot be read",
  );
});

Deno.test("zodIssues: every unknown key named on its own, nested paths joined, the target for the root", () => {
  const schema = z.strictObject({ page: z.number(), nested: z.strictObject({ a: z.number() }) });
  const result = schema.safeParse({ page: 1, nested: { a: 1, b: 2 }, extra: 1, other: 2 });
  assert.ok(!result.success);
  assert.deepEqual(zodIssues(result.error, "query"), [
    { field: "nested.b", message: "is not an expected field" },
    { field: "extra", message: "is not an expected field" },
    { field: "other", message: "is not an expected field" },
  ]);
  const root = z.number().safeParse("x");
  assert.ok(!root.success);
  assert.equal(zodIssues(root.error, "json")[0].field, "(json)");
  assert.deepEqual(zodIssues(undefined, "param"), [{ field: "(param)", message: "is not valid" }]);
});

Deno.test("POST /predict {age: 17, purpose: A99}: the README's answer, word for word", async () => {
  const body = await body422(await post(cold, "/predict", { age: 17, purpose: "A99" }));
  assert.equal(body.message, `20 problems with ${ATTRIBUTE_ORDER.join(", ")}`);
  assert.deepEqual(
    body.issues,
    ATTRIBUTE_ORDER.map((field) => ({
      field,
      message: field === "age"
        ? "17 is outside the accepted range 18–100"
        : field === "purpose"
        ? 'unknown code "A99"; expected one of A40, A41, A42, A43, A44, A45, A46, A47, A48, A49, A410'
        : "is required",
    })),
  );
});

Deno.test("POST /predict with three bad fields and an extra key: each named with its exact reason", async () => {
  const body = await body422(
    await post(cold, "/predict", {
      ...applicants[0],
      duration: 1.5,
      credit_amount: 0,
      checking_status: "A15",
      nickname: "Bob",
    }),
  );
  assert.equal(body.message, "4 problems with checking_status, duration, credit_amount, nickname");
  assert.deepEqual(body.issues, [
    { field: "checking_status", message: 'unknown code "A15"; expected one of A11, A12, A13, A14' },
    { field: "duration", message: "expected a whole number, got 1.5" },
    { field: "credit_amount", message: "0 is outside the accepted range 1–1000000" },
    { field: "nickname", message: "is not an attribute of the schema" },
  ]);
  const typed = await body422(await post(cold, "/predict", { ...applicants[0], age: "forty", job: 3 }));
  assert.equal(typed.message, "2 problems with age, job");
  assert.deepEqual(typed.issues, [
    { field: "age", message: 'expected a number, got "forty"' },
    { field: "job", message: "expected one of the codes A171, A172, A173, A174, got 3" },
  ]);
  const notObject = await body422(await post(cold, "/predict", [applicants[0]]));
  assert.equal(notObject.message, "1 problem with (body)");
  assert.deepEqual(notObject.issues, [{ field: "(body)", message: "expected a JSON object of attributes" }]);
});

Deno.test("POST /predict/batch?strict=true: the count of bad rows, and every issue with its row and field", async () => {
  const body = await body422(
    await post(app, "/predict/batch?strict=true", [
      applicants[0],
      { ...applicants[1], age: 17 },
      { ...applicants[2], duration: 1.5, purpose: "A99" },
    ]),
  );
  assert.equal(body.message, "2 of 3 rows are invalid; strict mode scores none");
  assert.deepEqual(body.issues, [
    { row: 2, field: "age", message: "17 is outside the accepted range 18–100" },
    { row: 3, field: "duration", message: "expected a whole number, got 1.5" },
    {
      row: 3,
      field: "purpose",
      message: 'unknown code "A99"; expected one of A40, A41, A42, A43, A44, A45, A46, A47, A48, A49, A410',
    },
  ]);
  const notArray = await body422(await post(app, "/predict/batch", {}));
  assert.equal(notArray.message, "1 problem with (body)");
  assert.deepEqual(notArray.issues, [{ field: "(body)", message: "expected a JSON array of applicants" }]);
});
