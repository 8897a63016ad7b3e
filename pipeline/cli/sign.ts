/**
 * `deno task sign --run ID --key FILE`: signs a run's model artifact with an Ed25519 private key
 * (`pipeline/model/signature.ts`), writing `model.json.sig` beside it. A server started with the
 * matching `MODEL_PUBLIC_KEY` serves only artifacts signed this way. Exit codes: 0 signed, 1 refused
 * (unknown run, modified artifact, unreadable key), 2 bad flags.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { readSigningKey, signRun } from "../model/signature.ts";
import { DEFAULT_MODELS_DIR } from "../tracking/mod.ts";
import { runCli } from "./run_cli.ts";

/** The usage text of `deno task sign`. */
export const SIGN_USAGE = `usage: deno task sign --run ID --key FILE [--models-dir DIR]
  --run ID          the run whose model.json to sign (registered or not)
  --key FILE        Ed25519 private key, PKCS#8 PEM, readable by its owner only (deno task keygen)
  --models-dir DIR  where runs and the registry live (default models)`;

/** `deno task sign` with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        run: { type: "string" },
        key: { type: "string" },
        "models-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(SIGN_USAGE);
    return 0;
  }
  if (!values.run) throw new UsageError("--run is required");
  if (!values.key) throw new UsageError("--key is required");
  const signer = await readSigningKey(values.key);
  const signed = await signRun(values.run, signer, values["models-dir"] ?? DEFAULT_MODELS_DIR);
  console.log(
    `signed ${signed.statement.run_id} (version ${signed.statement.model_version ?? "unregistered"}, ` +
      `sha256 ${signed.statement.artifact_sha256}) with key ${signed.keyId}: ${signed.path}`,
  );
  return 0;
}

if (import.meta.main) await runCli("sign", main, { usage: SIGN_USAGE });
