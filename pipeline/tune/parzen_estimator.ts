/**
 * The Parzen estimator of TPE: a weighted mixture of one kernel per observation plus a broad
 * prior kernel, over a single parameter (independent, univariate TPE as in Optuna's default).
 *
 * Numeric parameters use Gaussian kernels truncated to the range, in log space for log scales;
 * stepped parameters (every int, floats with `step`) give each grid point the kernel mass of its
 * cell `[x − step/2, x + step/2]`. Bandwidths follow Optuna: each kernel's sigma is the larger gap
 * to its neighbours among the sorted observations, prior centre and range ends, clipped by the
 * "magic clip" to `[range / min(100, 1 + kernels), range]`; the prior sits mid-range with
 * sigma = range. Categorical kernels put weight 1 on the observed choice plus `priorWeight / kernels`
 * on every choice, then normalise.
 * @module
 */

import type { Random } from "../random.ts";
import {
  type CategoricalDistribution,
  choiceIndex,
  type Distribution,
  type ParamValue,
  snapToGrid,
} from "./distributions.ts";
import { logSumExp, normalLogPdf, normalMass, truncatedNormalQuantile } from "./truncnorm.ts";

/** How the estimator is built; the defaults live in the TPE sampler. */
export interface ParzenEstimatorOptions {
  /** Weight of the prior kernel relative to the observation weights. */
  priorWeight: number;
  /** Clip bandwidths to `[range / min(100, 1 + kernels), range]` instead of `[1e-12, range]`. */
  considerMagicClip: boolean;
  /** Let the outermost kernels' bandwidth reach to the range ends. */
  considerEndpoints: boolean;
  /** Weight of each observation, oldest first. */
  weights: (n: number) => ArrayLike<number>;
}

const EPS = 1e-12;

/** A density over one parameter built from observed values. */
export class ParzenEstimator {
  readonly #mixtureLogWeights: Float64Array;
  readonly #mixtureCumulative: Float64Array;
  readonly #kernels: Kernels;

  /** Fits the mixture to `observations` (oldest first), each a value of `distribution`. */
  constructor(
    observations: readonly ParamValue[],
    distribution: Distribution,
    options: ParzenEstimatorOptions,
  ) {
    if (!(options.priorWeight >= 0)) {
      throw new RangeError(`priorWeight must be >= 0, got ${options.priorWeight}`);
    }
    const weights = mixtureWeights(observations.length, options);
    this.#mixtureLogWeights = weights.map(Math.log);
    this.#mixtureCumulative = new Float64Array(weights.length);
    let running = 0;
    weights.forEach((w, i) => this.#mixtureCumulative[i] = running += w);
    this.#kernels = distribution.kind === "categorical"
      ? new CategoricalKernels(observations, distribution.choices, options.priorWeight)
      : new NumericKernels(observations as number[], distribution, options);
  }

  /** Draws `count` values: a kernel by weight, then a value from it. */
  sample(rng: Random, count: number): ParamValue[] {
    const values: ParamValue[] = [];
    const total = this.#mixtureCumulative[this.#mixtureCumulative.length - 1];
    for (let i = 0; i < count; i++) {
      const target = rng.next() * total;
      let kernel = 0;
      while (kernel < this.#mixtureCumulative.length - 1 && this.#mixtureCumulative[kernel] <= target) {
        kernel++;
      }
      values.push(this.#kernels.sample(kernel, rng));
    }
    return values;
  }

  /** Log density (log probability for stepped and categorical parameters) of each value. */
  logPdf(values: readonly ParamValue[]): Float64Array {
    const perKernel = new Float64Array(this.#mixtureLogWeights.length);
    return Float64Array.from(values, (value) => {
      for (let k = 0; k < perKernel.length; k++) {
        perKernel[k] = this.#mixtureLogWeights[k] + this.#kernels.logPdf(k, value);
      }
      return logSumExp(perKernel);
    });
  }
}

interface Kernels {
  sample(kernel: number, rng: Random): ParamValue;
  logPdf(kernel: number, value: ParamValue): number;
}

/** Observation weights normalised together with the prior's, prior last. */
function mixtureWeights(n: number, options: ParzenEstimatorOptions): Float64Array {
  if (n === 0) return Float64Array.of(1);
  const raw = options.weights(n);
  if (raw.length < n) throw new RangeError(`weights(${n}) returned only ${raw.length} values`);
  const weights = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    if (!(raw[i] >= 0 && Number.isFinite(raw[i]))) throw new RangeError(`weights(${n}) returned ${raw[i]}`);
    weights[i] = raw[i];
  }
  weights[n] = options.priorWeight;
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new RangeError(`weights(${n}) and priorWeight sum to ${sum}`);
  return weights.map((w) => w / sum);
}

class NumericKernels implements Kernels {
  readonly #mus: Float64Array;
  readonly #sigmas: Float64Array;
  readonly #logMasses: Float64Array;
  readonly #low: number;
  readonly #high: number;
  readonly #step: number | null;
  readonly #toSpace: (x: number) => number;
  readonly #fromSpace: (z: number) => number;
  readonly #lowInSpace: number;
  readonly #highInSpace: number;

  constructor(
    observations: number[],
    distribution: Distribution & { kind: "float" | "int" },
    options: ParzenEstimatorOptions,
  ) {
    this.#low = distribution.low;
    this.#high = distribution.high;
    this.#step = distribution.step;
    this.#toSpace = distribution.log ? Math.log : (x) => x;
    this.#fromSpace = distribution.log ? Math.exp : (z) => z;
    const halfStep = this.#step === null ? 0 : this.#step / 2;
    this.#lowInSpace = this.#toSpace(this.#low - halfStep);
    this.#highInSpace = this.#toSpace(this.#high + halfStep);

    const low = this.#lowInSpace, high = this.#highInSpace;
    const mus = observations.map(this.#toSpace);
    const sigmas = neighbourBandwidths(mus, low, high, options.considerEndpoints);
    const maxSigma = high - low;
    const minSigma = options.considerMagicClip ? (high - low) / Math.min(100, 1 + (mus.length + 1)) : EPS;
    this.#mus = Float64Array.of(...mus, 0.5 * (low + high));
    this.#sigmas = Float64Array.of(...sigmas.map((s) => Math.min(maxSigma, Math.max(minSigma, s))), maxSigma);
    // A degenerate range (low == high) still needs a positive width to stay a density.
    for (let k = 0; k < this.#sigmas.length; k++) this.#sigmas[k] = Math.max(this.#sigmas[k], EPS);
    this.#logMasses = this.#mus.map((mu, k) => this.#logMass(k, low, high, mu));
  }

  sample(kernel: number, rng: Random): number {
    const mu = this.#mus[kernel], sigma = this.#sigmas[kernel];
    const z = truncatedNormalQuantile(
      (this.#lowInSpace - mu) / sigma,
      (this.#highInSpace - mu) / sigma,
      rng.next(),
    );
    const x = this.#fromSpace(mu + sigma * z);
    if (this.#step === null) return Math.min(this.#high, Math.max(this.#low, x));
    return snapToGrid(x, this.#low, this.#high, this.#step);
  }

  logPdf(kernel: number, value: ParamValue): number {
    const x = value as number;
    const mu = this.#mus[kernel], sigma = this.#sigmas[kernel];
    if (this.#step === null) {
      return normalLogPdf((this.#toSpace(x) - mu) / sigma) - Math.log(sigma) - this.#logMasses[kernel];
    }
    const half = this.#step / 2;
    const cellLow = this.#toSpace(x - half), cellHigh = this.#toSpace(x + half);
    return this.#logMass(kernel, cellLow, cellHigh, mu) - this.#logMasses[kernel];
  }

  #logMass(kernel: number, from: number, to: number, mu: number): number {
    const sigma = this.#sigmas[kernel];
    return Math.log(normalMass((from - mu) / sigma, (to - mu) / sigma));
  }
}

/**
 * Optuna's univariate bandwidth: the larger gap from each observation to its sorted neighbours,
 * with the prior centre among them and the range ends as outer neighbours. Without
 * `considerEndpoints` the outermost points look inward only, so one observation near an end does
 * not get a bandwidth as wide as the gap to that end.
 */
function neighbourBandwidths(mus: number[], low: number, high: number, considerEndpoints: boolean): number[] {
  const withPrior = [...mus, 0.5 * (low + high)];
  const order = withPrior.map((_, i) => i).sort((a, b) => withPrior[a] - withPrior[b] || a - b);
  const padded = [low, ...order.map((i) => withPrior[i]), high];
  const sortedSigmas = order.map((_, j) =>
    Math.max(padded[j + 1] - padded[j], padded[j + 2] - padded[j + 1])
  );
  if (!considerEndpoints && padded.length >= 4) {
    sortedSigmas[0] = padded[2] - padded[1];
    sortedSigmas[sortedSigmas.length - 1] = padded[padded.length - 2] - padded[padded.length - 3];
  }
  const sigmas = new Array<number>(withPrior.length);
  order.forEach((original, j) => sigmas[original] = sortedSigmas[j]);
  return sigmas.slice(0, mus.length);
}

class CategoricalKernels implements Kernels {
  readonly #distribution: CategoricalDistribution;
  /** Row per kernel, column per choice; rows sum to one. */
  readonly #probabilities: Float64Array[];

  constructor(observations: readonly ParamValue[], choices: readonly ParamValue[], priorWeight: number) {
    this.#distribution = { kind: "categorical", choices };
    const nChoices = choices.length;
    const nKernels = observations.length + 1;
    const base = observations.length === 0 ? 1 / nChoices : priorWeight / nKernels;
    this.#probabilities = [];
    for (let k = 0; k < nKernels; k++) {
      const row = new Float64Array(nChoices).fill(base);
      if (k < observations.length) row[choiceIndex(this.#distribution, observations[k])] += 1;
      const sum = row.reduce((a, b) => a + b, 0);
      this.#probabilities.push(sum > 0 ? row.map((p) => p / sum) : row.fill(1 / nChoices));
    }
  }

  sample(kernel: number, rng: Random): ParamValue {
    const row = this.#probabilities[kernel];
    let target = rng.next();
    for (let c = 0; c < row.length - 1; c++) {
      target -= row[c];
      if (target < 0) return this.#distribution.choices[c];
    }
    return this.#distribution.choices[row.length - 1];
  }

  logPdf(kernel: number, value: ParamValue): number {
    return Math.log(this.#probabilities[kernel][choiceIndex(this.#distribution, value)]);
  }
}
