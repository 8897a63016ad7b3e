/**
 * MLflow-style run tracking on plain files: each run is a folder `models/runs/<run_id>/` with a
 * `run.json` (params, metrics, tags, step timings, status) and its artifacts; `models/registry.json`
 * lists model versions and their stage. Every file is written atomically, and the registry is
 * updated under a lock so concurrent training runs cannot corrupt it.
 * @module
 */

import { z } from "zod";
import { writeFileAtomic, writeJsonAtomic } from "./atomic.ts";

/** The project's CSV writer and reader (data/csv.ts), re-exported for the run files written with them. */
export { parseCsv, toCsv } from "../data/csv.ts";

/** Where runs and the registry live unless told otherwise. */
export const DEFAULT_MODELS_DIR = "models";

/** A run's lifecycle state; a run killed midway stays `running` (shown as stale once its process is gone). */
export type RunStatus = "running" | "finished" | "failed";

/** One named pipeline step with its outcome and duration (the orchestration record). */
export interface StepRecord {
  name: string;
  status: "running" | "finished" | "failed";
  started_at: string;
  duration_ms?: number;
  error?: string;
}

/** The content of `run.json`. */
export interface RunRecord {
  run_id: string;
  experiment: string;
  status: RunStatus;
  start_time: string;
  end_time?: string;
  duration_ms?: number;
  pid: number;
  /** Refreshed while the run works; a `running` run whose heartbeat is old was killed. */
  heartbeat_at: string;
  params: Record<string, unknown>;
  metrics: Record<string, unknown>;
  tags: Record<string, string>;
  steps: StepRecord[];
  artifacts: string[];
  error?: string;
}

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "an ISO time");

/** The schema `run.json` must satisfy; tests and readers validate against it. */
export const runRecordSchema = z.object({
  run_id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  experiment: z.string().min(1),
  status: z.enum(["running", "finished", "failed"]),
  start_time: isoTime,
  end_time: isoTime.optional(),
  duration_ms: z.number().nonnegative().optional(),
  pid: z.number().int(),
  heartbeat_at: isoTime,
  params: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.unknown()),
  tags: z.record(z.string(), z.string()),
  steps: z.array(z.object({
    name: z.string(),
    status: z.enum(["running", "finished", "failed"]),
    started_at: isoTime,
    duration_ms: z.number().nonnegative().optional(),
    error: z.string().optional(),
  })),
  artifacts: z.array(z.string()),
  error: z.string().optional(),
});

/** The schema of `models/registry.json`. */
export const registrySchema = z.object({
  format_version: z.literal(1),
  models: z.array(z.object({
    version: z.number().int().positive(),
    run_id: z.string(),
    artifact: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    stage: z.enum(["production", "archived", "candidate"]),
    created_at: isoTime,
    objective: z.string(),
    objective_value: z.number(),
    direction: z.enum(["minimize", "maximize"]),
    metrics: z.record(z.string(), z.number()),
  })),
});

/** A run in progress: records params, metrics, steps and artifacts, then finishes or fails. */
export class Run {
  readonly dir: string;
  readonly record: RunRecord;
  #saving: Promise<void> = Promise.resolve();

  private constructor(dir: string, record: RunRecord) {
    this.dir = dir;
    this.record = record;
  }

  /** Starts a run: creates its folder and writes `run.json` with status `running`. */
  static async start(
    options: { experiment: string; tags?: Record<string, string>; modelsDir?: string; runId?: string },
  ): Promise<Run> {
    const runId = options.runId ?? newRunId();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(runId)) {
      throw new RangeError(`run id ${JSON.stringify(runId)} is not valid`);
    }
    const dir = `${options.modelsDir ?? DEFAULT_MODELS_DIR}/runs/${runId}`;
    await Deno.mkdir(dir, { recursive: true });
    const run = new Run(dir, {
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
    if (name.includes("..") || name.startsWith("/")) {
      throw new RangeError(`artifact name ${name} is not valid`);
    }
    const path = `${this.dir}/${name}`;
    await writeFileAtomic(path, content);
    if (!this.record.artifacts.includes(name)) this.record.artifacts.push(name);
    await this.save();
    return path;
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
    const snapshot = JSON.stringify(this.record, null, 2) + "\n";
    this.#saving = this.#saving.catch(() => {}).then(() => writeFileAtomic(`${this.dir}/run.json`, snapshot));
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

/** Reads one run's record; null when it does not exist. Rejects ids that could escape the runs folder. */
export async function readRun(runId: string, modelsDir = DEFAULT_MODELS_DIR): Promise<RunRecord | null> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(runId)) return null;
  try {
    return withStaleness(JSON.parse(await Deno.readTextFile(`${modelsDir}/runs/${runId}/run.json`)));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Lists all runs, newest first. Unreadable folders are skipped. */
export async function listRuns(modelsDir = DEFAULT_MODELS_DIR): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  try {
    for await (const entry of Deno.readDir(`${modelsDir}/runs`)) {
      if (!entry.isDirectory) continue;
      const run = await readRun(entry.name, modelsDir).catch(() => null);
      if (run) runs.push(run);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return runs.sort((a, b) => b.start_time.localeCompare(a.start_time));
}

const HEARTBEAT_INTERVAL_MS = 5_000;
/** A running run silent for this long was killed (Deno cannot probe other processes without --allow-all). */
export const STALE_AFTER_MS = 60_000;

/** A `running` run whose heartbeat is older than {@link STALE_AFTER_MS} is reported with tag `stale=true`. */
function withStaleness(run: RunRecord): RunRecord {
  const silentFor = Date.now() - Date.parse(run.heartbeat_at ?? run.start_time);
  if (run.status === "running" && silentFor > STALE_AFTER_MS) {
    return { ...run, tags: { ...run.tags, stale: "true" } };
  }
  return run;
}

// ---------------------------------------------------------------------------------------------
// Model registry

/** A model version's stage. */
export type Stage = "production" | "archived" | "candidate";

/** One registered model version. */
export interface ModelVersion {
  version: number;
  run_id: string;
  artifact: string;
  sha256: string;
  stage: Stage;
  created_at: string;
  objective: string;
  objective_value: number;
  direction: "minimize" | "maximize";
  metrics: Record<string, number>;
}

/** The content of `models/registry.json`. */
export interface Registry {
  format_version: 1;
  models: ModelVersion[];
}

/** The registry's path under a models folder. */
export function registryPath(modelsDir = DEFAULT_MODELS_DIR): string {
  return `${modelsDir}/registry.json`;
}

/** Reads the registry; an absent registry is empty. */
export async function readRegistry(modelsDir = DEFAULT_MODELS_DIR): Promise<Registry> {
  try {
    const parsed = registrySchema.safeParse(JSON.parse(await Deno.readTextFile(registryPath(modelsDir))));
    if (!parsed.success) {
      throw new Error(
        `${registryPath(modelsDir)} is not a valid registry: ${parsed.error.issues[0].message}`,
      );
    }
    return parsed.data as Registry;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { format_version: 1, models: [] };
    throw error;
  }
}

/** The production model version, or undefined. */
export function productionModel(registry: Registry): ModelVersion | undefined {
  return registry.models.find((m) => m.stage === "production");
}

/** The sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  return sha256Hex(await Deno.readFile(path));
}

/** The sha256 of bytes, hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What `registerModel` decided. */
export interface Registration {
  version: ModelVersion;
  promoted: boolean;
  reason: string;
}

/**
 * Registers a model artifact. It becomes production when there is no production model, when
 * `promote` is "always", or (champion/challenger) when it is not worse than the champion on the same
 * objective; `promote: "never"` keeps it a candidate. Runs under a lock and writes atomically.
 */
export async function registerModel(
  entry: Omit<ModelVersion, "version" | "stage" | "created_at" | "sha256">,
  options: { promote?: "auto" | "always" | "never"; modelsDir?: string } = {},
): Promise<Registration> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const sha256 = await sha256File(
    entry.artifact.startsWith("/") ? entry.artifact : `${modelsDir}/${entry.artifact}`,
  );
  return await withRegistryLock(modelsDir, async () => {
    const registry = await readRegistry(modelsDir);
    const champion = productionModel(registry);
    const version: ModelVersion = {
      ...entry,
      version: registry.models.reduce((max, m) => Math.max(max, m.version), 0) + 1,
      sha256,
      stage: "candidate",
      created_at: new Date().toISOString(),
    };
    let promoted: boolean;
    let reason: string;
    const mode = options.promote ?? "auto";
    if (mode === "never") {
      promoted = false;
      reason = "kept as candidate (--no-promote)";
    } else if (mode === "always") {
      promoted = true;
      reason = "promoted on request (--promote)";
    } else if (!champion) {
      promoted = true;
      reason = "no production model yet";
    } else if (champion.objective !== entry.objective) {
      promoted = false;
      reason =
        `champion v${champion.version} was chosen on objective ${champion.objective}, not ${entry.objective}; use --promote`;
    } else {
      const better = entry.direction === "minimize"
        ? entry.objective_value <= champion.objective_value
        : entry.objective_value >= champion.objective_value;
      promoted = better;
      reason = `${entry.objective} ${fmt(entry.objective_value)} vs champion v${champion.version}'s ${
        fmt(champion.objective_value)
      }: ${better ? "not worse, promoted" : "worse, kept as candidate"}`;
    }
    if (promoted) {
      for (const m of registry.models) if (m.stage === "production") m.stage = "archived";
      version.stage = "production";
    }
    registry.models.push(version);
    await writeJsonAtomic(registryPath(modelsDir), registry);
    return { version, promoted, reason };
  });
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/**
 * Runs `work` holding an exclusive OS lock (flock) on `registry.lock`. The kernel releases the lock
 * when its holder dies, so a training run killed mid-registration never blocks the next one.
 */
export async function withRegistryLock<T>(modelsDir: string, work: () => Promise<T>): Promise<T> {
  await Deno.mkdir(modelsDir, { recursive: true });
  const file = await Deno.open(`${modelsDir}/registry.lock`, { create: true, write: true });
  try {
    await file.lock(true);
    return await work();
  } finally {
    file.close();
  }
}
