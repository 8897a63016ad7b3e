/**
 * A study runs trials of an objective one after another, records each as complete, pruned or
 * failed, and keeps going when one fails.
 * @module
 */

import type { ParamValue } from "./distributions.ts";
import type { Direction, FrozenTrial, StudyView, TrialState } from "./frozen_trial.ts";
import { NopPruner, type Pruner } from "./pruner.ts";
import type { Sampler } from "./sampler.ts";
import { TPESampler } from "./tpe_sampler.ts";
import { Trial, TrialPruned } from "./trial.ts";

/** The function under optimisation; throw {@link TrialPruned} to stop a trial early. */
export type Objective = (trial: Trial) => number | Promise<number>;

/** Called after every finished trial, e.g. to log it or to call `study.stop()`. */
export type Callback = (study: Study, trial: FrozenTrial) => void;

/** Options of {@link createStudy}. */
export interface StudyOptions {
  /** Default "minimize". */
  direction?: Direction;
  /** Default a {@link TPESampler} seeded with `seed`. */
  sampler?: Sampler;
  /** Default a {@link NopPruner}. */
  pruner?: Pruner;
  /** Seed of the default sampler (default 0); ignored when `sampler` is given. */
  seed?: number;
  /** A label for logs and records. */
  studyName?: string;
}

/** Options of {@link Study.optimize}. */
export interface OptimizeOptions {
  /** Trials to run; at least one of `nTrials` and `timeoutMs` is required. */
  nTrials?: number;
  /** No trial starts after this many milliseconds; a running trial is not interrupted. */
  timeoutMs?: number;
  /** Called in order after each trial. */
  callbacks?: Callback[];
}

/** Creates a study; with no sampler it uses TPE seeded by `seed`, with no pruner none. */
export function createStudy(options: StudyOptions = {}): Study {
  return new Study(options);
}

/** A sequence of trials of one objective, with one sampler and one pruner. */
export class Study implements StudyView {
  /** Whether smaller or larger objective values are better. */
  readonly direction: Direction;
  /** Proposes every parameter value. */
  readonly sampler: Sampler;
  /** Decides when a trial stops early. */
  readonly pruner: Pruner;
  /** Label for logs and records. */
  readonly studyName: string;
  readonly #trials: FrozenTrial[] = [];
  #stopRequested = false;

  /** Prefer {@link createStudy}. */
  constructor(options: StudyOptions = {}) {
    const { direction = "minimize", seed = 0, studyName = "study" } = options;
    if (direction !== "minimize" && direction !== "maximize") {
      throw new RangeError(`direction must be "minimize" or "maximize", got ${direction}`);
    }
    this.direction = direction;
    this.sampler = options.sampler ?? new TPESampler({ seed });
    this.pruner = options.pruner ?? new NopPruner();
    this.studyName = studyName;
  }

  /** Every finished trial, in order. */
  get trials(): FrozenTrial[] {
    return [...this.#trials];
  }

  /** Finished trials in order, optionally only those in `states`. */
  getTrials(states?: readonly TrialState[]): FrozenTrial[] {
    return states ? this.#trials.filter((t) => states.includes(t.state)) : [...this.#trials];
  }

  /** The complete trial with the best value (the earliest among equals). */
  get bestTrial(): FrozenTrial {
    let best: FrozenTrial | undefined;
    for (const trial of this.#trials) {
      if (trial.state !== "complete") continue;
      if (!best || this.#isBetter(trial.value as number, best.value as number)) best = trial;
    }
    if (!best) {
      const failed = this.#trials.filter((t) => t.state === "failed");
      const hint = failed.length > 0 ? ` (${failed.length} failed; first error: ${failed[0].error})` : "";
      throw new Error(`study "${this.studyName}" has no complete trial${hint}`);
    }
    return best;
  }

  /** Objective value of {@link Study.bestTrial}. */
  get bestValue(): number {
    return this.bestTrial.value as number;
  }

  /** Parameters of {@link Study.bestTrial}. */
  get bestParams(): Record<string, ParamValue> {
    return { ...this.bestTrial.params };
  }

  /** Asks a running {@link Study.optimize} to start no further trial. */
  stop(): void {
    this.#stopRequested = true;
  }

  /** Runs trials one after another until `nTrials`, `timeoutMs` or {@link Study.stop}. */
  async optimize(objective: Objective, options: OptimizeOptions): Promise<void> {
    const { nTrials, timeoutMs, callbacks = [] } = options;
    if (nTrials === undefined && timeoutMs === undefined) {
      throw new RangeError("optimize needs nTrials or timeoutMs");
    }
    if (nTrials !== undefined && (!Number.isInteger(nTrials) || nTrials < 0)) {
      throw new RangeError(`nTrials must be a non-negative integer, got ${nTrials}`);
    }
    if (timeoutMs !== undefined && !(timeoutMs >= 0)) {
      throw new RangeError(`timeoutMs must be >= 0, got ${timeoutMs}`);
    }

    this.#stopRequested = false;
    const start = performance.now();
    for (let i = 0; nTrials === undefined || i < nTrials; i++) {
      if (this.#stopRequested) break;
      if (timeoutMs !== undefined && performance.now() - start >= timeoutMs) break;
      const finished = await this.#runTrial(objective);
      for (const callback of callbacks) callback(this, finished);
    }
    this.#stopRequested = false;
  }

  async #runTrial(objective: Objective): Promise<FrozenTrial> {
    const trial = new Trial(this.#trials.length, { study: this, sampler: this.sampler, pruner: this.pruner });
    const start = performance.now();
    let state: TrialState;
    let value: number | null = null;
    let error: string | undefined;
    try {
      const result = await objective(trial);
      if (typeof result === "number" && !Number.isNaN(result)) {
        state = "complete";
        value = result;
      } else {
        state = "failed";
        error = `objective returned ${result}, not a number`;
      }
    } catch (thrown) {
      if (thrown instanceof TrialPruned || (thrown instanceof Error && thrown.name === "TrialPruned")) {
        state = "pruned";
      } else {
        state = "failed";
        error = thrown instanceof Error ? thrown.message : String(thrown);
      }
    }
    const frozen: FrozenTrial = { ...trial.snapshot(), state, value, durationMs: performance.now() - start };
    if (state === "pruned") {
      // As Optuna: a pruned trial's value is its last report, which TPE uses to rank it.
      const steps = [...frozen.intermediateValues.keys()];
      if (steps.length > 0) frozen.value = frozen.intermediateValues.get(Math.max(...steps)) ?? null;
    }
    if (error !== undefined) frozen.error = error;
    this.#trials.push(frozen);
    return frozen;
  }

  #isBetter(candidate: number, incumbent: number): boolean {
    return this.direction === "minimize" ? candidate < incumbent : candidate > incumbent;
  }
}
