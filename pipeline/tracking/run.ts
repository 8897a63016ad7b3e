/**
 * MLflow-style run tracking on plain files. A {@link Run} records one training run as it works:
 * params (inputs, written once), metrics, tags, named steps with their timing, a heartbeat, its
 * status and its artifacts. {@link amendRun} adds metrics and artifacts to a run that has ended.
 * Where and how each file is written is `run_files.ts`'s business; the registry is `registry.ts`'s.
 * @module
 */

import { UserError } from "../errors.ts";
import { withRegistryLock } from "./registry.ts";
import {
  DEFAULT_MODELS_DIR,
  formatRunRecord,
  isStale,
  migrateRunRecord,
  readStoredRun,
  RUN_RECORD_FILE,
  runDir,
  type RunFile,
  RunFileError,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  writeRunFile,
  writeRunRecord,
} from "./run_files.ts";

/** A run in progress: records params, metrics, steps and artifacts, then finishes or fails. */
export class Run {
  readonly dir: string;
  readonly modelsDir: string;
  readonly record: RunRecord;
  #saving: Promise<void> = Promise.resolve();

  private constructor(dir: string, modelsDir: string, record: RunRecord) {
    this.dir = dir;
    this.modelsDir = modelsDir;
    this.record = record;
  }

  /** Starts a run: creates its folder and writes `run.json` with status `running`. */
  static async start(
    options: { experiment: string; tags?: Record<string, string>; modelsDir?: string; runId?: string },
  ): Promise<Run> {
    const runId = options.runId ?? newRunId();
    const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
    const dir = runDir(runId, modelsDir);
    await Deno.mkdir(dir, { recursive: true });
    const run = new Run(dir, modelsDir, {
      run_id: runId,
      experiment: options.experiment,
      status: "running",
      start_time: new Date().toISOString(),
      pid: Deno.pid,
      heartbeat_at: new Date().toISOString(),
      params: {},
      metrics: {},
      tags: { ...options.tags },
      steps: [],
      artifacts: [],
    });
    await run.save();
    return run;
  }

  /** The run's id. */
  get id(): string {
    return this.record.run_id;
  }

  /** Records input parameters (written once: a second value for the same key is an error). */
  async logParams(params: Record<string, unknown>): Promise<void> {
    for (const [key, value] of Object.entries(params)) {
      if (key in this.record.params && JSON.stringify(this.record.params[key]) !== JSON.stringify(value)) {
        throw new Error(`param ${key} was already logged with another value`);
      }
      this.record.params[key] = value;
    }
    await this.save();
  }

  /** Records metrics under a group (e.g. `cv`, `test`, `baseline_test`). */
  async logMetrics(group: string, metrics: unknown): Promise<void> {
    this.record.metrics[group] = metrics;
    await this.save();
  }

  /** Adds tags. */
  async setTags(tags: Record<string, string>): Promise<void> {
    Object.assign(this.record.tags, tags);
    await this.save();
  }

  /** Writes an artifact file atomically inside the run folder and lists it. */
  async logArtifact(name: string, content: string | Uint8Array): Promise<string> {
    const path = await writeRunFile(this.id, name, content, this.modelsDir);
    if (!this.record.artifacts.includes(name)) this.record.artifacts.push(name);
    await this.save();
    return path;
  }

  /** Writes one of the run's typed files (`CURVES`, `TRIALS`, …) in its format and lists it. */
  logFile<In>(file: RunFile<In, unknown>, value: In): Promise<string> {
    return this.logArtifact(file.name, file.format(value));
  }

  /** Runs one named step, recording its status and duration; a failure names the step. */
  async step<T>(name: string, work: () => T | Promise<T>): Promise<T> {
    const step: StepRecord = { name, status: "running", started_at: new Date().toISOString() };
    this.record.steps.push(step);
    await this.save();
    const started = performance.now();
    try {
      const result = await work();
      step.status = "finished";
      return result;
    } catch (error) {
      step.status = "failed";
      step.error = (error as Error).message;
      throw new StepError(name, error as Error);
    } finally {
      step.duration_ms = Math.round(performance.now() - started);
      await this.save();
    }
  }

  /** Marks the run finished. */
  async finish(): Promise<void> {
    await this.#end("finished");
  }

  /** Marks the run failed with the error's message. */
  async fail(error: Error): Promise<void> {
    this.record.error = error.message;
    await this.#end("failed");
  }

  async #end(status: RunStatus) {
    this.record.status = status;
    this.record.end_time = new Date().toISOString();
    this.record.duration_ms = Date.parse(this.record.end_time) - Date.parse(this.record.start_time);
    await this.save();
  }

  /** Writes `run.json` atomically, refreshing the heartbeat; writes are queued so none lands out of order. */
  save(): Promise<void> {
    this.record.heartbeat_at = new Date().toISOString();
    const snapshot = formatRunRecord(this.record);
    this.#saving = this.#saving.catch(() => {}).then(async () => {
      await writeRunFile(this.id, RUN_RECORD_FILE, snapshot, this.modelsDir);
    });
    return this.#saving;
  }

  /** Refreshes the heartbeat during long steps, at most every few seconds. */
  async heartbeat(): Promise<void> {
    if (Date.now() - Date.parse(this.record.heartbeat_at) > HEARTBEAT_INTERVAL_MS) await this.save();
  }
}

/** An error raised inside a named step; the message says which step failed. */
export class StepError extends Error {
  constructor(readonly step: string, override readonly cause: Error) {
    super(`step "${step}" failed: ${cause.message}`);
    this.name = "StepError";
  }
}

/** A sortable, unique run id: UTC time plus random suffix. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${crypto.randomUUID().slice(0, 6)}`;
}

/** What {@link amendRun} may add to an ended run. */
export interface RunAmendment {
  /** Metric groups to add or replace (e.g. `repeated_cv`). */
  metrics?: Record<string, unknown>;
  /** Files to (re)write, rendered from the amended record as readers see it (e.g. the model card). */
  artifacts?: (run: RunRecord) => Record<string, string>;
}

/**
 * Adds metrics and artifacts to a run that has ended, as MLflow logs to a finished run by its id.
 * Holds the models folder's lock, so two amendments never lose each other's groups; starts from the
 * record as stored, so neither the migrated view nor the synthetic `stale` tag is ever written
 * back; never touches params. Returns the amended record as readers see it.
 */
export async function amendRun(
  runId: string,
  amendment: RunAmendment,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<RunRecord> {
  return await withRegistryLock(modelsDir, async () => {
    const stored = await readStoredRun(runId, modelsDir);
    if (!stored) throw new RunFileError(`no run ${runId} under ${modelsDir}/runs`);
    if (stored.status === "running" && !isStale(stored)) {
      throw new UserError(`run ${runId} is still running; amend it once it has ended`);
    }
    const amended: RunRecord = {
      ...stored,
      metrics: { ...stored.metrics, ...amendment.metrics },
      artifacts: [...stored.artifacts],
    };
    const files = amendment.artifacts?.(migrateRunRecord(amended)) ?? {};
    for (const [name, content] of Object.entries(files)) {
      await writeRunFile(runId, name, content, modelsDir);
      if (!amended.artifacts.includes(name)) amended.artifacts.push(name);
    }
    await writeRunRecord(amended, modelsDir);
    return migrateRunRecord(amended);
  });
}

const HEARTBEAT_INTERVAL_MS = 5_000;

/** The record a run writes, and its parts. */
export type { RunRecord, RunStatus, StepRecord } from "./run_files.ts";
