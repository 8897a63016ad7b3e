/**
 * The read-only record of a trial and the view of a study that samplers and pruners are given,
 * kept apart from the live `Trial` so they cannot change what the objective asked for.
 * @module
 */

import type { Distribution, ParamValue } from "./distributions.ts";

/** Whether the study looks for the smallest or the largest objective value. */
export type Direction = "minimize" | "maximize";

/** Lifecycle of a trial; only the running one is not yet in `study.trials`. */
export type TrialState = "running" | "complete" | "pruned" | "failed";

/** Everything recorded about one trial. */
export interface FrozenTrial {
  /** Zero-based position in the study. */
  number: number;
  state: TrialState;
  /** Suggested values by parameter name, in the order they were asked for. */
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  /** Objective value; for a pruned trial its last reported value; null when failed or running. */
  value: number | null;
  /** Values passed to `trial.report`, by step. */
  intermediateValues: Map<number, number>;
  userAttrs: Record<string, unknown>;
  startedAt: Date;
  /** Wall time of the objective; 0 while running. */
  durationMs: number;
  /** Message of what made the trial fail. */
  error?: string;
}

/** What samplers and pruners may read from a study. */
export interface StudyView {
  readonly direction: Direction;
  /** Finished trials in order, optionally only those in `states`. */
  getTrials(states?: readonly TrialState[]): FrozenTrial[];
}

/** The step of the latest report, or undefined when nothing was reported. */
export function lastStep(trial: FrozenTrial): number | undefined {
  let last: number | undefined;
  for (const step of trial.intermediateValues.keys()) if (last === undefined || step > last) last = step;
  return last;
}
