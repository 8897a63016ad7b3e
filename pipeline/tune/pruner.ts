/**
 * The pruner contract, and the pruner that never prunes.
 * @module
 */

import type { FrozenTrial, StudyView } from "./frozen_trial.ts";

/** Decides from its intermediate values whether a running trial should stop early. */
export interface Pruner {
  /** True when `trial` (running, as reported so far) should be abandoned. */
  prune(study: StudyView, trial: FrozenTrial): boolean;
}

/** Never prunes; the default, so `shouldPrune()` is safe to call in every objective. */
export class NopPruner implements Pruner {
  /** Always false. */
  prune(_study: StudyView, _trial: FrozenTrial): boolean {
    return false;
  }
}
