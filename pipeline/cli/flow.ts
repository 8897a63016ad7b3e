/**
 * `deno task flow --data FILE [--config flow.json] [--force]`: the retraining flow
 * (`pipeline/flow/`): validate → drift → train → compare → gate → deploy → record. Prints each
 * step as it goes (standard error) and the flow's record at the end. Exit codes: 0 the flow
 * succeeded (whether or not it promoted), 1 a step failed or another flow holds the models folder,
 * 2 bad flags. `FLOW_FAULT_HOLD_AT=<step>` (for tests) stops the flow once that step is recorded
 * as running, until the process is killed.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { DEFAULT_FLOW_CONFIG, FLOW_STEPS, loadConfig } from "../flow/config.ts";
import { formatFlow } from "../flow/format.ts";
import { runFlow } from "../flow/retrain.ts";
import { DEFAULT_MODELS_DIR } from "../tracking/run_files.ts";
import { runCli } from "./run_cli.ts";

/** The usage text of `deno task flow`. */
export const FLOW_USAGE = `usage: deno task flow --data FILE [options]
  --data FILE         the new labelled data (raw Statlog layout, or CSV with a header)
  --config FILE       flow configuration (JSON; every field optional, see README "Retraining flow")
  --force             run again even if a flow with the same data, config and code has succeeded
  --models-dir DIR    where runs, the registry and flows/ live (default models)
  --quiet             print only the final line
  --json              print the flow record as JSON`;

/** `deno task flow` with `args`. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        data: { type: "string" },
        config: { type: "string" },
        force: { type: "boolean" },
        "models-dir": { type: "string" },
        quiet: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(FLOW_USAGE);
    return 0;
  }
  if (!values.data) throw new UsageError("--data FILE is required");
  const config = values.config ? await loadConfig(values.config) : DEFAULT_FLOW_CONFIG;
  const hold = Deno.env.get("FLOW_FAULT_HOLD_AT");
  if (hold && !(FLOW_STEPS as readonly string[]).includes(hold)) {
    throw new UsageError(`FLOW_FAULT_HOLD_AT must be one of ${FLOW_STEPS.join(", ")}, got ${hold}`);
  }
  const quiet = values.quiet || values.json;
  const started = performance.now();
  const result = await runFlow({
    dataPath: values.data,
    config,
    modelsDir: values["models-dir"] ?? DEFAULT_MODELS_DIR,
    force: values.force ?? false,
    hooks: {
      log: (line) => {
        if (!quiet) console.error(`flow: ${line}`);
      },
      beforeStep: hold
        ? async (name) => {
          if (name !== hold) return;
          console.error(`flow: holding at step ${name} (FLOW_FAULT_HOLD_AT)`);
          // A timer keeps the process alive: a bare pending promise would let Deno exit.
          await new Promise(() => setInterval(() => {}, 60_000));
        }
        : undefined,
    },
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  if (values.json) console.log(JSON.stringify({ mode: result.mode, ...result.record }, null, 2));
  else if (values.quiet) {
    console.log(`${result.record.flow_id} ${result.mode} ${result.record.outcome?.decision}`);
  } else {console.log(
      `${formatFlow(result.record)}\n${
        result.mode === "cached" ? "recorded outcome" : result.mode
      } in ${seconds} s`,
    );}
  return 0;
}

if (import.meta.main) await runCli("flow", main, { usage: FLOW_USAGE });
