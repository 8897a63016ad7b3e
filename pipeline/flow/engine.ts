/**
 * Durable steps: runs a flow's steps in order, each with its retry and timeout policy, and
 * checkpoints each completed step's output (`steps/<name>.json`, atomic) before recording it as
 * completed in `flow.json`. A flow run again after its process died starts from the first step
 * without a checkpoint: completed steps are never run twice, the step that was interrupted runs
 * again (at least once, so every step must tolerate a repeat of an attempt that may have finished
 * its work without checkpointing it).
 *
 * Retries: an attempt that throws is retried after `backoff_ms · backoff_factor^(k−1)` while
 * retries remain, unless the error is a {@link UserError} (bad data, a bad setting: retrying cannot
 * fix it). A timed-out attempt is abandoned: its `signal` is aborted and the attempt counts as
 * failed; work that ignores the signal goes on in the background until the process ends.
 * @module
 */

import { isUserError } from "../errors.ts";
import type { StepPolicy } from "./config.ts";
import {
  type FlowRecord,
  readStepOutput,
  type StepState,
  writeFlowRecord,
  writeStepOutput,
} from "./record.ts";

/** What a step's code sees. */
export interface StepContext {
  flowId: string;
  modelsDir: string;
  /** 1 for the first attempt of this step in this flow (counting attempts of earlier processes). */
  attempt: number;
  /** Aborted when the attempt times out. */
  signal: AbortSignal;
  /** The output of an earlier step (throws when it has none: a bug in the step order). */
  output<T>(step: string): T;
  /** A progress line. */
  log(message: string): void;
}

/** One step: its name, its work, and what of its output goes into `flow.json`. */
export interface FlowStep {
  name: string;
  run(context: StepContext): Promise<unknown>;
  summary?(output: unknown): Record<string, unknown>;
}

/** Observers of a running flow (progress lines, fault injection in tests). */
export interface EngineHooks {
  log?(line: string): void;
  /** Called once a step is recorded as running, before its first attempt in this process. */
  beforeStep?(name: string): Promise<void> | void;
  /** The backoff wait (tests replace it). */
  sleep?(ms: number): Promise<void>;
}

/** A step that failed for good: names the step and the cause. */
export class StepFailedError extends Error {
  override name = "StepFailedError";
  constructor(readonly step: string, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** An attempt that ran past its step's `timeout_ms`. */
export class StepTimeoutError extends Error {
  override name = "StepTimeoutError";
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `steps` in order on `record` (updated in place and written after every change) and returns
 * every step's output. Throws {@link StepFailedError} when a step fails for good; the record then
 * says which step, after how many attempts, and why.
 */
export async function runSteps(
  record: FlowRecord,
  steps: readonly FlowStep[],
  policies: Readonly<Record<string, StepPolicy>>,
  hooks: EngineHooks = {},
): Promise<Record<string, unknown>> {
  const modelsDir = record.models_dir;
  const session = record.sessions.length;
  const log = hooks.log ?? (() => {});
  const wait = hooks.sleep ?? sleep;
  const outputs: Record<string, unknown> = {};
  const save = () => {
    record.updated_at = new Date().toISOString();
    return writeFlowRecord(record, modelsDir);
  };
  // Every step is listed from the start, in flow order, so a record shows what is still to come.
  record.steps = steps.map((step) => record.steps.find((s) => s.name === step.name) ?? emptyStep(step.name));
  for (const step of steps) {
    const state = record.steps.find((s) => s.name === step.name)!;
    const checkpoint = await readStepOutput(record.flow_id, step.name, modelsDir);
    if (checkpoint.found) {
      outputs[step.name] = checkpoint.output;
      if (state.state !== "completed") {
        // The process ended between the checkpoint and the record: the checkpoint decides.
        closeInterrupted(state);
        state.state = "completed";
        state.error = null;
        state.summary = step.summary?.(checkpoint.output) ?? null;
        await save();
      }
      log(`step ${step.name}: done earlier, not run again`);
      continue;
    }
    closeInterrupted(state);
    const policy = policies[step.name];
    if (!policy) throw new Error(`no retry policy for step ${step.name}`);
    state.state = "running";
    state.session = session;
    state.error = null;
    await save();
    log(`step ${step.name}: started`);
    await hooks.beforeStep?.(step.name);
    const tries = policy.retries + 1;
    for (let k = 1;; k++) {
      const attempt = {
        attempt: state.attempts.length + 1,
        started_at: new Date().toISOString(),
        ended_at: null as string | null,
        duration_ms: null as number | null,
        error: null as string | null,
      };
      state.attempts.push(attempt);
      await save();
      const started = performance.now();
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new StepTimeoutError(`timed out after ${policy.timeout_ms} ms`);
            controller.abort(error);
            reject(error);
          }, policy.timeout_ms);
        });
        const output = await Promise.race([
          step.run({
            flowId: record.flow_id,
            modelsDir,
            attempt: attempt.attempt,
            signal: controller.signal,
            output: <T>(name: string): T => {
              if (!(name in outputs)) {
                throw new Error(`step ${step.name} needs step ${name}, which has not run`);
              }
              return outputs[name] as T;
            },
            log: (message) => log(`step ${step.name}: ${message}`),
          }),
          timeout,
        ]);
        clearTimeout(timer);
        finishAttempt(attempt, started, null);
        await writeStepOutput(record.flow_id, step.name, output, modelsDir);
        outputs[step.name] = output;
        state.state = "completed";
        state.summary = step.summary?.(output) ?? null;
        state.duration_ms = totalDuration(state);
        await save();
        log(`step ${step.name}: completed in ${(attempt.duration_ms! / 1000).toFixed(2)} s`);
        break;
      } catch (error) {
        clearTimeout(timer);
        const message = error instanceof Error ? error.message : String(error);
        finishAttempt(attempt, started, message);
        state.duration_ms = totalDuration(state);
        const retryable = error instanceof StepTimeoutError || !isUserError(error);
        if (k < tries && retryable) {
          const delay = Math.round(policy.backoff_ms * policy.backoff_factor ** (k - 1));
          await save();
          log(`step ${step.name}: attempt ${attempt.attempt} failed (${message}); retrying in ${delay} ms`);
          await wait(delay);
          continue;
        }
        const why = retryable ? `after ${k} attempt(s) in this run` : "not retried: retrying cannot fix it";
        const full = `step ${step.name} failed (${why}): ${message}`;
        state.state = "failed";
        state.error = message;
        record.status = "failed";
        record.error = { step: step.name, message };
        await save();
        throw new StepFailedError(step.name, full, { cause: error });
      }
    }
  }
  return outputs;
}

function emptyStep(name: string): StepState {
  return {
    name,
    state: "pending",
    attempts: [],
    duration_ms: null,
    session: null,
    summary: null,
    error: null,
  };
}

/** Marks an attempt left open by a process that ended as interrupted. */
function closeInterrupted(state: StepState): void {
  for (const a of state.attempts) {
    if (a.ended_at === null && a.error === null) {
      a.error = "interrupted: the flow's process ended during this attempt";
    }
  }
}

function finishAttempt(attempt: StepState["attempts"][number], started: number, error: string | null): void {
  attempt.ended_at = new Date().toISOString();
  attempt.duration_ms = Math.round(performance.now() - started);
  attempt.error = error;
}

function totalDuration(state: StepState): number {
  return state.attempts.reduce((sum, a) => sum + (a.duration_ms ?? 0), 0);
}
