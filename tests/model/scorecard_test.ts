import assert from "node:assert/strict";
import {
  DEFAULT_SCORE_SCALE,
  pdFromScore,
  scoreFromPd,
  validateScoreScale,
} from "../../pipeline/model/scorecard.ts";

Deno.test("600 points at 50:1 odds and 20 more points per doubling of the odds", () => {
  assert.ok(Math.abs(scoreFromPd(1 / 51) - 600) < 1e-9);
  assert.ok(Math.abs(scoreFromPd(1 / 101) - 620) < 1e-9);
  assert.ok(Math.abs(scoreFromPd(1 / 26) - 580) < 1e-9);
  assert.ok(scoreFromPd(0.1) > scoreFromPd(0.5));
});

Deno.test("score and PD are inverse, and extreme PDs stay finite", () => {
  for (const pd of [0.01, 0.1, 0.3, 0.5, 0.9]) assert.ok(Math.abs(pdFromScore(scoreFromPd(pd)) - pd) < 1e-12);
  assert.ok(Number.isFinite(scoreFromPd(0)) && Number.isFinite(scoreFromPd(1)));
  const custom = { points: 500, odds: 20, pdo: 50 };
  assert.ok(Math.abs(scoreFromPd(1 / 21, custom) - 500) < 1e-9);
});

Deno.test("invalid scales name the field", () => {
  assert.throws(() => validateScoreScale({ ...DEFAULT_SCORE_SCALE, pdo: 0 }), /pdo must be positive/);
  assert.throws(
    () => validateScoreScale({ ...DEFAULT_SCORE_SCALE, odds: Number.NaN }),
    /odds must be a finite number/,
  );
});
