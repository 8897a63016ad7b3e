/**
 * The retraining flow as a whole: computes the flow key; returns the recorded outcome of a
 * succeeded flow with that key (unless forced); otherwise takes the flow lock, resumes the newest
 * unfinished flow with that key or starts a new one, and runs the steps (`steps.ts`) through the
 * durable engine (`engine.ts`). The steps' module is imported only when a step has to run, so a
 * cached answer costs a hash of the data and the code, not a load of the training code.
 * @module
 */

import { UserError } from "../errors.ts";
import type { FlowConfig } from "./config.ts";
import { type EngineHooks, runSteps } from "./engine.ts";
import { codeVersion, flowKey } from "./key.ts";
import { productionModel, readRegistry } from "../tracking/registry.ts";
import { acquireFlowLock } from "./lock.ts";
import {
  FLOW_FORMAT_VERSION,
  flowDir,
  type FlowOutcome,
  type FlowRecord,
  latestFlowWithKey,
  newFlowId,
  writeFlowRecord,
} from "./record.ts";

/** What one call of {@link runFlow} needs. */
export interface FlowOptions {
  dataPath: string;
  config: FlowConfig;
  modelsDir: string;
  /** Run again even when a flow with the same key has succeeded. */
  force?: boolean;
  hooks?: EngineHooks;
  /** The code version (defaults to the hash of this checkout's sources). */
  codeVersion?: string;
}

/** What {@link runFlow} did: answered from the record, resumed a flow, or ran a new one. */
export interface FlowResult {
  record: FlowRecord;
  mode: "cached" | "resumed" | "new";
}

/** Runs (or answers, or resumes) the retraining flow on a data file. */
export async function runFlow(options: FlowOptions): Promise<FlowResult> {
  const { config, modelsDir } = options;
  let data: Uint8Array;
  try {
    data = await Deno.readFile(options.dataPath);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : (error as Error).message;
    throw new UserError(`cannot read ${options.dataPath}: ${reason}`);
  }
  const key = await flowKey(options.dataPath, data, config, options.codeVersion ?? await codeVersion());
  if (!options.force) {
    const done = await latestFlowWithKey(key.key, modelsDir);
    if (done?.status === "succeeded" && await stillCurrent(done, modelsDir)) {
      return { record: done, mode: "cached" };
    }
  }
  const started = new Date();
  const provisionalId = newFlowId(key.key, started);
  const lock = await acquireFlowLock(modelsDir, { flow_id: provisionalId }, config.lock_wait_ms);
  try {
    // Looked up again under the lock: another flow may have finished or begun this one meanwhile.
    const latest = await latestFlowWithKey(key.key, modelsDir);
    if (!options.force && latest?.status === "succeeded") {
      if (await stillCurrent(latest, modelsDir)) return { record: latest, mode: "cached" };
      options.hooks?.log?.(
        `flow ${latest.flow_id} decided against production v${
          latest.outcome?.production_version ?? "none"
        }, ` +
          `which is no longer in production: running anew`,
      );
    }
    let record: FlowRecord;
    let mode: FlowResult["mode"];
    if (!options.force && latest && latest.status !== "succeeded") {
      record = latest;
      mode = "resumed";
      record.status = "running";
      record.error = null;
    } else {
      mode = "new";
      record = {
        format_version: FLOW_FORMAT_VERSION,
        flow_id: await freeId(provisionalId, modelsDir),
        key: key.key,
        key_inputs: {
          data_path: key.data_path,
          data_sha256: key.data_sha256,
          config_sha256: key.config_sha256,
          code_version: key.code_version,
        },
        config: config as unknown as Record<string, unknown>,
        models_dir: modelsDir,
        status: "running",
        sessions: [],
        created_at: started.toISOString(),
        updated_at: started.toISOString(),
        finished_at: null,
        duration_ms: null,
        steps: [],
        outcome: null,
        links: { runs: {} },
        error: null,
      };
    }
    record.sessions.push({
      started_at: new Date().toISOString(),
      pid: Deno.pid,
      forced: options.force ?? false,
    });
    await writeFlowRecord(record, modelsDir);
    options.hooks?.log?.(
      `flow ${record.flow_id} (${mode}) on ${options.dataPath}, key ${key.key.slice(0, 12)}…`,
    );
    const { retrainingSteps } = await import("./steps.ts");
    const steps = retrainingSteps({
      dataPath: options.dataPath,
      dataSha256: key.data_sha256,
      config,
      modelsDir,
    });
    let outputs: Record<string, unknown>;
    try {
      outputs = await runSteps(record, steps, config.steps, options.hooks);
    } catch (error) {
      record.links.runs = runLinks(record);
      await writeFlowRecord(record, modelsDir);
      throw error;
    }
    record.outcome = outputs.record as FlowOutcome;
    record.links.runs = runLinks(record);
    record.status = "succeeded";
    record.error = null;
    record.finished_at = new Date().toISOString();
    record.duration_ms = record.steps.reduce((s, x) => s + (x.duration_ms ?? 0), 0);
    record.updated_at = record.finished_at;
    await writeFlowRecord(record, modelsDir);
    return { record, mode };
  } finally {
    lock.release();
  }
}

/**
 * Whether a succeeded flow's decision still stands: the production version is the one it left.
 * The key covers data, settings and code but not the champion, which another flow or a person
 * may have changed since; the decision was taken against the champion of its day.
 */
async function stillCurrent(record: FlowRecord, modelsDir: string): Promise<boolean> {
  const production = productionModel(await readRegistry(modelsDir))?.version ?? null;
  return (record.outcome?.production_version ?? null) === production;
}

/** The id, or the id with `-2`, `-3`, … when a flow of the same second and key exists (a forced re-run). */
async function freeId(id: string, modelsDir: string): Promise<string> {
  for (let n = 1;; n++) {
    const candidate = n === 1 ? id : `${id}-${n}`;
    try {
      await Deno.stat(flowDir(candidate, modelsDir));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return candidate;
      throw error;
    }
  }
}

/** The runs a flow made or compared so far, from its steps' summaries. */
function runLinks(record: FlowRecord): Record<string, string> {
  const summary = (name: string) => record.steps.find((s) => s.name === name)?.summary ?? {};
  const challenger = summary("train").run_id;
  const champion = summary("compare").champion_run_id;
  return {
    ...(typeof challenger === "string" ? { challenger } : {}),
    ...(typeof champion === "string" ? { champion } : {}),
  };
}
