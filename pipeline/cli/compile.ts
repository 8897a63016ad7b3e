/**
 * `deno task compile`: one self-contained binary (`dist/credit-risk`) that serves the API, the form
 * and the dashboard, with `static/` and the production model embedded.
 *
 * `deno compile` downloads its base runtime (`denort`) unless `DENORT_BIN` points at one; where that
 * download is impossible this says so and exits 1 instead of failing obscurely.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError, UserError } from "../errors.ts";
import {
  DEFAULT_MODELS_DIR,
  productionModel,
  readRegistry,
  registryPath,
  RUN_RECORD_FILE,
  runFilePath,
} from "../tracking/mod.ts";
import { signaturePath } from "../model/signature.ts";
import { runCli } from "./run_cli.ts";

/** The usage text of `deno task compile`. */
export const COMPILE_USAGE =
  "usage: deno task compile [--output dist/credit-risk] [--target TRIPLE] [--dry-run]";

/**
 * Permissions baked into the binary: the network, reading, and writing its audit trail (`AUDIT_DB`).
 * Reads and FFI stay unscoped: the binary unpacks itself (and polars' addon) into a folder the
 * runtime picks beside the executable on first start, unknown when compiling. `--unstable-net` lets
 * `WORKERS=N` replicas share the port behind the client guard.
 */
export const BINARY_PERMISSIONS = [
  "--unstable-net",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-ffi",
  "--allow-sys",
];

/** The files and folders embedded next to `serve.ts`. */
export async function embeddedPaths(modelsDir = DEFAULT_MODELS_DIR): Promise<string[]> {
  const production = productionModel(await readRegistry(modelsDir));
  if (!production) {
    throw new UserError(
      `${registryPath(modelsDir)} has no production model to embed: run \`deno task train\` first`,
    );
  }
  // Its signature too, when it has one, so the binary can run with MODEL_PUBLIC_KEY.
  const signature = signaturePath(`${modelsDir}/${production.artifact}`);
  const signed = await Deno.stat(signature).then(() => true, () => false);
  return [
    "static",
    registryPath(modelsDir),
    `${modelsDir}/${production.artifact}`,
    ...(signed ? [signature] : []),
    runFilePath(production.run_id, RUN_RECORD_FILE, modelsDir),
    "pipeline/serving/predict_worker.ts",
    "pipeline/serving/audit/worker.ts",
  ];
}

/** The full `deno compile` argument list. */
export async function compileArgs(output: string, target?: string): Promise<string[]> {
  const includes = (await embeddedPaths()).flatMap((path) => ["--include", path]);
  return [
    "compile",
    // polars is a native addon: it must exist on disk to be loaded, so the binary unpacks itself once.
    "--self-extracting",
    ...BINARY_PERMISSIONS,
    ...includes,
    ...(target ? ["--target", target] : []),
    "--output",
    output,
    "serve.ts",
  ];
}

/** `deno task compile` with `args`; returns the exit code (errors are mapped by `runCli`). */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        output: { type: "string", default: "dist/credit-risk" },
        target: { type: "string" },
        "dry-run": { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const commandArgs = await compileArgs(values.output!, values.target);
  console.log(`deno ${commandArgs.join(" ")}`);
  if (values["dry-run"]) return 0;
  const result = await new Deno.Command(Deno.execPath(), {
    args: commandArgs,
    stdout: "inherit",
    stderr: "piped",
  })
    .output();
  const stderr = new TextDecoder().decode(result.stderr);
  await Deno.stderr.write(result.stderr);
  if (result.success) {
    console.log(`built ${values.output}: run it with \`${values.output} --port 8000\``);
    return 0;
  }
  if (
    /denort|download|dl\.deno\.land|error sending request|dns error/i.test(stderr) &&
    !Deno.env.get("DENORT_BIN")
  ) {
    console.error(
      "\ncompile: deno compile could not download its base runtime (denort) — this machine has no network for it.\n" +
        "Download denort for this Deno version on a machine that can (the denort-<target>.zip of the same release),\n" +
        "then run: DENORT_BIN=/path/to/denort deno task compile",
    );
  }
  return 1;
}

if (import.meta.main) await runCli("compile", main, { usage: COMPILE_USAGE });
