/**
 * Define-by-run hyper-parameter search in the manner of Optuna: an objective asks its trial for
 * values, a swappable sampler (random or TPE) proposes them, a swappable pruner (median,
 * percentile or none) stops hopeless trials, and a failing trial is recorded while the study
 * goes on. Everything is deterministic for a seed. A {@link FixedTrial} replays chosen values through
 * the same `suggest` code the search ran.
 *
 * @example
 * ```ts
 * import { createStudy, MedianPruner, TPESampler } from "./mod.ts";
 *
 * const study = createStudy({ direction: "minimize", sampler: new TPESampler({ seed: 1 }), pruner: new MedianPruner() });
 * await study.optimize((trial) => {
 *   const x = trial.suggestFloat("x", -10, 10);
 *   return (x - 2) ** 2;
 * }, { nTrials: 30 });
 * console.log(study.bestParams.x);
 * ```
 * @module
 */

export { type BaseTrial } from "./base_trial.ts";
export {
  type CategoricalDistribution,
  type Distribution,
  type FloatDistribution,
  type IntDistribution,
  type NumericOptions,
  type ParamValue,
} from "./distributions.ts";
export { type Direction, type FrozenTrial, type StudyView, type TrialState } from "./frozen_trial.ts";
export { FixedTrial, FixedTrialError } from "./fixed_trial.ts";
export { ParzenEstimator, type ParzenEstimatorOptions } from "./parzen_estimator.ts";
export { MedianPruner, PercentilePruner, type PercentilePrunerOptions } from "./percentile_pruner.ts";
export { NopPruner, type Pruner } from "./pruner.ts";
export { RandomSampler, type RandomSamplerOptions } from "./random_sampler.ts";
export { type Sampler } from "./sampler.ts";
export {
  type Callback,
  createStudy,
  type Objective,
  type OptimizeOptions,
  Study,
  type StudyOptions,
} from "./study.ts";
export { defaultGamma, defaultWeights, TPESampler, type TPESamplerOptions } from "./tpe_sampler.ts";
export { Trial, TrialPruned } from "./trial.ts";
