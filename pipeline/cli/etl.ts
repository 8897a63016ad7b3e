/**
 * `deno task etl [--data PATH] [--out PATH] [--format raw|csv]`: loads and validates the data file,
 * writes it as Parquet (default `data/processed/credit.parquet`) and prints a summary.
 * @module
 */

import { parseArgs } from "node:util";
import {
  DEFAULT_DATA_PATH,
  DEFAULT_PARQUET_PATH,
  type InputFormat,
  loadCreditTable,
  summarise,
  writeParquetAtomic,
} from "../data/etl.ts";
import { UsageError } from "../errors.ts";
import { runCli } from "./run_cli.ts";

const USAGE = "usage: deno task etl [--data PATH] [--out PATH] [--format raw|csv]";

/** Runs the ETL; returns the exit code. */
export async function etlMain(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        data: { type: "string", default: DEFAULT_DATA_PATH },
        out: { type: "string", default: DEFAULT_PARQUET_PATH },
        format: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.format !== undefined && values.format !== "raw" && values.format !== "csv") {
    throw new UsageError(`--format must be raw or csv, got ${values.format}`);
  }
  const started = performance.now();
  const table = await loadCreditTable(values.data, values.format as InputFormat | undefined);
  await writeParquetAtomic(table.frame, values.out);
  console.log(summarise(table));
  console.log(`wrote ${values.out} in ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return 0;
}

if (import.meta.main) await runCli("etl", etlMain, { usage: USAGE });
