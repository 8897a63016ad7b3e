/**
 * What an objective may ask of a trial, whoever made it: the study's live {@link Trial} or a
 * {@link FixedTrial} replaying chosen values. Code that suggests hyperparameters takes this type, so
 * the same code serves both the search and the replay.
 * @module
 */

import type { Distribution, NumericOptions, ParamValue } from "./distributions.ts";

/** The trial interface shared by live and fixed trials (Optuna's `BaseTrial`). */
export interface BaseTrial {
  /** Zero-based position in the study. */
  readonly number: number;
  /** A float in `[low, high]`, optionally log-scaled or on a grid of `step`. */
  suggestFloat(name: string, low: number, high: number, options?: NumericOptions): number;
  /** An integer in `[low, high]` on the grid `low + k·step`, optionally log-scaled. */
  suggestInt(name: string, low: number, high: number, options?: NumericOptions): number;
  /** One of `choices`. */
  suggestCategorical<T extends ParamValue>(name: string, choices: readonly T[]): T;
  /** Records an intermediate objective value at `step`. */
  report(value: number, step: number): void;
  /** Whether the objective should give up on this trial. */
  shouldPrune(): boolean;
  /** Attaches context to the trial record. */
  setUserAttr(key: string, value: unknown): void;
  /** Values suggested so far. */
  readonly params: Record<string, ParamValue>;
  /** Distributions asked for so far. */
  readonly distributions: Record<string, Distribution>;
  /** Attributes set with `setUserAttr`. */
  readonly userAttrs: Record<string, unknown>;
}
