/**
 * The sampler contract: one object whose one job is to propose a value for a parameter.
 * @module
 */

import type { Distribution, ParamValue } from "./distributions.ts";
import type { FrozenTrial, StudyView } from "./frozen_trial.ts";

/** Proposes parameter values; swap implementations without touching the objective. */
export interface Sampler {
  /** A value for `name` drawn from `distribution`, given the study so far. */
  sample(study: StudyView, trial: FrozenTrial, name: string, distribution: Distribution): ParamValue;
  /** Optional joint proposal, made at a trial's first suggestion; values outside the asked distribution are ignored. */
  sampleRelative?(study: StudyView, trial: FrozenTrial): Record<string, ParamValue>;
}
