/**
 * The batch path shared by the scoring CLI and `POST /predict/batch`: the packed forest a worker
 * scores with against the forest, worker-pool scoring against inline scoring, and `deno task score`
 * end to end.
 */
import assert from "node:assert/strict";
import { BalancedRandomForest, PackedPredictor } from "../../pipeline/forest/mod.ts";
import { runScore, type ScoreIO } from "../../pipeline/cli/score.ts";
import { scoreCsv, scoreMatrix } from "../../pipeline/serving/batch.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { PredictionPool } from "../../pipeline/serving/predict_pool.ts";
import { germanCredit, germanCsv, parseCsv, trainFixtureModel } from "../fixtures.ts";
import { slow } from "../scope.ts";

const fixture = await trainFixtureModel();
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
const serving = holder.current!;
const table = await germanCredit();
const X = fixture.model.encoder.transformFrame(table.frame);
const expected = fixture.model.probabilities(X);
const work = await Deno.makeTempDir({ prefix: "credit-score-" });
const csvPath = `${work}/applicants.csv`;
await Deno.writeTextFile(csvPath, await germanCsv({ ids: true }));

function captureIO(): ScoreIO & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    interactive: false,
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
  };
  return io;
}

const score = (args: string[], io = captureIO()) =>
  runScore([...args, "--models-dir", fixture.modelsDir], io, () => undefined).then((code) => ({ code, io }));

Deno.test("a worker's packed forest gives the forest's probabilities bit for bit", () => {
  const packedProba = (forest: BalancedRandomForest, rows: number) => {
    // Posted to a worker as it would be: a structured clone of plain typed arrays.
    const predictor = new PackedPredictor(structuredClone(forest.packed));
    const out = new Float64Array(rows);
    predictor.predictInto(X.data, rows, out);
    return out;
  };
  assert.deepEqual(packedProba(serving.model.forest, X.rows), expected);
  for (
    const options of [{ maxDepth: 3, nEstimators: 7 }, {
      minSamplesLeaf: 20,
      nEstimators: 13,
      balanced: false,
    }]
  ) {
    const forest = new BalancedRandomForest({ seed: 5, ...options }).fit(X, table.bad!);
    assert.deepEqual(packedProba(forest, X.rows), forest.predictProba(X));
    // Below the WebAssembly threshold the JavaScript walk answers, identically.
    const few = { data: X.data.subarray(0, 10 * X.cols), rows: 10, cols: X.cols };
    assert.deepEqual(packedProba(forest, 10), forest.predictProba(few));
    for (let i = 0; i < 10; i++) {
      assert.equal(
        forest.predictProba(few)[i],
        forest.predictProbaOne(few.data.subarray(i * X.cols, (i + 1) * X.cols)),
      );
    }
  }
});

Deno.test("batch scoring refuses non-finite features", async () => {
  const bad = { data: X.data.slice(0, X.cols), rows: 1, cols: X.cols };
  bad.data[3] = NaN;
  const encoder = serving.model.encoder;
  const original = encoder.transformFrame;
  const originalOne = encoder.transformOne;
  // Both encoding paths, each on its own: the record path clean chunks take, then the polars
  // table path (a padded cell sends the chunk through the ETL, which strips it).
  encoder.transformOne = (applicant, out) => {
    const row = originalOne.call(encoder, applicant, out);
    row[3] = NaN;
    return row;
  };
  try {
    await assert.rejects(scoreCsv(serving, await germanCsv({ rows: 1 })), /non-finite/);
    encoder.transformOne = originalOne;
    encoder.transformFrame = () => bad;
    const padded = (await germanCsv({ rows: 1 })).replace(/\n([^,]*),/, "\n $1,");
    await assert.rejects(scoreCsv(serving, padded), /non-finite/);
  } finally {
    encoder.transformFrame = original;
    encoder.transformOne = originalOne;
  }
});

Deno.test("scoring on the worker pool equals scoring inline, chunk by chunk, bad rows included", async () => {
  const lines = (await germanCsv({ ids: true })).trimEnd().split("\n");
  lines[150] = lines[150].replace(",A1", ",B1"); // a bad code, row 150
  lines[777] = "";
  const text = lines.join("\n");
  const inline = await scoreCsv(serving, text, { chunkRows: 128 });
  const pool = new PredictionPool(2);
  try {
    const progress: number[] = [];
    const pooled = await scoreCsv(serving, text, {
      pool,
      chunkRows: 128,
      poolMinRows: 0,
      onProgress: (done) => progress.push(done),
    });
    assert.deepEqual(pooled.probabilities, inline.probabilities);
    assert.deepEqual(pooled.errors, inline.errors);
    assert.deepEqual(pooled.ids, inline.ids);
    assert.equal(progress.length, 8);
    assert.equal(Math.max(...progress), 1000);
  } finally {
    pool.close();
  }
  assert.deepEqual(inline.errors.map((e) => [e.row, e.line]), [[150, 151], [777, 778]]);
  for (let i = 0; i < 1000; i++) {
    if (i === 149 || i === 776) assert.ok(Number.isNaN(inline.probabilities[i]));
    else assert.equal(inline.probabilities[i], expected[i]);
  }
});

Deno.test("rules only the ETL knows (a bad class value) set the row aside with the ETL's message", async () => {
  const text = (await germanCsv({ rows: 4 })).trimEnd().split("\n").map((line, i) =>
    `${line},${i === 0 ? "class" : i === 3 ? "7" : "1"}`
  ).join("\n");
  const result = await scoreCsv(serving, text);
  assert.deepEqual(result.errors, [{
    row: 3,
    line: 4,
    issues: [{ field: "class", message: "the class must be 1 (good) or 2 (bad)" }],
  }]);
  assert.equal(result.probabilities[3], expected[3]);
});

Deno.test("deno task score writes the pipeline's probabilities with ids, and shows progress on stderr", async () => {
  const out = `${work}/scores.csv`;
  const { code, io } = await score([csvPath, "-o", out, "--workers", "1"]);
  assert.equal(code, 0, io.err);
  const rows = parseCsv(await Deno.readTextFile(out));
  assert.equal(rows.length, 1000);
  rows.forEach((r, i) => {
    assert.equal(r.id, `applicant-${i + 1}`);
    assert.equal(r.line, String(i + 2));
    assert.equal(Number(r.probability_bad), expected[i]);
    assert.equal(r.decision, expected[i] >= 0.5 ? "decline" : "approve");
  });
  assert.match(io.err, /scoring \[█+\] 100% 1,000\/1,000 rows/);
  assert.match(io.err, /scored 1000 of 1000 rows with model v1/);
  assert.equal(io.out, "");

  const json = await score([csvPath, "--json", "--workers", "0", "--review-margin", "0.1"]);
  assert.equal(json.code, 0);
  const body = JSON.parse(json.io.out);
  assert.equal(body.scored, 1000);
  assert.equal(body.review_margin, 0.1);
  assert.equal(body.predictions[10].probability_bad, expected[10]);
});

Deno.test("deno task score: rejected rows are listed; --strict writes nothing and fails; bad input fails clearly", async () => {
  const lines = (await Deno.readTextFile(csvPath)).trimEnd().split("\n");
  lines[4] = lines[4].replace(/,A201$/, ",A209");
  const dirty = `${work}/dirty.csv`;
  await Deno.writeTextFile(dirty, lines.join("\n") + "\n");
  const out = `${work}/dirty-scores.csv`;
  const lenient = await score([dirty, "-o", out]);
  assert.equal(lenient.code, 0);
  assert.match(lenient.io.err, /scored 999 of 1000 rows/);
  assert.match(lenient.io.err, /line 5: foreign_worker: unknown code "A209"/);
  const rows = parseCsv(await Deno.readTextFile(out));
  assert.equal(rows[3].probability_bad, "");
  assert.match(rows[3].error, /foreign_worker/);

  const strictOut = `${work}/strict.csv`;
  const strict = await score([dirty, "-o", strictOut, "--strict"]);
  assert.equal(strict.code, 1);
  assert.match(strict.io.err, /1 of 1000 rows are invalid; strict mode scores none; nothing written/);
  await assert.rejects(() => Deno.stat(strictOut), Deno.errors.NotFound);

  await Deno.writeTextFile(`${work}/header.csv`, lines.join("\n").replace("purpose", "porpoise"));
  const header = await score([`${work}/header.csv`]);
  assert.equal(header.code, 1);
  assert.match(header.io.err, /porpoise: header: is not an attribute of the schema/);

  assert.equal((await score([`${work}/missing.csv`])).code, 1);
  assert.equal((await score([])).code, 2);
  assert.equal((await score([csvPath, "--review-margin", "2"])).code, 2);
  const noModel = await runScore([csvPath, "--models-dir", work], captureIO(), () => undefined);
  assert.equal(noModel, 1);
});

Deno.test(
  "deno run pipeline/cli/score.ts as a process: CSV on stdout, progress on stderr",
  slow,
  async () => {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        new URL("../../pipeline/cli/score.ts", import.meta.url).pathname,
        csvPath,
        "--models-dir",
        fixture.modelsDir,
      ],
      env: { NO_COLOR: "1" },
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    const rows = parseCsv(new TextDecoder().decode(stdout));
    assert.equal(rows.length, 1000);
    assert.equal(Number(rows[999].probability_bad), expected[999]);
    assert.match(err, /100% 1,000\/1,000 rows/);
  },
);

// Teardown, not a test: temporary folders are removed.
Deno.test.afterAll(async () => {
  await Deno.remove(work, { recursive: true });
  await fixture.cleanup();
});

Deno.test("scoreMatrix refuses NaN and both infinities, naming the row", async () => {
  for (const value of [NaN, Infinity, -Infinity]) {
    const bad = { data: X.data.slice(0, 2 * X.cols), rows: 2, cols: X.cols };
    bad.data[X.cols + 3] = value;
    await assert.rejects(
      async () => await scoreMatrix(serving, bad, null),
      new RegExp(`row 1 has a non-finite feature ${value}`),
    );
  }
});
