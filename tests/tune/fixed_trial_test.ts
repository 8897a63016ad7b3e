import assert from "node:assert/strict";
import {
  type BaseTrial,
  createStudy,
  FixedTrial,
  FixedTrialError,
  TPESampler,
} from "../../pipeline/tune/mod.ts";

/** An objective with every kind of suggestion and a conditional one, as training's search space has. */
function objective(trial: BaseTrial): number {
  const useDepth = trial.suggestCategorical("use_depth", [true, false]);
  const depth = useDepth ? trial.suggestInt("depth", 2, 12, { step: 2 }) : 0;
  const leaf = trial.suggestInt("leaf", 1, 64, { log: true });
  const rate = trial.suggestFloat("rate", 1e-3, 1, { log: true });
  const share = trial.suggestFloat("share", 0, 1, { step: 0.25 });
  const kind = trial.suggestCategorical("kind", ["a", "b", 3, null]);
  trial.report(depth, 0);
  if (trial.shouldPrune()) throw new Error("a fixed trial never prunes");
  return (depth - 6) ** 2 + Math.log(leaf) + (Math.log10(rate) + 2) ** 2 + share + (kind === "b" ? 0 : 1);
}

Deno.test("a fixed trial replays a study's best parameters through the same objective to the same value", async () => {
  const study = createStudy({ direction: "minimize", sampler: new TPESampler({ seed: 3 }) });
  await study.optimize(objective, { nTrials: 40 });
  for (const trial of study.trials.filter((t) => t.state === "complete")) {
    const fixed = new FixedTrial(trial.params, trial.number);
    assert.equal(objective(fixed), trial.value, `trial ${trial.number}`);
    assert.deepEqual(fixed.params, trial.params);
    assert.deepEqual(fixed.distributions, trial.distributions);
    assert.equal(fixed.number, trial.number);
  }
  assert.equal(objective(new FixedTrial(study.bestParams)), study.bestValue);
});

Deno.test("a fixed trial returns the given values, records what was asked, and ignores what was not", () => {
  const trial = new FixedTrial({ use_depth: false, depth: 4, leaf: 8, rate: 0.01, share: 0.5, kind: null });
  // By hand: depth 0 (not asked), ln 8, (log10 0.01 + 2)² = 0, share 0.5, kind ≠ "b" adds 1.
  assert.equal(objective(trial), 36 + Math.log(8) + 0 + 0.5 + 1);
  assert.deepEqual(Object.keys(trial.params), ["use_depth", "leaf", "rate", "share", "kind"]);
  assert.deepEqual(trial.distributions.leaf, { kind: "int", low: 1, high: 64, log: true, step: 1 });
  assert.deepEqual([...trial.intermediateValues], [[0, 0]]);
  assert.equal(trial.shouldPrune(), false);
  trial.setUserAttr("note", 1);
  assert.deepEqual(trial.userAttrs, { note: 1 });
  // Asking twice for the same name and range gives the same value; another range is refused.
  assert.equal(trial.suggestInt("leaf", 1, 64, { log: true }), 8);
  assert.throws(() => trial.suggestInt("leaf", 1, 32), /leaf was already suggested .* different range/);
});

Deno.test("a missing parameter is named, with the parameters that were given", () => {
  const error = (() => {
    try {
      objective(new FixedTrial({ use_depth: true, leaf: 2, rate: 0.1, share: 0, kind: "a" }));
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof FixedTrialError);
  assert.equal(error.param, "depth");
  assert.equal(
    error.message,
    'no value for parameter "depth" in the fixed trial (given: use_depth, leaf, rate, share, kind)',
  );
  assert.throws(() => new FixedTrial({}).suggestFloat("x", 0, 1), /"x" .*\(given: none\)/);
});

Deno.test("a value outside its distribution is named with the distribution", () => {
  const cases: [Record<string, unknown>, (t: FixedTrial) => unknown, RegExp][] = [
    [
      { d: 13 },
      (t) => t.suggestInt("d", 2, 12),
      /"d" = 13 is outside its distribution: an integer in \[2, 12\]/,
    ],
    [{ d: 5 }, (t) => t.suggestInt("d", 2, 12, { step: 2 }), /"d" = 5 .* an integer in \[2, 12\], step 2/],
    [{ d: 2.5 }, (t) => t.suggestInt("d", 2, 12), /"d" = 2.5 is outside/],
    [{ d: "3" }, (t) => t.suggestInt("d", 2, 12), /"d" = "3" is outside/],
    [
      { r: 2 },
      (t) => t.suggestFloat("r", 1e-3, 1, { log: true }),
      /"r" = 2 .* a number in \[0.001, 1\], log scale/,
    ],
    [{ r: 0.3 }, (t) => t.suggestFloat("r", 0, 1, { step: 0.25 }), /"r" = 0.3 .* step 0.25/],
    [{ r: null }, (t) => t.suggestFloat("r", 0, 1), /"r" = null is outside/],
    [{ k: "c" }, (t) => t.suggestCategorical("k", ["a", "b"]), /"k" = "c" .* one of "a", "b"/],
    [{ k: "true" }, (t) => t.suggestCategorical("k", [true, false]), /"k" = "true" .* one of true, false/],
  ];
  for (const [params, ask, message] of cases) {
    const trial = new FixedTrial(params as Record<string, never>);
    assert.throws(
      () => ask(trial),
      (e) => e instanceof FixedTrialError && message.test(e.message),
      String(message),
    );
  }
  // The boundaries themselves are inside.
  assert.equal(new FixedTrial({ d: 12 }).suggestInt("d", 2, 12, { step: 2 }), 12);
  assert.equal(new FixedTrial({ r: 1e-3 }).suggestFloat("r", 1e-3, 1, { log: true }), 1e-3);
});
