/**
 * The live trial handed to an objective: define-by-run, so the search space is whatever the
 * objective asks for, in the order it asks.
 * @module
 */

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
import type { BaseTrial } from "./base_trial.ts";
import type { FrozenTrial, StudyView } from "./frozen_trial.ts";
import type { Pruner } from "./pruner.ts";
import type { Sampler } from "./sampler.ts";

/** Throw from an objective to end the trial as pruned (after `trial.shouldPrune()` says so). */
export class TrialPruned extends Error {
  /** Creates the signal; the message is kept for logs only. */
  constructor(message = "trial pruned") {
    super(message);
    this.name = "TrialPruned";
  }
}

/** What a trial needs from its study. */
export interface TrialContext {
  study: StudyView;
  sampler: Sampler;
  pruner: Pruner;
}

/** One evaluation of the objective; created by the study, never by hand. */
export class Trial implements BaseTrial {
  /** Zero-based position in the study. */
  readonly number: number;
  /** When the study started this trial. */
  readonly startedAt: Date = new Date();
  readonly #context: TrialContext;
  readonly #params: Record<string, ParamValue> = {};
  readonly #distributions: Record<string, Distribution> = {};
  readonly #intermediateValues = new Map<number, number>();
  readonly #userAttrs: Record<string, unknown> = {};
  #relativeParams: Record<string, ParamValue> | undefined;

  /** Binds trial `number` to its study's sampler and pruner. */
  constructor(number: number, context: TrialContext) {
    this.number = number;
    this.#context = context;
  }

  /** A float in `[low, high]`, optionally log-scaled or on a grid of `step`. */
  suggestFloat(name: string, low: number, high: number, options: NumericOptions = {}): number {
    return this.#suggest(name, floatDistribution(name, low, high, options)) as number;
  }

  /** An integer in `[low, high]` on the grid `low + k·step`, optionally log-scaled. */
  suggestInt(name: string, low: number, high: number, options: NumericOptions = {}): number {
    return this.#suggest(name, intDistribution(name, low, high, options)) as number;
  }

  /** One of `choices`. */
  suggestCategorical<T extends ParamValue>(name: string, choices: readonly T[]): T {
    return this.#suggest(name, categoricalDistribution(name, choices)) as T;
  }

  /** Records the objective's intermediate `value` at `step`; a repeated step keeps its first value. */
  report(value: number, step: number): void {
    if (typeof value !== "number") throw new TypeError(`report: value must be a number, got ${typeof value}`);
    if (!Number.isInteger(step) || step < 0) {
      throw new RangeError(`report: step must be an integer >= 0, got ${step}`);
    }
    if (!this.#intermediateValues.has(step)) this.#intermediateValues.set(step, value);
  }

  /** Asks the study's pruner whether to give up on this trial; throw {@link TrialPruned} if so. */
  shouldPrune(): boolean {
    return this.#context.pruner.prune(this.#context.study, this.snapshot());
  }

  /** Attaches context to the trial record, e.g. per-fold metrics or the chosen threshold. */
  setUserAttr(key: string, value: unknown): void {
    this.#userAttrs[key] = value;
  }

  /** Attributes set with {@link Trial.setUserAttr}. */
  get userAttrs(): Record<string, unknown> {
    return { ...this.#userAttrs };
  }

  /** Values suggested so far. */
  get params(): Record<string, ParamValue> {
    return { ...this.#params };
  }

  /** Distributions asked for so far. */
  get distributions(): Record<string, Distribution> {
    return { ...this.#distributions };
  }

  /** Values reported so far, by step. */
  get intermediateValues(): Map<number, number> {
    return new Map(this.#intermediateValues);
  }

  /** The trial as recorded so far; `state` "running" until the study finishes it. */
  snapshot(): FrozenTrial {
    return {
      number: this.number,
      state: "running",
      params: this.params,
      distributions: this.distributions,
      value: null,
      intermediateValues: this.intermediateValues,
      userAttrs: this.userAttrs,
      startedAt: this.startedAt,
      durationMs: 0,
    };
  }

  #suggest(name: string, distribution: Distribution): ParamValue {
    if (name in this.#params) {
      if (!sameDistribution(this.#distributions[name], distribution)) {
        throw new RangeError(`${name} was already suggested in this trial with a different range or choices`);
      }
      return this.#params[name];
    }
    const { sampler, study } = this.#context;
    this.#relativeParams ??= sampler.sampleRelative?.(study, this.snapshot()) ?? {};
    const relative = this.#relativeParams[name];
    const value = relative !== undefined && containsValue(distribution, relative)
      ? relative
      : sampler.sample(study, this.snapshot(), name, distribution);
    if (!containsValue(distribution, value)) {
      throw new RangeError(`sampler proposed ${value} for ${name}, outside its distribution`);
    }
    this.#params[name] = value;
    this.#distributions[name] = distribution;
    return value;
  }
}
