/**
 * `deno task eda [--jupyter PATH] [NOTEBOOK...]`: executes the notebooks headlessly on the Deno
 * kernel and updates them in place (`pipeline/report/notebooks.ts`). Every notebook is tried; the
 * command exits 1 when any failed, leaving that notebook as it was.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { DEFAULT_JUPYTER, executeNotebook, NotebookError, NOTEBOOKS } from "../report/notebooks.ts";
import { runCli } from "./run_cli.ts";

const USAGE = "usage: deno task eda [--jupyter PATH] [NOTEBOOK...]\n" +
  `executes ${NOTEBOOKS.join(" and ")} (or the given ones) on the Deno kernel and updates them in place`;

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        jupyter: { type: "string", default: DEFAULT_JUPYTER },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const paths = positionals.length > 0 ? positionals : NOTEBOOKS;
  let failed = 0;
  for (const path of paths) {
    try {
      const seconds = await executeNotebook(path, { jupyter: values.jupyter });
      console.log(`eda: ${path} executed in ${seconds.toFixed(1)} s`);
    } catch (error) {
      if (!(error instanceof NotebookError)) throw error;
      console.error(`eda: ${error.message}`);
      failed++;
    }
  }
  if (failed > 0) console.error(`eda: ${failed} of ${paths.length} notebooks failed`);
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) await runCli("eda", main, { usage: USAGE });
