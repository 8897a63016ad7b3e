/**
 * The files of a flow, under `<modelsDir>/flows/<flow_id>/`: `flow.json` (the record: key and its
 * inputs, configuration, every step's state, attempts, durations and errors, the outcome, links to
 * the runs and model versions it made) and `steps/<step>.json` (each completed step's output, the
 * checkpoint a resumed flow starts from). This module owns both formats; every write is atomic, and
 * a record that does not match the schema is refused on read, naming the file.
 * @module
 */

import { z } from "zod";
import { UserError } from "../errors.ts";
import { writeJsonAtomic } from "../tracking/atomic.ts";
import { DEFAULT_MODELS_DIR } from "../tracking/run_files.ts";

/** The format version of `flow.json`. */
export const FLOW_FORMAT_VERSION = 1;

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "an ISO time");

const attemptSchema = z.object({
  attempt: z.number().int().positive(),
  started_at: isoTime,
  ended_at: isoTime.nullable(),
  duration_ms: z.number().nullable(),
  /** Null while running or when it succeeded. */
  error: z.string().nullable(),
});

const stepSchema = z.object({
  name: z.string(),
  state: z.enum(["pending", "running", "completed", "failed"]),
  attempts: z.array(attemptSchema),
  /** Sum of the attempts' durations (interrupted attempts have none), backoff waits excluded. */
  duration_ms: z.number().nullable(),
  /** The process that ran it: 1 the first, 2 after one resume, … */
  session: z.number().int().positive().nullable(),
  /** A few numbers and words of the step's output (the whole output is `steps/<name>.json`). */
  summary: z.record(z.string(), z.unknown()).nullable(),
  error: z.string().nullable(),
});

/** The schema of `flow.json`. */
export const flowRecordSchema = z.object({
  format_version: z.literal(FLOW_FORMAT_VERSION),
  flow_id: z.string(),
  key: z.string().regex(/^[0-9a-f]{64}$/),
  /** What the key is the hash of. */
  key_inputs: z.object({
    data_path: z.string(),
    data_sha256: z.string(),
    config_sha256: z.string(),
    code_version: z.string(),
  }),
  config: z.record(z.string(), z.unknown()),
  models_dir: z.string(),
  status: z.enum(["running", "succeeded", "failed"]),
  /** Processes that worked on the flow (more than 1 after a resume). */
  sessions: z.array(z.object({ started_at: isoTime, pid: z.number().int(), forced: z.boolean() })),
  created_at: isoTime,
  updated_at: isoTime,
  finished_at: isoTime.nullable(),
  duration_ms: z.number().nullable(),
  steps: z.array(stepSchema),
  outcome: z.object({
    decision: z.enum(["promoted", "kept_challenger"]),
    reason: z.string(),
    challenger: z.object({ version: z.number().int(), run_id: z.string() }).nullable(),
    champion: z.object({ version: z.number().int(), run_id: z.string() }).nullable(),
    production_version: z.number().int().nullable(),
    deployed: z.array(z.object({ url: z.string(), model_version: z.number().int(), sha256: z.string() })),
  }).nullable(),
  /** Runs this flow made or compared, by role. */
  links: z.object({ runs: z.record(z.string(), z.string()) }),
  error: z.object({ step: z.string(), message: z.string() }).nullable(),
});

/** One attempt of a step. */
export type StepAttempt = z.output<typeof attemptSchema>;
/** One step's state in `flow.json`. */
export type StepState = z.output<typeof stepSchema>;
/** The content of `flow.json`. */
export type FlowRecord = z.output<typeof flowRecordSchema>;
/** What a finished flow decided. */
export type FlowOutcome = NonNullable<FlowRecord["outcome"]>;

/** The folder holding every flow. */
export function flowsDir(modelsDir = DEFAULT_MODELS_DIR): string {
  return `${modelsDir}/flows`;
}

/** One flow's folder. */
export function flowDir(flowId: string, modelsDir = DEFAULT_MODELS_DIR): string {
  return `${flowsDir(modelsDir)}/${checkFlowId(flowId)}`;
}

const FLOW_ID = /^\d{8}-\d{6}-[0-9a-f]{12}(-\d+)?$/;

/** Whether `id` has the shape of a flow id (`YYYYMMDD-HHMMSS-<12 hex of the key>`). */
export function isFlowId(id: string): boolean {
  return FLOW_ID.test(id);
}

function checkFlowId(id: string): string {
  if (!isFlowId(id)) throw new UserError(`${JSON.stringify(id)} is not a flow id`);
  return id;
}

/** A new flow id: the UTC time and the key's first 12 hex digits (the key is found from the id). */
export function newFlowId(key: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `${stamp}-${key.slice(0, 12)}`;
}

/** Writes `flow.json` atomically. */
export async function writeFlowRecord(record: FlowRecord, modelsDir: string): Promise<void> {
  await writeJsonAtomic(`${flowDir(record.flow_id, modelsDir)}/flow.json`, record);
}

/** Reads and validates a flow's `flow.json`; null when the flow does not exist. */
export async function readFlowRecord(
  flowId: string,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<FlowRecord | null> {
  const path = `${flowDir(flowId, modelsDir)}/flow.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = flowRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`${path} is not a valid flow record: ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/** Every flow's record, newest first; unreadable records are skipped and named in `problems`. */
export async function listFlows(
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<{ flows: FlowRecord[]; problems: string[] }> {
  const ids: string[] = [];
  try {
    for await (const entry of Deno.readDir(flowsDir(modelsDir))) {
      if (entry.isDirectory && isFlowId(entry.name)) ids.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { flows: [], problems: [] };
    throw error;
  }
  const flows: FlowRecord[] = [];
  const problems: string[] = [];
  for (const id of ids.sort().reverse()) {
    try {
      const record = await readFlowRecord(id, modelsDir);
      if (record) flows.push(record);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  // Ids carry the time to the second only: two flows begun within one second sort by their start.
  flows.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.flow_id.localeCompare(a.flow_id));
  return { flows, problems };
}

/** The newest flow with this key, or null: found by the key's prefix in the ids, confirmed by the record. */
export async function latestFlowWithKey(
  key: string,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<FlowRecord | null> {
  const prefix = key.slice(0, 12);
  const ids: string[] = [];
  try {
    for await (const entry of Deno.readDir(flowsDir(modelsDir))) {
      if (entry.isDirectory && isFlowId(entry.name) && entry.name.slice(16, 28) === prefix) {
        ids.push(entry.name);
      }
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  for (const id of ids.sort().reverse()) {
    const record = await readFlowRecord(id, modelsDir);
    if (record?.key === key) return record;
  }
  return null;
}

/** Where a step's output checkpoint lives. */
export function stepOutputPath(flowId: string, step: string, modelsDir: string): string {
  if (!/^[a-z_]+$/.test(step)) throw new UserError(`${JSON.stringify(step)} is not a step name`);
  return `${flowDir(flowId, modelsDir)}/steps/${step}.json`;
}

/** Writes a completed step's output atomically: once it exists, the step is done for good. */
export async function writeStepOutput(
  flowId: string,
  step: string,
  output: unknown,
  modelsDir: string,
): Promise<void> {
  await writeJsonAtomic(stepOutputPath(flowId, step, modelsDir), { step, output: output ?? null });
}

/** A completed step's output (`found: false` when the step has not completed). */
export async function readStepOutput(
  flowId: string,
  step: string,
  modelsDir: string,
): Promise<{ found: true; output: unknown } | { found: false }> {
  const path = stepOutputPath(flowId, step, modelsDir);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { found: false };
    throw error;
  }
  try {
    const value = JSON.parse(text) as { step?: unknown; output?: unknown };
    if (value.step !== step) throw new Error(`it holds step ${JSON.stringify(value.step)}`);
    return { found: true, output: value.output };
  } catch (error) {
    throw new UserError(`${path} is not a valid step checkpoint: ${(error as Error).message}`);
  }
}
