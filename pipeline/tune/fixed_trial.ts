/**
 * A trial that suggests given values, as Optuna's `FixedTrial` does: run an objective, or the code
 * that turns suggestions into a configuration, on chosen parameters (a study's best, a run's
 * record) through the very same `suggest` calls the search made, instead of decoding them a
 * second way. Every value is checked against the distribution it is asked for.
 * @module
 */

import type { BaseTrial } from "./base_trial.ts";
import {
  categoricalDistribution,
  containsValue,
  type Distribution,
  floatDistribution,
  intDistribution,
  type NumericOptions,
  type ParamValue,
  sameDistribution,
} from "./distributions.ts";

/** A parameter a fixed trial was asked for but cannot give: missing, or outside its distribution. */
export class FixedTrialError extends Error {
  /** Names the parameter in `message` and keeps it in `param`. */
  constructor(readonly param: string, message: string) {
    super(message);
    this.name = "FixedTrialError";
  }
}

/** A trial whose suggestions are the given `params`; reporting is recorded, pruning never happens. */
export class FixedTrial implements BaseTrial {
  /** The number it reports (0 unless given). */
  readonly number: number;
  readonly #given: Readonly<Record<string, ParamValue>>;
  readonly #params: Record<string, ParamValue> = {};
  readonly #distributions: Record<string, Distribution> = {};
  readonly #intermediateValues = new Map<number, number>();
  readonly #userAttrs: Record<string, unknown> = {};

  /** A trial that answers each suggestion with `params[name]`. */
  constructor(params: Readonly<Record<string, ParamValue>>, number = 0) {
    this.#given = { ...params };
    this.number = number;
  }

  /** The given float; throws {@link FixedTrialError} when it is missing or outside `[low, high]`. */
  suggestFloat(name: string, low: number, high: number, options: NumericOptions = {}): number {
    return this.#suggest(name, floatDistribution(name, low, high, options)) as number;
  }

  /** The given integer; throws {@link FixedTrialError} when it is missing, off the grid or outside `[low, high]`. */
  suggestInt(name: string, low: number, high: number, options: NumericOptions = {}): number {
    return this.#suggest(name, intDistribution(name, low, high, options)) as number;
  }

  /** The given choice; throws {@link FixedTrialError} when it is missing or not one of `choices`. */
  suggestCategorical<T extends ParamValue>(name: string, choices: readonly T[]): T {
    return this.#suggest(name, categoricalDistribution(name, choices)) as T;
  }

  /** Records `value` at `step` (the first value of a step is kept), as a live trial does. */
  report(value: number, step: number): void {
    if (!this.#intermediateValues.has(step)) this.#intermediateValues.set(step, value);
  }

  /** Never: a fixed trial has no study to compare with. */
  shouldPrune(): boolean {
    return false;
  }

  /** Attaches context to the trial. */
  setUserAttr(key: string, value: unknown): void {
    this.#userAttrs[key] = value;
  }

  /** Values suggested so far (given values never asked for are not included). */
  get params(): Record<string, ParamValue> {
    return { ...this.#params };
  }

  /** Distributions asked for so far. */
  get distributions(): Record<string, Distribution> {
    return { ...this.#distributions };
  }

  /** Attributes set with {@link FixedTrial.setUserAttr}. */
  get userAttrs(): Record<string, unknown> {
    return { ...this.#userAttrs };
  }

  /** Values reported so far, by step. */
  get intermediateValues(): Map<number, number> {
    return new Map(this.#intermediateValues);
  }

  #suggest(name: string, distribution: Distribution): ParamValue {
    if (name in this.#distributions && !sameDistribution(this.#distributions[name], distribution)) {
      throw new RangeError(`${name} was already suggested in this trial with a different range or choices`);
    }
    if (!Object.hasOwn(this.#given, name)) {
      const given = Object.keys(this.#given);
      throw new FixedTrialError(
        name,
        `no value for parameter "${name}" in the fixed trial (given: ${
          given.length ? given.join(", ") : "none"
        })`,
      );
    }
    const value = this.#given[name];
    if (!containsValue(distribution, value)) {
      throw new FixedTrialError(
        name,
        `parameter "${name}" = ${JSON.stringify(value)} is outside its distribution: ${
          describe(distribution)
        }`,
      );
    }
    this.#params[name] = value;
    this.#distributions[name] = distribution;
    return value;
  }
}

/** A distribution in words, for error messages. */
function describe(distribution: Distribution): string {
  if (distribution.kind === "categorical") {
    return `one of ${distribution.choices.map((c) => JSON.stringify(c)).join(", ")}`;
  }
  const scale = distribution.log ? ", log scale" : "";
  const step = distribution.step !== null && distribution.step !== 1 ? `, step ${distribution.step}` : "";
  const kind = distribution.kind === "int" ? "an integer" : "a number";
  return `${kind} in [${distribution.low}, ${distribution.high}]${step}${scale}`;
}
