/**
 * `deno task flows [--models-dir DIR] [--json]`: the retraining flows recorded under
 * `models/flows/`, newest first (`pipeline/flow/record.ts`).
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { formatFlowList } from "../flow/format.ts";
import { listFlows } from "../flow/record.ts";
import { DEFAULT_MODELS_DIR } from "../tracking/run_files.ts";
import { runCli } from "./run_cli.ts";

/** The usage text of `deno task flows`. */
export const FLOWS_USAGE = `usage: deno task flows [--models-dir DIR] [--json]`;

/** `deno task flows` with `args`. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        "models-dir": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(FLOWS_USAGE);
    return 0;
  }
  const { flows, problems } = await listFlows(values["models-dir"] ?? DEFAULT_MODELS_DIR);
  if (values.json) console.log(JSON.stringify(flows, null, 2));
  else console.log(formatFlowList(flows));
  for (const problem of problems) console.error(`flows: skipped ${problem}`);
  return 0;
}

if (import.meta.main) await runCli("flows", main, { usage: FLOWS_USAGE });
