/**
 * Tree-structured Parzen Estimator sampling with Optuna's defaults: independent (univariate)
 * TPE that splits finished trials into a good "below" group and the rest, fits a Parzen
 * estimator l(x) to the first and g(x) to the second, draws candidates from l and keeps the one
 * maximising log l(x) − log g(x).
 *
 * Pruned trials count as Optuna counts them: they fill the below group only after every
 * complete trial, deepest-reaching and then best last-reported value first. Failed trials are
 * ignored. Only trials that asked for the parameter with the same distribution inform it.
 * @module
 */

import { Random } from "../random.ts";
import { type Distribution, type ParamValue, sameDistribution } from "./distributions.ts";
import { type Direction, type FrozenTrial, lastStep, type StudyView } from "./frozen_trial.ts";
import { ParzenEstimator, type ParzenEstimatorOptions } from "./parzen_estimator.ts";
import { sampleUniform } from "./random_sampler.ts";
import type { Sampler } from "./sampler.ts";

/** Options of {@link TPESampler}; every default is Optuna's. */
export interface TPESamplerOptions {
  /** Seed; equal seeds give equal sequences of values (default 0). */
  seed?: number;
  /** Trials drawn uniformly before the model is used (default 10). */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per suggestion (default 24). */
  nEICandidates?: number;
  /** Size of the below group given the number of finished trials (default {@link defaultGamma}). */
  gamma?: (n: number) => number;
  /** Observation weights, oldest first (default {@link defaultWeights}). */
  weights?: (n: number) => ArrayLike<number>;
  /** Weight of the prior kernel (default 1). */
  priorWeight?: number;
  /** Bound bandwidths below by the "magic clip" (default true). */
  considerMagicClip?: boolean;
  /** Let outermost kernels' bandwidth reach to the range ends (default false). */
  considerEndpoints?: boolean;
}

/** Optuna's default gamma: `min(ceil(0.1·n), 25)` trials are "below". */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's default weights: flat for fewer than 25 trials, else a ramp from 1/n up to 1 then 25 ones. */
export function defaultWeights(n: number): Float64Array {
  const weights = new Float64Array(n).fill(1);
  if (n < 25) return weights;
  const rampLength = n - 25;
  for (let i = 0; i < rampLength; i++) {
    weights[i] = rampLength === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (rampLength - 1);
  }
  return weights;
}

/** Samples each parameter by TPE once `nStartupTrials` trials have finished, uniformly before. */
export class TPESampler implements Sampler {
  readonly #rng: Random;
  readonly #startupRng: Random;
  readonly #nStartupTrials: number;
  readonly #nEICandidates: number;
  readonly #gamma: (n: number) => number;
  readonly #parzenOptions: ParzenEstimatorOptions;

  /** Creates a sampler; see {@link TPESamplerOptions} for the defaults. */
  constructor(options: TPESamplerOptions = {}) {
    const {
      seed = 0,
      nStartupTrials = 10,
      nEICandidates = 24,
      gamma = defaultGamma,
      weights = defaultWeights,
      priorWeight = 1,
      considerMagicClip = true,
      considerEndpoints = false,
    } = options;
    if (!Number.isInteger(nStartupTrials) || nStartupTrials < 0) {
      throw new RangeError(`nStartupTrials must be a non-negative integer, got ${nStartupTrials}`);
    }
    if (!Number.isInteger(nEICandidates) || nEICandidates < 1) {
      throw new RangeError(`nEICandidates must be a positive integer, got ${nEICandidates}`);
    }
    if (!(priorWeight >= 0)) throw new RangeError(`priorWeight must be >= 0, got ${priorWeight}`);
    const root = new Random(seed);
    this.#rng = root.fork();
    this.#startupRng = root.fork();
    this.#nStartupTrials = nStartupTrials;
    this.#nEICandidates = nEICandidates;
    this.#gamma = gamma;
    this.#parzenOptions = { priorWeight, considerMagicClip, considerEndpoints, weights };
  }

  /** A value for `name`: uniform during start-up, then the best of the candidates by l/g. */
  sample(study: StudyView, _trial: FrozenTrial, name: string, distribution: Distribution): ParamValue {
    if (distribution.kind === "categorical" && distribution.choices.length === 1) {
      return distribution.choices[0];
    }
    if (distribution.kind !== "categorical" && distribution.low === distribution.high) {
      return distribution.low;
    }

    const finished = study.getTrials(["complete", "pruned"]);
    if (finished.length < this.#nStartupTrials) return sampleUniform(this.#startupRng, distribution);

    const nBelow = Math.max(0, Math.min(finished.length, Math.floor(this.#gamma(finished.length))));
    const { below, above } = splitTrials(finished, nBelow, study.direction);
    const observed = (trials: FrozenTrial[]) =>
      trials
        .filter((t) => name in t.params && sameDistribution(t.distributions[name], distribution))
        .map((t) => t.params[name]);
    const l = new ParzenEstimator(observed(below), distribution, this.#parzenOptions);
    const g = new ParzenEstimator(observed(above), distribution, this.#parzenOptions);

    const candidates = l.sample(this.#rng, this.#nEICandidates);
    const logL = l.logPdf(candidates);
    const logG = g.logPdf(candidates);
    let best = 0;
    for (let i = 1; i < candidates.length; i++) {
      if (logL[i] - logG[i] > logL[best] - logG[best]) best = i;
    }
    return candidates[best];
  }
}

/**
 * Optuna's split: the `nBelow` best complete trials are "below"; if there are too few, pruned
 * trials that reached further (then with better last values) fill the rest. Both groups keep
 * trial order, which the recency weights rely on.
 */
export function splitTrials(
  trials: readonly FrozenTrial[],
  nBelow: number,
  direction: Direction,
): { below: FrozenTrial[]; above: FrozenTrial[] } {
  const sign = direction === "minimize" ? 1 : -1;
  const loss = (value: number | null | undefined) =>
    value === null || value === undefined || Number.isNaN(value) ? Infinity : sign * value;
  const complete = trials.filter((t) => t.state === "complete")
    .sort((a, b) => loss(a.value) - loss(b.value) || a.number - b.number);
  const pruned = trials.filter((t) => t.state === "pruned").map((trial) => {
    const step = lastStep(trial);
    return step === undefined
      ? { trial, rank: 1, loss: 0 }
      : { trial, rank: -step, loss: loss(trial.intermediateValues.get(step)) };
  }).sort((a, b) => a.rank - b.rank || a.loss - b.loss || a.trial.number - b.trial.number)
    .map((p) => p.trial);

  const ranked = [...complete, ...pruned];
  const byNumber = (a: FrozenTrial, b: FrozenTrial) => a.number - b.number;
  return { below: ranked.slice(0, nBelow).sort(byNumber), above: ranked.slice(nBelow).sort(byNumber) };
}
