/**
 * Reasons in score points (pipeline/model/points.ts) on the production model: additivity to the
 * score for all 1,000 rows, adverse-action reasons against a brute-force ranking, the secant's
 * limit against a finite difference, and explanations computed on the worker pool against the
 * main thread's, bit for bit.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { PredictionPool } from "../../pipeline/serving/predict_pool.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { scoreRecords } from "../../pipeline/serving/batch.ts";
import { adverseActionReasons, formatPoints, pointsFromContributions } from "../../pipeline/model/points.ts";
import { topContributions } from "../../pipeline/model/reasons.ts";
import { type Applicant, ATTRIBUTES } from "../../pipeline/data/schema.ts";
import { germanApplicants } from "../fixtures.ts";
import { slow } from "../scope.ts";

const holder = await ModelHolder.open({ modelsDir: new URL("../../models", import.meta.url).pathname });
const serving = holder.current!;
const model = serving.model;
const applicants = await germanApplicants();
/** Main-thread explanations of the 1,000 rows: the reference for the workers and the points. */
const explained = applicants.map((a) => {
  const e = model.explain(a);
  return {
    probability: model.probabilityOne(a),
    baseValue: e.baseValue,
    contributions: e.contributions.slice(),
  };
});

Deno.test("points add up to the unrounded score for all 1,000 rows of the production model", () => {
  let worst = 0;
  for (const { probability, baseValue, contributions } of explained) {
    const { basePoints, points } = model.points(probability, baseValue, contributions);
    let sum = basePoints;
    for (const p of points) sum += p;
    worst = Math.max(worst, Math.abs(sum - model.score(probability)));
    assert.equal(basePoints, model.score(baseValue));
    // Same sign as the contribution, opposite way: what raises P(bad) costs points.
    for (let i = 0; i < points.length; i++) assert.ok(!(points[i] * contributions[i] > 0));
  }
  assert.ok(worst <= 1e-9, `largest additivity error ${worst}`);
});

Deno.test("the secant's limit is the score's derivative (finite difference)", () => {
  for (const p of [0.05, 0.3, 0.5, 0.8]) {
    const h = 1e-6;
    const numeric = (model.score(p + h) - model.score(p - h)) / (2 * h);
    assert.ok(Math.abs(model.scoreDerivative(p) - numeric) <= 1e-4 * Math.abs(numeric));
    const zeroSum = pointsFromContributions(
      p,
      p,
      [0.1, -0.1],
      (x) => model.score(x),
      (x) => model.scoreDerivative(x),
    );
    assert.equal(zeroSum.slope, model.scoreDerivative(p));
    assert.equal(zeroSum.basePoints, model.score(p));
  }
});

Deno.test("adverse-action reasons are the largest point losses, most costly first", () => {
  let checked = 0;
  for (let r = 0; r < applicants.length; r++) {
    const { probability, baseValue, contributions } = explained[r];
    const { points } = model.points(probability, baseValue, contributions);
    const reasons = adverseActionReasons(applicants[r], points);
    // Brute force: every attribute with its points, sorted by points ascending, losses only.
    const losses = ATTRIBUTES.map((a, i) => ({ name: a.name, points: points[i] }))
      .filter((x) => x.points < 0)
      .sort((a, b) => a.points - b.points)
      .slice(0, 4);
    assert.deepEqual(reasons.map((x) => x.attribute), losses.map((x) => x.name));
    assert.deepEqual(reasons.map((x) => x.points), losses.map((x) => x.points));
    checked += reasons.length;
  }
  assert.ok(checked > 1000);
  const excluded = adverseActionReasons(applicants[0], new Float64Array(20).fill(-1), {
    excluded: new Set(["checking_status"]),
  });
  assert.equal(excluded.length, 4);
  assert.ok(!excluded.some((x) => x.attribute === "checking_status"));
});

Deno.test("adverse-action sentences in English and Spanish", () => {
  const points = new Float64Array(20);
  points[0] = -23.4;
  const [only] = adverseActionReasons({ ...applicants[0], checking_status: "A11" } as Applicant, points);
  assert.deepEqual(only.sentence, {
    en: "Checking account: < 0 DM (\u221223 points)",
    es: "Cuenta corriente: < 0 DM (\u221223 puntos)",
  });
  assert.equal(formatPoints(-0.42), "\u22120.4");
  assert.equal(formatPoints(7.6), "+8");
});

Deno.test("explanations on the worker pool are bit-identical to the main thread's", slow, async () => {
  const pool = new PredictionPool(2);
  try {
    const matrix = model.encoder.transformRecords(applicants);
    const all = await pool.explain(
      serving.sha256,
      { forest: model.forest, players: model.players },
      matrix.data,
      matrix.rows,
    );
    for (let r = 0; r < applicants.length; r++) {
      const main = explained[r].contributions;
      for (let i = 0; i < main.length; i++) {
        assert.ok(
          Object.is(all[r * 20 + i], main[i]),
          `row ${r} attribute ${i}: ${all[r * 20 + i]} vs ${main[i]}`,
        );
      }
    }
    // One row at a time, as /predict sends them.
    const one = await pool.explain(
      serving.sha256,
      { forest: model.forest, players: model.players },
      model.encodeOne(applicants[7]),
      1,
    );
    assert.deepEqual(Array.from(one), Array.from(explained[7].contributions));

    // A batch with explanations through the pool gives the inline batch's reasons.
    const pooled = await scoreRecords(serving, applicants.slice(0, 100), { explain: true, pool });
    const inline = await scoreRecords(serving, applicants.slice(0, 100), { explain: true });
    assert.deepEqual(pooled.reasons, inline.reasons);
    assert.deepEqual(
      inline.reasons![3],
      topContributions(explained[3].contributions, 3),
    );

    // /predict with a pool answers what the main thread computes.
    const app = createApp({ holder, logger: new Logger("off"), pool });
    const withPool = await (await app.request("/predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(applicants[11]),
    })).json();
    const withoutPool = await (await createApp({ holder, logger: new Logger("off") }).request("/predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(applicants[11]),
    })).json();
    for (const key of ["contributions", "points_contributions", "base_points", "reasons", "score", "pd"]) {
      assert.deepEqual(withPool[key], withoutPool[key], key);
    }
    let sum = withPool.base_points;
    for (const v of Object.values(withPool.points_contributions) as number[]) sum += v;
    assert.ok(Math.abs(sum - withPool.score) <= 0.5);
    assert.equal(withPool.decision === "approve", withPool.adverse_action_reasons === undefined);
  } finally {
    pool.close();
  }
});

Deno.test("single rows explained in one turn on the pool each get their own row's values", slow, async () => {
  // They are gathered and sent as one message per worker: a wrong offset when the answer is cut
  // back into requests, or rows of two models mixed, would hand an applicant another's reasons.
  const pool = new PredictionPool(2);
  try {
    const source = { forest: model.forest, players: model.players };
    const picks = Array.from({ length: 41 }, (_, k) => (k * 37) % applicants.length);
    const answers = await Promise.all(picks.map((r, k) =>
      // Two keys (as during a model swap) and a request of 3 rows among the single ones.
      k === 5
        ? pool.explain("b", source, model.encoder.transformRecords(applicants.slice(r, r + 3)).data, 3)
        : pool.explain(k % 2 ? "a" : "b", source, model.encodeOne(applicants[r]), 1)
    ));
    picks.forEach((r, k) => {
      const expected = k === 5
        ? [0, 1, 2].flatMap((d) => Array.from(explained[r + d].contributions))
        : Array.from(explained[r].contributions);
      assert.deepEqual(Array.from(answers[k]), expected, `request ${k} (row ${r})`);
    });
  } finally {
    pool.close();
  }
});

Deno.test(
  "a large explanation sent in chunks comes back in row order, and the caller keeps its rows",
  slow,
  async () => {
    const pool = new PredictionPool(2);
    try {
      // 1,000 rows: chunks of 16 on two workers, answered out of order; a chunk written back at the
      // wrong offset, or rows taken from the caller's buffer, fails here.
      const matrix = model.encoder.transformRecords(applicants);
      const before = matrix.data.slice();
      const source = { forest: model.forest, players: model.players };
      const [all, single] = await Promise.all([
        pool.explain(serving.sha256, source, matrix.data, matrix.rows),
        pool.explain(serving.sha256, source, model.encodeOne(applicants[999]), 1),
      ]);
      assert.deepEqual(matrix.data, before);
      for (const r of [0, 15, 16, 500, 999]) {
        assert.deepEqual(
          Array.from(all.subarray(r * 20, (r + 1) * 20)),
          Array.from(explained[r].contributions),
        );
      }
      assert.deepEqual(Array.from(single), Array.from(explained[999].contributions));
    } finally {
      pool.close();
    }
  },
);

Deno.test("closing the pool in the middle of a large explanation rejects it", slow, async () => {
  // The chunks still to send must not restart workers on a closed pool, nor leave the caller waiting.
  const pool = new PredictionPool(2);
  const matrix = model.encoder.transformRecords(applicants);
  const source = { forest: model.forest, players: model.players };
  const first = await pool.explain(serving.sha256, source, model.encodeOne(applicants[0]), 1); // workers ready
  assert.equal(first.length, 20);
  const pending = pool.explain(serving.sha256, source, matrix.data, matrix.rows);
  await new Promise((resolve) => setTimeout(resolve, 30));
  pool.close();
  await assert.rejects(pending, /closed/);
  await assert.rejects(pool.explain(serving.sha256, source, model.encodeOne(applicants[1]), 1), /closed/);
});
