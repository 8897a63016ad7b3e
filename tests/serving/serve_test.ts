/**
 * The API in-process through `app.request()`: every route, every error class, and the API's
 * probabilities against the pipeline's own for the same rows.
 */
import assert from "node:assert/strict";
import { moduleTempDir } from "../temp.ts";
import { createApp } from "../../pipeline/serving/app.ts";
import { ATTRIBUTES, checkValue, schemaDocument } from "../../pipeline/data/schema.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import type { PredictionExtension } from "../../pipeline/serving/prediction.ts";
import { germanApplicants, germanCredit, germanCsv, parseCsv, trainFixtureModel } from "../fixtures.ts";

const TOKEN = "test-admin-token-0123456789";
const fixture = await trainFixtureModel();
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const table = await germanCredit();
const applicants = await germanApplicants();
/** The pipeline's probabilities for the 1,000 rows: the reference for every API answer. */
const expected = fixture.model.probabilities(fixture.model.encoder.transformFrame(table.frame));
const quiet = new Logger("off");
const app = createApp({ holder, logger: quiet, config: { adminToken: TOKEN } });

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

/** PD = 1 / (1 + exp(−(a·logit(p) + b))), the logit clamped to [1e-6, 1 − 1e-6] (pure leaves). */
function plattPd({ a, b }: { a: number; b: number }, p: number): number {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return 1 / (1 + Math.exp(-(a * Math.log(q / (1 - q)) + b)));
}

/** The documented default scale (scorecard.ts): 600 points at 50:1 good:bad odds, 20 points to double them. */
assert.deepEqual(fixture.artifact.score_scale, { points: 600, odds: 50, pdo: 20 });

async function errorOf(response: Response, status: number, code: string) {
  assert.equal(response.status, status, await response.clone().text());
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const body = await response.json();
  assert.equal(body.error, code);
  assert.equal(typeof body.message, "string");
  assert.equal(body.request_id, response.headers.get("x-request-id"));
  return body;
}

Deno.test("GET /health and /ready answer while a model is loaded; /ready is 503 without one", async () => {
  const health = await app.request("/health");
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");
  const ready = await app.request("/ready");
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), {
    status: "ready",
    model_version: 1,
    run_id: fixture.artifact.run_id,
  });

  const emptyDir = await Deno.makeTempDir();
  try {
    const empty = await ModelHolder.open({ modelsDir: emptyDir }, { allowEmpty: true });
    const cold = createApp({ holder: empty, logger: quiet });
    assert.equal((await cold.request("/health")).status, 200);
    const notReady = await cold.request("/ready");
    assert.equal(notReady.status, 503);
    assert.equal((await notReady.json()).status, "not_ready");
    await errorOf(
      await cold.request("/predict", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(applicants[0]),
      }),
      503,
      "model_unavailable",
    );
    await errorOf(await cold.request("/model"), 503, "model_unavailable");
  } finally {
    await Deno.remove(emptyDir, { recursive: true });
  }
});

Deno.test("POST /predict gives the pipeline's probability for data rows, with decision and provenance", async () => {
  for (const i of [0, 1, 2, 17, 250, 500, 998, 999]) {
    const response = await post("/predict", applicants[i], { "x-request-id": `row-${i}` });
    assert.equal(response.status, 200);
    // The server's own request id; the client's comes back as the correlation id.
    assert.equal(response.headers.get("x-correlation-id"), `row-${i}`);
    assert.match(response.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    const body = await response.json();
    assert.equal(body.probability_bad, expected[i], `row ${i}`);
    assert.equal(body.decision, expected[i] >= 0.5 ? "decline" : "approve");
    assert.equal(body.threshold, 0.5);
    assert.equal(body.model_version, 1);
    assert.equal(body.run_id, fixture.artifact.run_id);
    assert.equal(body.request_id, response.headers.get("x-request-id"));
    // Calibrated extension fields.
    assert.equal(body.pd, fixture.model.pd(expected[i]));
    assert.equal(typeof body.score, "number");
    // Recomputed here from the artifact's Platt coefficients and the documented score scale.
    const pd = plattPd(fixture.artifact.calibrator, body.probability_bad);
    assert.ok(Math.abs(body.pd - pd) < 1e-12, `row ${i}: pd ${body.pd} vs ${pd}`);
    assert.equal(body.score, Math.round(600 + 20 * Math.log2((1 - pd) / pd / 50)), `row ${i}: score`);
    assert.equal(body.pd_threshold, plattPd(fixture.artifact.calibrator, 0.5));
  }
});

Deno.test("request ids: always the server's own UUID; a sane incoming one is kept as the correlation id only", async () => {
  for (const bad of ["has space", "x".repeat(200), "<script>", "a;b", "\u00e9t\u00e9"]) {
    const response = await post("/predict", applicants[0], { "x-request-id": bad });
    const id = response.headers.get("x-request-id")!;
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    assert.equal((await response.json()).request_id, id);
    assert.equal(response.headers.get("x-correlation-id"), null);
  }
  const sane = await post("/predict", applicants[0], { "x-request-id": "client-7" });
  assert.equal(sane.headers.get("x-correlation-id"), "client-7");
  assert.notEqual(sane.headers.get("x-request-id"), "client-7");
  const generated = await app.request("/health");
  assert.match(generated.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
});

Deno.test("REVIEW_MARGIN sends cases near the threshold to review", async () => {
  const reviewing = createApp({ holder, logger: quiet, config: { reviewMargin: 0.49 } });
  const i = expected.findIndex((p) => p > 0.05 && p < 0.95);
  const response = await reviewing.request("/predict", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(applicants[i]),
  });
  const body = await response.json();
  assert.equal(body.decision, "review");
  assert.equal(body.review_margin, 0.49);
});

Deno.test("422 names every offending field in the schema module's words", async () => {
  const { duration: _omitted, ...withoutDuration } = applicants[0];
  const body = await errorOf(
    await post("/predict", {
      ...withoutDuration,
      checking_status: "A19", // unknown code
      credit_amount: 5_000_000, // out of range
      age: "forty", // wrong type
      installment_commitment: 2.5, // not whole
      nickname: "Bob", // unexpected field
    }),
    422,
    "validation_error",
  );
  const byField = new Map(body.issues.map((i: { field: string; message: string }) => [i.field, i.message]));
  const attr = (name: string) => ATTRIBUTES.find((a) => a.name === name)!;
  assert.equal(byField.get("checking_status"), checkValue(attr("checking_status"), "A19"));
  assert.equal(byField.get("credit_amount"), checkValue(attr("credit_amount"), 5_000_000));
  assert.equal(byField.get("age"), checkValue(attr("age"), "forty"));
  assert.equal(byField.get("installment_commitment"), checkValue(attr("installment_commitment"), 2.5));
  assert.equal(byField.get("duration"), "is required");
  assert.equal(byField.get("nickname"), "is not an attribute of the schema");
  assert.equal(body.issues.length, 6);

  const notObject = await errorOf(await post("/predict", [applicants[0]]), 422, "validation_error");
  assert.equal(notObject.issues[0].field, "(body)");
  const empty = await errorOf(await post("/predict", {}), 422, "validation_error");
  assert.equal(empty.issues.length, ATTRIBUTES.length);
});

Deno.test("400 for malformed JSON, 415 for a wrong or missing content type, 413 over the body limit", async () => {
  await errorOf(await post("/predict", '{"checking_status": "A11",'), 400, "malformed_json");
  await errorOf(await post("/predict", ""), 400, "malformed_json");
  await errorOf(
    await post("/predict", JSON.stringify(applicants[0]), { "content-type": "text/plain" }),
    415,
    "unsupported_media_type",
  );
  await errorOf(
    await app.request("/predict", {
      method: "POST",
      body: new TextEncoder().encode(JSON.stringify(applicants[0])),
    }),
    415,
    "unsupported_media_type",
  );
  const small = createApp({ holder, logger: quiet, config: { maxBodyBytes: 1000 } });
  const big = JSON.stringify({ ...applicants[0], padding: "x".repeat(2000) });
  await errorOf(
    await small.request("/predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
    }),
    413,
    "payload_too_large",
  );
  // Without a declared length (chunked), the body is read only up to the limit.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode(" ".repeat(500)));
      controller.close();
    },
  });
  await errorOf(
    await small.request("/predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
    }),
    413,
    "payload_too_large",
  );
  const ok = await small.request("/predict", {
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8" },
    body: new Blob([JSON.stringify(applicants[3])]).stream(),
  });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).probability_bad, expected[3]);
});

Deno.test("unknown routes and methods answer 404 JSON", async () => {
  await errorOf(await app.request("/no/such/route"), 404, "not_found");
  await errorOf(await app.request("/predict"), 404, "not_found");
  await errorOf(await app.request("/health", { method: "DELETE" }), 404, "not_found");
  await errorOf(await app.request("/admin/reload"), 404, "not_found");
});

Deno.test("a real server error answers 500 with the request id and logs the stack", async () => {
  const lines: string[] = [];
  const boom: PredictionExtension = {
    name: "boom",
    fields: {},
    extend: () => {
      throw new Error("extension exploded");
    },
  };
  const faulty = createApp({ holder, logger: new Logger("info", (l) => lines.push(l)), extensions: [boom] });
  const response = await faulty.request("/predict", {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": "fault-1" },
    body: JSON.stringify(applicants[0]),
  });
  const body = await errorOf(response, 500, "internal_error");
  const requestId = response.headers.get("x-request-id");
  assert.equal(body.request_id, requestId);
  assert.doesNotMatch(JSON.stringify(body), /exploded/);
  const logged = lines.map((l) => JSON.parse(l));
  const fault = logged.find((l) => l.msg === "request failed");
  assert.equal(fault.level, "error");
  assert.equal(fault.request_id, requestId);
  assert.match(fault.error.stack, /extension exploded/);
  const request = logged.find((l) => l.msg === "request");
  assert.deepEqual(
    {
      method: request.method,
      path: request.path,
      status: request.status,
      request_id: request.request_id,
      correlation_id: request.correlation_id,
    },
    { method: "POST", path: "/predict", status: 500, request_id: requestId, correlation_id: "fault-1" },
  );
  assert.equal(typeof request.duration_ms, "number");
});

Deno.test("POST /predict/batch (JSON) scores all 1,000 rows exactly as the pipeline does", async () => {
  const response = await post("/predict/batch", applicants.map((a, i) => ({ id: `a${i}`, ...a })));
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.rows, 1000);
  assert.equal(body.scored, 1000);
  assert.equal(body.rejected, 0);
  assert.equal(body.model_version, 1);
  body.predictions.forEach(
    (p: { row: number; id: string; probability_bad: number; decision: string }, i: number) => {
      assert.equal(p.row, i + 1);
      assert.equal(p.id, `a${i}`);
      assert.equal(p.probability_bad, expected[i], `row ${i + 1}`);
      assert.equal(p.decision, expected[i] >= 0.5 ? "decline" : "approve");
    },
  );
});

Deno.test("POST /predict/batch (CSV) scores all 1,000 rows exactly, ids passed through, JSON or CSV out", async () => {
  const csv = await germanCsv({ ids: true });
  const json = await app.request("/predict/batch", {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: csv,
  });
  assert.equal(json.status, 200);
  const body = await json.json();
  assert.equal(body.scored, 1000);
  body.predictions.forEach(
    (p: { row: number; line: number; id: string; probability_bad: number }, i: number) => {
      assert.deepEqual([p.row, p.line, p.id], [i + 1, i + 2, `applicant-${i + 1}`]);
      assert.equal(p.probability_bad, expected[i], `row ${i + 1}`);
    },
  );

  const asCsv = await app.request("/predict/batch", {
    method: "POST",
    headers: { "content-type": "text/csv", accept: "text/csv" },
    body: csv,
  });
  assert.equal(asCsv.status, 200);
  assert.match(asCsv.headers.get("content-type")!, /^text\/csv/);
  const rows = parseCsv(await asCsv.text());
  assert.equal(rows.length, 1000);
  rows.forEach((r, i) => {
    assert.equal(r.id, `applicant-${i + 1}`);
    assert.equal(Number(r.probability_bad), expected[i]);
    assert.equal(r.error, "");
  });
});

Deno.test("batch rows with errors are reported with row/line numbers and field names; the rest are scored", async () => {
  const lines = (await germanCsv({ ids: true, rows: 12 })).trimEnd().split("\n");
  const header = lines[0].split(",");
  const set = (line: number, column: string, value: string) => {
    const cells = lines[line - 1].split(",");
    cells[header.indexOf(column)] = value;
    lines[line - 1] = cells.join(",");
  };
  set(3, "purpose", "A99"); // unknown code, row 2
  set(5, "duration", "1.5"); // not whole, row 4
  set(5, "age", "200"); // and out of range
  set(7, "credit_amount", "lots"); // not a number, row 6
  set(8, "housing", ""); // missing, row 7
  lines[9] = lines[9].split(",").slice(0, 5).join(","); // too few fields, line 10 / row 9
  lines[11] = ""; // blank line inside, line 12 / row 11
  const response = await app.request("/predict/batch", {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: lines.join("\n") + "\n",
  });
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.rows, 12);
  assert.equal(body.rejected, 6);
  const errors = new Map(body.errors.map((e: { line: number }) => [e.line, e]));
  const fields = (line: number) =>
    (errors.get(line) as { issues: { field: string }[] }).issues.map((i) => i.field);
  assert.deepEqual(fields(3), ["purpose"]);
  assert.deepEqual(fields(5), ["duration", "age"]);
  assert.deepEqual(fields(7), ["credit_amount"]);
  assert.deepEqual(fields(8), ["housing"]);
  assert.deepEqual(fields(10), ["(row)"]);
  assert.deepEqual(fields(12), ["(row)"]);
  const e3 = errors.get(3) as { row: number; id: string; issues: { message: string }[] };
  assert.equal(e3.row, 2);
  assert.equal(e3.id, "applicant-2");
  assert.match(e3.issues[0].message, /unknown code "A99"/);
  assert.equal(body.predictions.length, 6);
  for (const p of body.predictions) assert.equal(p.probability_bad, expected[p.row - 1]);

  // The same in CSV: every input row in order, rejected ones with their error text.
  const csv = await app.request("/predict/batch", {
    method: "POST",
    headers: { "content-type": "text/csv", accept: "text/csv" },
    body: lines.join("\n") + "\n",
  });
  const rows = parseCsv(await csv.text());
  assert.equal(rows.length, 12);
  assert.match(rows[1].error, /^purpose: unknown code/);
  assert.equal(rows[1].probability_bad, "");
  assert.equal(Number(rows[0].probability_bad), expected[0]);

  // JSON arrays: row numbers and fields too.
  const json = await post("/predict/batch", [applicants[0], { ...applicants[1], job: "A999" }, { foo: 1 }]);
  const jsonBody = await json.json();
  assert.equal(jsonBody.scored, 1);
  assert.equal(jsonBody.errors[0].row, 2);
  assert.deepEqual(jsonBody.errors[0].issues.map((i: { field: string }) => i.field), ["job"]);
  assert.equal(jsonBody.errors[1].row, 3);
  assert.equal(jsonBody.errors[1].issues.length, ATTRIBUTES.length + 1);
});

Deno.test("strict=true fails the whole batch with 422 and every row's issues; a clean batch passes", async () => {
  const lines = (await germanCsv({ rows: 5 })).trimEnd().split("\n");
  lines[2] = lines[2].replace(/^A1\d/, "A10");
  const strict = await app.request("/predict/batch?strict=true", {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: lines.join("\n"),
  });
  const body = await errorOf(strict, 422, "validation_error");
  assert.deepEqual(
    body.issues.map((i: { row: number; line: number; field: string }) => [i.row, i.line, i.field]),
    [
      [2, 3, "checking_status"],
    ],
  );
  const json = await errorOf(
    await post("/predict/batch?strict=true", [applicants[0], { ...applicants[0], age: 5 }]),
    422,
    "validation_error",
  );
  assert.deepEqual(json.issues.map((i: { row: number; field: string }) => [i.row, i.field]), [[2, "age"]]);
  const clean = await post("/predict/batch?strict=true", applicants.slice(0, 3));
  assert.equal(clean.status, 200);
  assert.equal((await clean.json()).scored, 3);
  const bad = await errorOf(
    await post("/predict/batch?strict=maybe", applicants.slice(0, 1)),
    422,
    "validation_error",
  );
  assert.equal(bad.issues[0].field, "strict");
});

Deno.test("batch input errors: header problems, not an array, too many rows, body limit, media type", async () => {
  const csv = (await germanCsv({ rows: 3 })).replace("duration", "durration");
  const header = await errorOf(
    await app.request("/predict/batch", {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: csv,
    }),
    422,
    "validation_error",
  );
  const fields = header.issues.map((i: { field: string }) => i.field).sort();
  assert.deepEqual(fields, ["duration", "durration"]);
  await errorOf(
    await app.request("/predict/batch", {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: "\n\n",
    }),
    422,
    "validation_error",
  );
  await errorOf(await post("/predict/batch", { rows: [] }), 422, "validation_error");
  await errorOf(await post("/predict/batch", "[1, 2"), 400, "malformed_json");
  await errorOf(
    await post("/predict/batch", "a,b", { "content-type": "text/plain" }),
    415,
    "unsupported_media_type",
  );
  const limited = createApp({
    holder,
    logger: quiet,
    config: { batchMaxRows: 5, maxBatchBodyBytes: 20_000 },
  });
  await errorOf(
    await limited.request("/predict/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(applicants.slice(0, 6)),
    }),
    413,
    "too_many_rows",
  );
  await errorOf(
    await limited.request("/predict/batch", {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: await germanCsv({ rows: 400 }),
    }),
    413,
    "payload_too_large",
  );
});

Deno.test("GET /model describes the served model; /schema is the schema document", async () => {
  const model = await (await app.request("/model")).json();
  assert.equal(model.model_version, 1);
  assert.equal(model.stage, "production");
  assert.equal(model.sha256, fixture.version.sha256);
  assert.equal(model.verified, true);
  assert.equal(model.run_id, fixture.artifact.run_id);
  assert.equal(model.threshold, 0.5);
  assert.equal(model.schema_version, schemaDocument().version);
  assert.equal(model.format_version, 1);
  assert.match(model.metrics.protocol, /in-sample/);
  assert.deepEqual(model.features.map((f: { name: string }) => f.name), fixture.model.encoder.featureNames);
  assert.equal(model.attributes.length, 20);
  const schema = await (await app.request("/schema")).json();
  assert.deepEqual(schema, JSON.parse(JSON.stringify(schemaDocument())));
});

Deno.test("GET /runs lists runs newest first (runs.html for browsers when present); /runs/:id refuses traversal", async () => {
  const runs = await (await app.request("/runs")).json();
  assert.equal(runs.length, 1);
  assert.equal(runs[0].run_id, fixture.artifact.run_id);
  const emptyStatic = await moduleTempDir("serve-test-static-");
  const withoutPage = createApp({ holder, logger: quiet, staticRoot: new URL(`file://${emptyStatic}/`) });
  assert.equal(
    (await (await withoutPage.request("/runs", { headers: { accept: "text/html" } })).json())[0].run_id,
    runs[0].run_id,
  );

  const staticDir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${staticDir}/runs.html`, "<!DOCTYPE html><title>runs</title>");
    const withPage = createApp({ holder, logger: quiet, staticRoot: new URL(`file://${staticDir}/`) });
    const page = await withPage.request("/runs", {
      headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" },
    });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.match(await page.text(), /<title>runs/);
    assert.equal((await withPage.request("/runs", { headers: { accept: "application/json" } })).status, 200);
  } finally {
    await Deno.remove(staticDir, { recursive: true });
  }

  const one = await app.request(`/runs/${fixture.artifact.run_id}`);
  assert.equal(one.status, 200);
  assert.equal((await one.json()).run_id, fixture.artifact.run_id);
  await errorOf(await app.request("/runs/20990101-000000-nope00"), 404, "not_found");
  for (
    const path of [
      "/runs/%2e%2e",
      "/runs/..%2f..%2fetc%2fpasswd",
      "/runs/%252e%252e",
      "/runs/%2E%2E%2Fregistry.json",
      "/runs/a%00b",
    ]
  ) {
    // URL parsing turns "%2e%2e" into "..", which could land on "/": without an index page that is a 404.
    const response = await withoutPage.request(path);
    assert.ok([400, 404].includes(response.status), `${path} answered ${response.status}`);
    assert.doesNotMatch(await response.text(), /"models"|root:/);
  }
  const dotDot = await withoutPage.request("/runs/../registry.json");
  assert.ok([400, 404].includes(dotDot.status));
  await Deno.remove(emptyStatic, { recursive: true });
});

Deno.test("GET /openapi.json is generated from the zod schemas; /docs serves Swagger UI locally", async () => {
  const doc = await (await app.request("/openapi.json")).json();
  assert.match(doc.openapi, /^3\.1/);
  for (
    const path of [
      "/predict",
      "/predict/batch",
      "/health",
      "/ready",
      "/model",
      "/schema",
      "/runs",
      "/runs/{id}",
      "/metrics",
      "/admin/reload",
    ]
  ) {
    assert.ok(doc.paths[path], `${path} is documented`);
  }
  const applicant = doc.components.schemas.Applicant;
  assert.deepEqual(Object.keys(applicant.properties), ATTRIBUTES.map((a) => a.name));
  assert.equal(applicant.additionalProperties, false);
  assert.ok(doc.paths["/predict"].post.responses["422"]);
  assert.ok(doc.components.schemas.Prediction.properties.pd, "extension fields are documented");

  const docs = await app.request("/docs");
  assert.equal(docs.status, 200);
  const html = await docs.text();
  assert.doesNotMatch(html, /<script>(?!<)/, "no inline script");
  assert.doesNotMatch(html, /https?:\/\//, "no CDN");
  assert.match(docs.headers.get("content-security-policy")!, /script-src 'self'/);
  for (const asset of ["/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/swagger-init.js"]) {
    const response = await app.request(asset);
    assert.equal(response.status, 200, asset);
    assert.ok((await response.text()).length > 50);
  }
  assert.equal((await app.request("/docs/../../deno.json")).status, 404);
  assert.equal((await app.request("/docs/index.js")).status, 404);
});

Deno.test("GET /metrics exposes requests by route and status, latency, decisions and the model version", async () => {
  const metricsApp = createApp({ holder, logger: quiet });
  await metricsApp.request("/predict", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(applicants[1]),
  });
  await metricsApp.request("/predict", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{",
  });
  await metricsApp.request("/nowhere", { method: "POST" });
  const response = await metricsApp.request("/metrics");
  assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.match(text, /^http_requests_total\{method="POST",route="\/predict",status="200"\} 1$/m);
  assert.match(text, /^http_requests_total\{method="POST",route="\/predict",status="400"\} 1$/m);
  assert.match(text, /^http_requests_total\{method="POST",route="unmatched",status="404"\} 1$/m);
  assert.match(text, /^http_request_duration_seconds_bucket\{route="\/predict",le="\+Inf"\} 2$/m);
  assert.match(text, /^# TYPE http_request_duration_seconds histogram$/m);
  const decision = expected[1] >= 0.5 ? "decline" : "approve";
  assert.match(text, new RegExp(`^predictions_total\\{decision="${decision}"\\} 1$`, "m"));
  assert.match(
    text,
    new RegExp(
      `^model_info\\{version="1",run_id="${fixture.artifact.run_id}",sha256="${fixture.version.sha256}"`,
      "m",
    ),
  );
  assert.match(text, /^model_loaded 1$/m);
});

Deno.test("POST /admin/reload: 404 without a token configured, 401/403 for bad credentials, swaps a promoted model, refuses a tampered one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "credit-reload-" });
  const first = await trainFixtureModel({ modelsDir: dir, nEstimators: 10, seed: 3 });
  try {
    const local = await ModelHolder.open({ modelsDir: dir });
    const admin = createApp({ holder: local, logger: quiet, config: { adminToken: TOKEN } });
    const reload = (token?: string) =>
      admin.request("/admin/reload", {
        method: "POST",
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    assert.equal(
      (await createApp({ holder: local, logger: quiet }).request("/admin/reload", { method: "POST" })).status,
      404,
    );
    const missing = await errorOf(await reload(), 401, "unauthorized");
    assert.ok(missing);
    await errorOf(await reload("not-the-token-at-all"), 403, "forbidden");
    const unchanged = await (await reload(TOKEN)).json();
    assert.deepEqual([unchanged.changed, unchanged.model_version], [false, 1]);

    const second = await trainFixtureModel({ modelsDir: dir, nEstimators: 10, seed: 4 });
    const swapped = await (await reload(TOKEN)).json();
    assert.deepEqual([swapped.changed, swapped.model_version, swapped.previous_version], [true, 2, 1]);
    const answer = await (await admin.request("/predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(applicants[5]),
    })).json();
    assert.equal(answer.model_version, 2);
    assert.equal(answer.probability_bad, second.model.probabilityOne(applicants[5]));

    // A third version whose file is modified after registration is refused; v2 keeps serving.
    const third = await trainFixtureModel({ modelsDir: dir, nEstimators: 10, seed: 5 });
    const bytes = await Deno.readTextFile(third.artifactPath);
    await Deno.writeTextFile(third.artifactPath, bytes.replace('"threshold":0.5', '"threshold":0.9'));
    const refused = await errorOf(await reload(TOKEN), 409, "reload_failed");
    assert.match(refused.message, /sha256/);
    assert.equal(refused.model_version, 2);
    assert.equal(local.current!.version, 2);
    const metrics = await (await admin.request("/metrics")).text();
    assert.match(metrics, /^model_reloads_total\{outcome="failed"\} 1$/m);
    assert.ok(first);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a model refused at start: tampered artifact, foreign format; MODEL=path is verified when registered", async () => {
  const dir = await Deno.makeTempDir({ prefix: "credit-tamper-" });
  try {
    const f = await trainFixtureModel({ modelsDir: dir, nEstimators: 5 });
    const byPath = await ModelHolder.open({ modelsDir: dir, modelPath: f.artifactPath });
    assert.equal(byPath.current!.verified, true);
    assert.equal(byPath.current!.version, 1);
    const original = await Deno.readTextFile(f.artifactPath);
    await Deno.writeTextFile(f.artifactPath, original.replace('"format_version":1', '"format_version":2'));
    await assert.rejects(() => ModelHolder.open({ modelsDir: dir }), /sha256 .* but the registry expects/);
    const copy = `${dir}/unregistered.json`;
    await Deno.writeTextFile(copy, original.replace('"format_version":1', '"format_version":2'));
    await assert.rejects(
      () => ModelHolder.open({ modelsDir: dir, modelPath: copy }),
      /format_version 2 is not supported/,
    );
    await Deno.writeTextFile(copy, original);
    const unregistered = await ModelHolder.open({ modelsDir: dir, modelPath: copy });
    assert.equal(unregistered.current!.verified, false);
    assert.equal(unregistered.current!.version, null);
    await assert.rejects(
      () => ModelHolder.open({ modelsDir: dir, modelPath: `${dir}/missing.json` }),
      /cannot read model/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("static files: index.html at /, content types, CSP without inline script, caching, no traversal", async () => {
  const dir = await Deno.makeTempDir({ prefix: "credit-static-" });
  const inner = `${dir}/public`;
  try {
    await Deno.mkdir(`${inner}/js`, { recursive: true });
    await Deno.writeTextFile(`${inner}/index.html`, "<!DOCTYPE html><title>form</title>");
    await Deno.writeTextFile(`${inner}/js/app.js`, "console.log(1)");
    await Deno.writeTextFile(`${inner}/.env`, "SECRET=1");
    await Deno.writeTextFile(`${inner}/deno.json`, '{ "SECRET": 1 }');
    await Deno.writeTextFile(`${inner}/js/deno.jsonc`, '{ "SECRET": 1 }');
    await Deno.writeTextFile(`${dir}/secret.txt`, "outside");
    await Deno.symlink(`${dir}/secret.txt`, `${inner}/link.txt`);
    const site = createApp({ holder, logger: quiet, staticRoot: new URL(`file://${inner}/`) });
    const index = await site.request("/");
    assert.equal(index.status, 200);
    assert.equal(index.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = index.headers.get("content-security-policy")!;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(index.headers.get("x-content-type-options"), "nosniff");
    assert.equal(index.headers.get("cache-control"), "no-cache");
    const etag = index.headers.get("etag")!;
    assert.equal((await site.request("/", { headers: { "if-none-match": etag } })).status, 304);
    const js = await site.request("/js/app.js");
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.match(js.headers.get("cache-control")!, /max-age/);
    assert.equal((await site.request("/index.html")).status, 200);
    for (
      const path of [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "/js/..%2f..%2f..%2fsecret.txt",
        "/.env",
        "/deno.json",
        "/js/deno.jsonc",
        "/Deno.JSON",
        "/link.txt",
        "/%2e%2e%5csecret.txt",
        "/bad%zzencoding",
      ]
    ) {
      const response = await site.request(path);
      assert.ok(
        response.status === 404 || (path === "/../secret.txt" && response.status !== 200),
        `${path} → ${response.status}`,
      );
      assert.doesNotMatch(await response.text(), /outside|SECRET/, path);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "the app resolves static/ from the module, not the working directory",
  fn: async () => {
    const { STATIC_ROOT } = await import("../../pipeline/serving/app.ts");
    assert.equal(STATIC_ROOT.href, new URL("../../static/", import.meta.url).href);
  },
});

// Teardown, not a test: the fixture's temporary models folder is removed.
Deno.test.afterAll(async () => {
  await fixture.cleanup();
  await assert.rejects(() => Deno.stat(fixture.modelsDir), Deno.errors.NotFound);
});

Deno.test("POST /predict explains: base_value + Σ contributions = probability_bad, reasons are the five largest", async () => {
  const { topContributions } = await import("../../pipeline/model/reasons.ts");
  for (const i of [0, 1, 17, 250, 999]) {
    const body = await (await post("/predict", applicants[i])).json();
    const contributions = body.contributions as Record<string, number>;
    assert.deepEqual(Object.keys(contributions), ATTRIBUTES.map((a) => a.name));
    const total = Object.values(contributions).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(body.base_value + total - body.probability_bad) < 1e-9, `row ${i}`);
    const top = topContributions(ATTRIBUTES.map((a) => contributions[a.name]), 5);
    assert.deepEqual(
      body.reasons.map((r: { attribute: string; contribution: number }) => [r.attribute, r.contribution]),
      top.map((r) => [r.attribute, r.contribution]),
    );
    for (const r of body.reasons) {
      assert.equal(r.direction, r.contribution > 0 ? "raises" : "lowers");
      assert.equal(r.value, applicants[i][r.attribute as keyof typeof applicants[number]]);
      assert.equal(typeof r.value_label.en, "string");
      assert.match(r.sentence.en, / (raises?|lowers?) the risk$/);
      assert.match(r.sentence.es, / (aumentan?|reducen?) el riesgo$/);
    }
  }
});

Deno.test("POST /predict?explain=false leaves the explanation out; other values are a 422", async () => {
  const plain = await (await post("/predict?explain=false", applicants[3])).json();
  assert.equal(plain.probability_bad, expected[3]);
  for (const field of ["reasons", "contributions", "base_value"]) assert.equal(field in plain, false, field);
  const explicit = await (await post("/predict?explain=true", applicants[3])).json();
  assert.equal(explicit.reasons.length, 5);
  const body = await errorOf(await post("/predict?explain=maybe", applicants[3]), 422, "validation_error");
  assert.equal(body.issues[0].field, "explain");
});

Deno.test("POST /predict/batch?explain=true adds each row's top 3 reasons (JSON array, CSV reason_1..3); off by default", async () => {
  const { formatContribution } = await import("../../pipeline/model/reasons.ts");
  const rows = applicants.slice(0, 6);
  const reference = rows.map((a) => fixture.model.explain(a, 3).reasons);
  const json = await (await post("/predict/batch?explain=true", [...rows, { checking_status: "A19" }]))
    .json();
  assert.equal(json.scored, 6);
  json.predictions.forEach((p: { row: number; reasons: { attribute: string; contribution: number }[] }) => {
    assert.deepEqual(
      p.reasons.map((r) => [r.attribute, r.contribution]),
      reference[p.row - 1].map((r) => [r.attribute, r.contribution]),
    );
  });
  const plain = await (await post("/predict/batch", rows)).json();
  assert.equal("reasons" in plain.predictions[0], false);

  const csvText = (await germanCsv({ ids: true, rows: 6 })).replace("\n", "\n" + "x,".repeat(20) + "x\n");
  const csv = await app.request("/predict/batch?explain=true", {
    method: "POST",
    headers: { "content-type": "text/csv", accept: "text/csv" },
    body: csvText,
  });
  assert.equal(csv.status, 200);
  const lines = parseCsv(await csv.text());
  assert.equal(lines.length, 7);
  assert.deepEqual(Object.keys(lines[0]).slice(-3), ["reason_1", "reason_2", "reason_3"]);
  assert.ok(lines[0].error !== "" && lines[0].reason_1 === "", "the bad row has an error and no reasons");
  lines.slice(1).forEach((line, i) => {
    assert.deepEqual([line.reason_1, line.reason_2, line.reason_3], reference[i].map(formatContribution));
  });
  const unexplained = await app.request("/predict/batch", {
    method: "POST",
    headers: { "content-type": "text/csv", accept: "text/csv" },
    body: csvText,
  });
  assert.equal(Object.keys(parseCsv(await unexplained.text())[0]).includes("reason_1"), false);

  const header = (await germanCsv({ rows: 1 })).split("\n");
  const tooMany = [header[0], ...Array(10_001).fill(header[1])].join("\n") + "\n";
  const refused = await errorOf(
    await app.request("/predict/batch?explain=true", {
      method: "POST",
      headers: { "content-type": "text/csv" },
      body: tooMany,
    }),
    422,
    "validation_error",
  );
  assert.equal(refused.issues[0].field, "explain");
});

Deno.test("the OpenAPI document describes the explanation: explain parameters, Reason and BatchReason", async () => {
  const doc = await (await app.request("/openapi.json")).json();
  const names = (path: string) => doc.paths[path].post.parameters.map((p: { name: string }) => p.name);
  assert.ok(names("/predict").includes("explain"));
  assert.ok(names("/predict/batch").includes("explain"));
  for (const schema of ["Reason", "BatchReason"]) assert.ok(doc.components.schemas[schema], schema);
  const prediction = doc.components.schemas.Prediction.properties;
  for (const field of ["reasons", "contributions", "base_value"]) assert.ok(prediction[field], field);
});

Deno.test("a batch of junk lists only the first 1,000 rejected rows in detail, with the total", async () => {
  const [header, good] = (await germanCsv({ rows: 1 })).split("\n");
  const lines = [header];
  for (let i = 0; i < 1_500; i++) lines.push(i % 100 === 50 ? good : `junk-${i},x`);
  const csvText = lines.join("\n") + "\n";
  const junkRows = 1_500 - 15;

  const json = await app.request("/predict/batch", {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: csvText,
  });
  assert.equal(json.status, 200);
  const body = await json.json();
  assert.equal(body.rows, 1_500);
  assert.equal(body.scored, 15);
  assert.equal(body.rejected, junkRows);
  assert.equal(body.errors_total, junkRows);
  assert.equal(body.errors_truncated, true);
  assert.match(body.errors_note, /1485 rows were rejected; only the first 1000/);
  assert.equal(body.errors.length, 1_000);
  const rows = body.errors.map((e: { row: number }) => e.row);
  assert.deepEqual(rows, [...rows].sort((a, b) => a - b), "in row order");
  assert.equal(rows[0], 1);
  assert.equal(rows.at(-1), 1_010, "the first 1,000 junk rows (every 100th row is valid)");

  const csv = await app.request("/predict/batch", {
    method: "POST",
    headers: { "content-type": "text/csv", accept: "text/csv" },
    body: csvText,
  });
  assert.equal(csv.status, 200);
  assert.equal(csv.headers.get("x-errors-total"), String(junkRows));
  assert.match(csv.headers.get("x-errors-truncated") ?? "", /only the first 1000/);
  const out = parseCsv(await csv.text());
  assert.equal(out.length, 1_500);
  assert.match(out[0].error, /expected \d+ fields/);
  assert.match(out[1_009].error, /expected \d+ fields/);
  assert.match(out[1_011].error, /^rejected \(details only for the first 1000 rejected rows\)$/);
  assert.equal(out[1_050].error, "");

  // JSON records: the same cap; a small batch is not truncated.
  const records = Array.from({ length: 1_200 }, (_, i) => (i === 0 ? applicants[0] : { junk: i }));
  const fromJson = await (await post("/predict/batch", records)).json();
  assert.equal(fromJson.errors.length, 1_000);
  assert.equal(fromJson.errors_total, 1_199);
  assert.equal(fromJson.errors_truncated, true);
  const small = await (await post("/predict/batch", [applicants[0], { junk: 1 }])).json();
  assert.equal(small.errors.length, 1);
  assert.equal(small.errors_total, 1);
  assert.equal(small.errors_truncated, false);
  assert.equal(small.errors_note, undefined);

  const doc = await (await app.request("/openapi.json")).json();
  const answer = doc.components.schemas.BatchAnswer.properties;
  for (const field of ["errors_total", "errors_truncated", "errors_note"]) assert.ok(answer[field], field);
});
