/**
 * Percentile pruning as in Optuna: stop a trial whose best reported value so far is worse than
 * a given percentile of the complete trials' values at the same step. The median pruner is this
 * pruner at 50 %.
 * @module
 */

import { type Direction, type FrozenTrial, lastStep, type StudyView } from "./frozen_trial.ts";
import type { Pruner } from "./pruner.ts";

/** Options shared by {@link PercentilePruner} and {@link MedianPruner}. */
export interface PercentilePrunerOptions {
  /** No pruning until this many trials are complete (default 5). */
  nStartupTrials?: number;
  /** No pruning before this step of a trial (default 0). */
  nWarmupSteps?: number;
  /** Prune only at the first report of every `intervalSteps` steps after warm-up (default 1). */
  intervalSteps?: number;
  /** No pruning at a step reported by fewer complete trials than this (default 1). */
  nMinTrials?: number;
}

/**
 * Prunes when the trial's best intermediate value so far is worse than the `percentile`-th best
 * of the complete trials' values at the trial's latest step (direction-aware; linear
 * interpolation as numpy). A trial that reported only NaN is pruned.
 */
export class PercentilePruner implements Pruner {
  readonly #percentile: number;
  readonly #nStartupTrials: number;
  readonly #nWarmupSteps: number;
  readonly #intervalSteps: number;
  readonly #nMinTrials: number;

  /** `percentile` in [0, 100]: 25 keeps only trials in the best quarter. */
  constructor(percentile: number, options: PercentilePrunerOptions = {}) {
    const { nStartupTrials = 5, nWarmupSteps = 0, intervalSteps = 1, nMinTrials = 1 } = options;
    if (!(percentile >= 0 && percentile <= 100)) {
      throw new RangeError(`percentile must lie in [0, 100], got ${percentile}`);
    }
    requireInteger("nStartupTrials", nStartupTrials, 0);
    requireInteger("nWarmupSteps", nWarmupSteps, 0);
    requireInteger("intervalSteps", intervalSteps, 1);
    requireInteger("nMinTrials", nMinTrials, 1);
    this.#percentile = percentile;
    this.#nStartupTrials = nStartupTrials;
    this.#nWarmupSteps = nWarmupSteps;
    this.#intervalSteps = intervalSteps;
    this.#nMinTrials = nMinTrials;
  }

  /** True when the trial lags the percentile of complete trials at its latest step. */
  prune(study: StudyView, trial: FrozenTrial): boolean {
    const complete = study.getTrials(["complete"]);
    if (complete.length === 0 || complete.length < this.#nStartupTrials) return false;
    const step = lastStep(trial);
    if (step === undefined || step < this.#nWarmupSteps) return false;
    if (!this.#isFirstReportInInterval(step, trial)) return false;

    const best = bestIntermediateValue(trial, study.direction);
    if (Number.isNaN(best)) return true;
    const atStep = complete
      .map((t) => t.intermediateValues.get(step))
      .filter((v): v is number => v !== undefined && !Number.isNaN(v));
    if (atStep.length < this.#nMinTrials) return false;
    // "Worse than the p-th best" is below the (100 − p)-th percentile when larger is better.
    const q = study.direction === "maximize" ? 100 - this.#percentile : this.#percentile;
    const cutoff = percentile(atStep, q);
    return study.direction === "maximize" ? best < cutoff : best > cutoff;
  }

  /** Prunes once per interval, at the first step reported in it, as Optuna does. */
  #isFirstReportInInterval(step: number, trial: FrozenTrial): boolean {
    const intervalStart =
      Math.floor((step - this.#nWarmupSteps) / this.#intervalSteps) * this.#intervalSteps +
      this.#nWarmupSteps;
    const steps = [...trial.intermediateValues.keys()].sort((a, b) => a - b);
    const previousStep = steps.length >= 2 ? steps[steps.length - 2] : -1;
    return previousStep < intervalStart;
  }
}

/** The median pruner: a {@link PercentilePruner} at 50 %. */
export class MedianPruner extends PercentilePruner {
  /** Creates a median pruner; see {@link PercentilePrunerOptions} for the defaults. */
  constructor(options: PercentilePrunerOptions = {}) {
    super(50, options);
  }
}

function bestIntermediateValue(trial: FrozenTrial, direction: Direction): number {
  const values = [...trial.intermediateValues.values()].filter((v) => !Number.isNaN(v));
  if (values.length === 0) return NaN;
  return direction === "maximize" ? Math.max(...values) : Math.min(...values);
}

/** The q-th percentile with linear interpolation between order statistics (numpy's default). */
function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (q / 100) * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

function requireInteger(name: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(`${name} must be an integer of at least ${minimum}, got ${value}`);
  }
}
