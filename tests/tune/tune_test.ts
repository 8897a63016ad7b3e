import assert from "node:assert/strict";
import { Random } from "../../pipeline/random.ts";
import {
  createStudy,
  type FrozenTrial,
  MedianPruner,
  NopPruner,
  ParzenEstimator,
  PercentilePruner,
  RandomSampler,
  type Sampler,
  TPESampler,
  type Trial,
  TrialPruned,
} from "../../pipeline/tune/mod.ts";
import { floatDistribution, intDistribution } from "../../pipeline/tune/distributions.ts";
import { splitTrials } from "../../pipeline/tune/tpe_sampler.ts";
import { erfc, normalCdf, normalQuantile } from "../../pipeline/tune/truncnorm.ts";

const shiftedQuadratic = (trial: Trial) => {
  const x = trial.suggestFloat("x", -10, 10);
  const y = trial.suggestFloat("y", -10, 10);
  return (x - 1.7) ** 2 + (y + 2.3) ** 2;
};

async function meanBest(
  makeSampler: (seed: number) => Sampler,
  seeds: number,
  nTrials: number,
): Promise<number> {
  let total = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const study = createStudy({ direction: "minimize", sampler: makeSampler(seed) });
    await study.optimize(shiftedQuadratic, { nTrials });
    total += study.bestValue;
  }
  return total / seeds;
}

Deno.test("TPE beats random search on a shifted 2-D quadratic, averaged over 10 seeds", async () => {
  const tpe = await meanBest((seed) => new TPESampler({ seed }), 10, 50);
  const random = await meanBest((seed) => new RandomSampler({ seed }), 10, 50);
  assert.ok(tpe < 0.75 * random, `TPE mean best ${tpe} should clearly beat random ${random}`);
});

/** Trials 0–4 learn well; from trial 5 on, odd trials report a curve ten times worse. */
async function runCurves(direction: "minimize" | "maximize", nWarmupSteps: number) {
  const sign = direction === "minimize" ? 1 : -1;
  const study = createStudy({
    direction,
    sampler: new RandomSampler({ seed: 1 }),
    pruner: new MedianPruner({ nWarmupSteps }),
  });
  await study.optimize((trial) => {
    const lagging = trial.number >= 5 && trial.number % 2 === 1;
    let value = 0;
    for (let step = 0; step < 10; step++) {
      value = sign * ((lagging ? 10 : 1) + 1 / (step + 1));
      trial.report(value, step);
      if (trial.shouldPrune()) throw new TrialPruned();
    }
    return value;
  }, { nTrials: 15 });
  return study.trials;
}

Deno.test("MedianPruner prunes clearly worse curves after start-up, in either direction", async () => {
  for (const direction of ["minimize", "maximize"] as const) {
    const trials = await runCurves(direction, 0);
    for (const trial of trials) {
      const lagging = trial.number >= 5 && trial.number % 2 === 1;
      assert.equal(trial.state, lagging ? "pruned" : "complete", `${direction} trial ${trial.number}`);
      if (lagging) {
        assert.equal(trial.intermediateValues.size, 1, "pruned at its first report");
        assert.equal(trial.value, trial.intermediateValues.get(0), "a pruned trial keeps its last report");
      }
    }
  }
});

Deno.test("MedianPruner waits for the warm-up steps", async () => {
  const pruned = (await runCurves("minimize", 3)).filter((t) => t.state === "pruned");
  assert.equal(pruned.length, 5);
  for (const trial of pruned) assert.deepEqual([...trial.intermediateValues.keys()], [0, 1, 2, 3]);
});

Deno.test("MedianPruner is a PercentilePruner at 50 % and NopPruner never prunes", async () => {
  assert.ok(new MedianPruner() instanceof PercentilePruner);
  const study = createStudy({ pruner: new NopPruner(), sampler: new RandomSampler() });
  await study.optimize((trial) => {
    trial.report(trial.number === 0 ? 0 : 1e9, 0);
    assert.equal(trial.shouldPrune(), false);
    return 0;
  }, { nTrials: 8 });
  // The 25th percentile pruner is stricter than the median: 3 of 4 equal-ish curves beat its cutoff.
  const strict = new PercentilePruner(25, { nStartupTrials: 1 });
  const complete = (value: number): FrozenTrial => ({
    number: 0,
    state: "complete",
    params: {},
    distributions: {},
    value,
    intermediateValues: new Map([[0, value]]),
    userAttrs: {},
    startedAt: new Date(),
    durationMs: 0,
  });
  const view = { direction: "minimize" as const, getTrials: () => [1, 2, 3, 4, 5].map(complete) };
  const running = { ...complete(2.5), state: "running" as const };
  assert.equal(strict.prune(view, running), true, "2.5 is worse than the 25th percentile (2)");
  assert.equal(
    new MedianPruner({ nStartupTrials: 1 }).prune(view, running),
    false,
    "2.5 beats the median (3)",
  );
});

Deno.test("a failing trial is recorded as failed and the study goes on", async () => {
  const study = createStudy({ sampler: new RandomSampler({ seed: 3 }) });
  await study.optimize((trial) => {
    const x = trial.suggestFloat("x", 0, 1);
    if (trial.number === 2) throw new Error("fold 3 diverged");
    if (trial.number === 4) return NaN;
    return x;
  }, { nTrials: 6 });
  const states = study.trials.map((t) => t.state);
  assert.deepEqual(states, ["complete", "complete", "failed", "complete", "failed", "complete"]);
  assert.equal(study.trials[2].error, "fold 3 diverged");
  assert.match(study.trials[4].error ?? "", /returned NaN/);
  assert.equal(study.trials[2].value, null);
  assert.equal(study.bestTrial.state, "complete");
  const onlyFailures = createStudy();
  await onlyFailures.optimize(() => {
    throw new Error("boom");
  }, { nTrials: 2 });
  assert.throws(() => onlyFailures.bestTrial, /no complete trial \(2 failed; first error: boom\)/);
});

Deno.test("asking for the same name twice in a trial returns the same value", async () => {
  const study = createStudy({ seed: 5 });
  await study.optimize((trial) => {
    const a = trial.suggestFloat("lr", 1e-3, 1, { log: true });
    assert.equal(trial.suggestFloat("lr", 1e-3, 1, { log: true }), a);
    const c = trial.suggestCategorical("criterion", ["gini", "entropy"]);
    assert.equal(trial.suggestCategorical("criterion", ["gini", "entropy"]), c);
    trial.suggestInt("lr", 1, 10); // a different distribution under the same name is an error
    return a;
  }, { nTrials: 3 });
  assert.ok(study.trials.every((t) => t.state === "failed" && /already suggested/.test(t.error ?? "")));
});

async function paramSequence(seed: number): Promise<unknown[]> {
  const study = createStudy({ seed });
  await study.optimize((trial) => {
    const depth = trial.suggestInt("depth", 2, 32);
    const leaf = trial.suggestInt("minLeaf", 1, 100, { log: true });
    const share = trial.suggestFloat("maxFeatures", 0.1, 1);
    const balance = trial.suggestCategorical("balance", [true, false]);
    return depth / 32 + Math.log(leaf) + (share - 0.4) ** 2 + (balance ? 0 : 1);
  }, { nTrials: 25 });
  return study.trials.map((t) => t.params);
}

Deno.test("a seed fixes the whole sequence of suggested parameters", async () => {
  const first = await paramSequence(42);
  assert.deepEqual(await paramSequence(42), first);
  assert.notDeepEqual(await paramSequence(43), first);
});

Deno.test("timeoutMs stops starting new trials", async () => {
  const study = createStudy({ sampler: new RandomSampler() });
  const start = performance.now();
  await study.optimize(async (trial) => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return trial.suggestFloat("x", 0, 1);
  }, { nTrials: 1000, timeoutMs: 100 });
  const elapsed = performance.now() - start;
  assert.ok(study.trials.length >= 2 && study.trials.length <= 6, `${study.trials.length} trials`);
  assert.ok(elapsed < 400, `took ${elapsed} ms`);
});

Deno.test("callbacks see every finished trial and can stop the study", async () => {
  const seen: number[] = [];
  const study = createStudy({ sampler: new RandomSampler() });
  await study.optimize((trial) => trial.suggestFloat("x", 0, 1), {
    nTrials: 50,
    callbacks: [(s, trial) => {
      seen.push(trial.number);
      if (trial.number === 3) s.stop();
    }],
  });
  assert.deepEqual(seen, [0, 1, 2, 3]);
  assert.equal(study.trials.length, 4);
});

Deno.test("direction maximize finds the maximum", async () => {
  const study = createStudy({ direction: "maximize", seed: 7 });
  await study.optimize((trial) => -((trial.suggestFloat("x", -10, 10) - 3) ** 2), { nTrials: 40 });
  const values = study.trials.map((t) => t.value as number);
  assert.equal(study.bestValue, Math.max(...values));
  assert.ok(Math.abs((study.bestParams.x as number) - 3) < 0.5, `best x ${study.bestParams.x}`);
  // Once the model is in use its proposals lean towards the maximum (uniform: ~5.5, minimising: ~10).
  const lateDistances = study.trials.slice(20).map((t) => Math.abs((t.params.x as number) - 3)).sort((a, b) =>
    a - b
  );
  assert.ok(lateDistances[10] < 4, `median late |x − 3| = ${lateDistances[10]}`);
});

Deno.test("user attributes and pruned-without-report trials are recorded", async () => {
  const study = createStudy({ sampler: new RandomSampler() });
  await study.optimize((trial) => {
    trial.setUserAttr("threshold", 0.3);
    trial.setUserAttr("folds", [0.7, 0.72]);
    if (trial.number === 1) throw new TrialPruned();
    return 1;
  }, { nTrials: 2 });
  assert.deepEqual(study.trials[0].userAttrs, { threshold: 0.3, folds: [0.7, 0.72] });
  assert.equal(study.trials[1].state, "pruned");
  assert.equal(study.trials[1].value, null);
  assert.ok(study.trials[0].startedAt instanceof Date && study.trials[0].durationMs >= 0);
});

Deno.test("TPE keeps log-scale, stepped and categorical suggestions in range", async () => {
  const choices = ["a", 1, true, null] as const;
  const study = createStudy({ sampler: new TPESampler({ seed: 8, nStartupTrials: 5 }) });
  await study.optimize((trial) => {
    const lr = trial.suggestFloat("lr", 1e-4, 1, { log: true });
    const leaves = trial.suggestInt("leaves", 1, 1000, { log: true });
    const trees = trial.suggestInt("trees", 0, 100, { step: 5 });
    const share = trial.suggestFloat("share", 0, 2, { step: 0.25 });
    const choice = trial.suggestCategorical("choice", choices);
    assert.ok(lr >= 1e-4 && lr <= 1, `lr ${lr}`);
    assert.ok(Number.isInteger(leaves) && leaves >= 1 && leaves <= 1000, `leaves ${leaves}`);
    assert.ok(trees % 5 === 0 && trees >= 0 && trees <= 100, `trees ${trees}`);
    assert.ok(Number.isInteger(share / 0.25) && share >= 0 && share <= 2, `share ${share}`);
    assert.ok(choices.includes(choice));
    return Math.abs(Math.log10(lr) + 2) + Math.abs(Math.log10(leaves) - 1) + (choice === null ? 0 : 1);
  }, { nTrials: 40 });
  assert.equal(study.trials.filter((t) => t.state === "complete").length, 40);
  const late = study.trials.slice(20).filter((t) => t.params.choice === null).length;
  assert.ok(late >= 10, `TPE should favour the best choice late on, chose it ${late}/20 times`);
});

Deno.test("log-scale sampling is uniform in the logarithm", async () => {
  const study = createStudy({ sampler: new RandomSampler({ seed: 2 }) });
  await study.optimize((trial) => trial.suggestFloat("lr", 1e-4, 1, { log: true }), { nTrials: 400 });
  const belowHundredth = study.trials.filter((t) => (t.params.lr as number) < 1e-2).length / 400;
  assert.ok(belowHundredth > 0.4 && belowHundredth < 0.6, `share below 1e-2: ${belowHundredth}`);
});

Deno.test("Parzen estimator densities integrate to one", () => {
  const options = {
    priorWeight: 1,
    considerMagicClip: true,
    considerEndpoints: false,
    weights: (n: number) => new Float64Array(n).fill(1),
  };
  const continuous = new ParzenEstimator([0.2, 0.25, 0.9], floatDistribution("x", 0, 1), options);
  const grid = Array.from({ length: 20001 }, (_, i) => i / 20000);
  const densities = continuous.logPdf(grid).map(Math.exp);
  let area = 0;
  for (let i = 1; i < grid.length; i++) area += (densities[i] + densities[i - 1]) / 2 / 20000;
  assert.ok(Math.abs(area - 1) < 1e-4, `continuous area ${area}`);

  const logInt = new ParzenEstimator([3, 40, 41], intDistribution("n", 1, 500, { log: true }), options);
  const ints = Array.from({ length: 500 }, (_, i) => i + 1);
  const mass = logInt.logPdf(ints).reduce((sum, lp) => sum + Math.exp(lp), 0);
  assert.ok(Math.abs(mass - 1) < 1e-9, `log-int mass ${mass}`);

  const samples = logInt.sample(new Random(1), 200) as number[];
  assert.ok(samples.every((v) => Number.isInteger(v) && v >= 1 && v <= 500));
});

Deno.test("splitTrials ranks complete trials first, then pruned ones by depth", () => {
  const make = (
    number: number,
    state: "complete" | "pruned",
    value: number | null,
    steps: number[],
  ): FrozenTrial => ({
    number,
    state,
    params: {},
    distributions: {},
    value,
    intermediateValues: new Map(steps.map((s) => [s, value ?? 0])),
    userAttrs: {},
    startedAt: new Date(),
    durationMs: 0,
  });
  const trials = [
    make(0, "complete", 5, []),
    make(1, "pruned", 9, [0]),
    make(2, "complete", 1, []),
    make(3, "pruned", 7, [0, 1]),
  ];
  const { below, above } = splitTrials(trials, 3, "minimize");
  assert.deepEqual(below.map((t) => t.number), [0, 2, 3]);
  assert.deepEqual(above.map((t) => t.number), [1]);
  assert.deepEqual(splitTrials(trials, 1, "maximize").below.map((t) => t.number), [0]);
});

Deno.test("normal tail helpers are accurate", () => {
  assert.ok(Math.abs(erfc(1) - 0.15729920705028513) < 1e-15);
  assert.ok(Math.abs(erfc(5) / 1.5374597944280349e-12 - 1) < 1e-12);
  for (const p of [1e-12, 0.01, 0.3, 0.5, 0.97, 0.999]) {
    assert.ok(Math.abs(normalCdf(normalQuantile(p)) / p - 1) < 1e-10, `quantile of ${p}`);
  }
});
