/**
 * Uniform random search: the baseline every smarter sampler must beat, and TPE's start-up phase.
 * @module
 */

import { Random } from "../random.ts";
import { type Distribution, type ParamValue, snapToGrid } from "./distributions.ts";
import type { Sampler } from "./sampler.ts";

/** Options of {@link RandomSampler}. */
export interface RandomSamplerOptions {
  /** Seed; equal seeds give equal sequences of values (default 0). */
  seed?: number;
}

/** Draws every parameter independently and uniformly (log-uniformly on log scales). */
export class RandomSampler implements Sampler {
  #rng: Random;

  /** Creates a sampler seeded with `options.seed`. */
  constructor(options: RandomSamplerOptions = {}) {
    this.#rng = new Random(options.seed ?? 0);
  }

  /** A uniform draw from `distribution`. */
  sample(_study: unknown, _trial: unknown, _name: string, distribution: Distribution): ParamValue {
    return sampleUniform(this.#rng, distribution);
  }
}

/** A uniform draw from `distribution` using `rng`. */
export function sampleUniform(rng: Random, distribution: Distribution): ParamValue {
  if (distribution.kind === "categorical") return distribution.choices[rng.int(distribution.choices.length)];
  const { low, high, log } = distribution;
  if (distribution.kind === "int" && log) {
    // Widening by half a unit gives the end points the same log-width as inner integers.
    const x = Math.exp(rng.uniform(Math.log(low - 0.5), Math.log(high + 0.5)));
    return Math.min(high, Math.max(low, Math.round(x)));
  }
  if (log) return Math.min(high, Math.exp(rng.uniform(Math.log(low), Math.log(high))));
  if (distribution.step === null) return rng.uniform(low, high);
  const gridPoints = Math.round((high - low) / distribution.step) + 1;
  return snapToGrid(low + rng.int(gridPoints) * distribution.step, low, high, distribution.step);
}
