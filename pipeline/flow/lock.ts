/**
 * One flow at a time per models folder: an exclusive OS lock (flock) on `flows/flow.lock`, held for
 * the whole flow. The kernel releases it when the holder exits or is killed, so a SIGKILLed flow
 * never blocks the next one and no stale-lock guessing is needed. A second flow waits up to
 * `waitMs` (0: not at all) and then refuses with {@link FlowBusyError}, naming the holder from
 * `flows/flow.lock.json` (written by the holder after it has the lock: information only).
 * @module
 */

import { UserError } from "../errors.ts";
import { writeJsonAtomic } from "../tracking/atomic.ts";
import { flowsDir } from "./record.ts";

/** Another flow holds the models folder. */
export class FlowBusyError extends UserError {
  override name = "FlowBusyError";
}

/** A held flow lock; `release` lets the next flow in. */
export interface FlowLock {
  release(): void;
}

/**
 * Takes the flow lock of `modelsDir`, waiting at most `waitMs`. Deno's `lock()` cannot give up,
 * so when the wait ends first the pending lock is left to complete and is released at once.
 */
export async function acquireFlowLock(
  modelsDir: string,
  holder: { flow_id: string },
  waitMs: number,
): Promise<FlowLock> {
  const dir = flowsDir(modelsDir);
  await Deno.mkdir(dir, { recursive: true });
  const file = await Deno.open(`${dir}/flow.lock`, { create: true, write: true });
  let gaveUp = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const locked = file.lock(true).then(() => {
    if (gaveUp) file.close();
    return true;
  });
  const waited = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), waitMs));
  const won = await Promise.race([locked, waited]);
  clearTimeout(timer);
  if (!won) {
    gaveUp = true;
    let who = "another flow";
    try {
      const info = JSON.parse(await Deno.readTextFile(`${dir}/flow.lock.json`));
      who = `flow ${info.flow_id} (pid ${info.pid}, since ${info.since})`;
    } catch { /* the holder has not written it yet */ }
    throw new FlowBusyError(
      `${who} is running on ${modelsDir}; waited ${waitMs} ms for it (raise lock_wait_ms to wait longer)`,
    );
  }
  await writeJsonAtomic(`${dir}/flow.lock.json`, {
    flow_id: holder.flow_id,
    pid: Deno.pid,
    since: new Date().toISOString(),
  });
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      file.close();
    },
  };
}
