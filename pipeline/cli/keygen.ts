/**
 * `deno task keygen --out FILE`: makes an Ed25519 key pair for signing models, with WebCrypto (no
 * openssl needed): the private key in FILE (PKCS#8 PEM, mode 0600) and the public key in FILE.pub
 * (SPKI PEM). Prints the `MODEL_PUBLIC_KEY=` line to give the server. Existing files are never
 * overwritten. Exit codes: 0 written, 1 a file exists or cannot be written, 2 bad flags.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError, UserError } from "../errors.ts";
import { generateKeyPair } from "../model/signature.ts";
import { runCli } from "./run_cli.ts";

/** The usage text of `deno task keygen`. */
export const KEYGEN_USAGE = `usage: deno task keygen --out FILE
  --out FILE   where to write the private key (FILE.pub gets the public key); keep FILE out of models/`;

/** `deno task keygen` with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { out: { type: "string" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(KEYGEN_USAGE);
    return 0;
  }
  if (!values.out) throw new UsageError("--out is required");
  const pair = await generateKeyPair();
  // createNew rather than an atomic rename: a key must never replace another one, and a partial
  // file (a crash mid-write) fails to import instead of signing with a wrong key.
  const write = async (path: string, text: string, mode: number) => {
    try {
      await Deno.writeTextFile(path, text, { createNew: true, mode });
      await Deno.chmod(path, mode); // exact, whatever the umask
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        throw new UserError(`${path} exists; not overwriting a key (choose another --out)`);
      }
      throw new UserError(`cannot write ${path}: ${(error as Error).message}`);
    }
  };
  await write(values.out, pair.privatePem, 0o600);
  try {
    await write(`${values.out}.pub`, pair.publicPem, 0o644);
  } catch (error) {
    await Deno.remove(values.out); // no private key without its public half
    throw error;
  }
  console.log(`private key ${values.out} (keep it secret, outside models/), public key ${values.out}.pub`);
  console.log(`key id ${pair.id}; give the server:`);
  console.log(`MODEL_PUBLIC_KEY=${pair.publicBase64}`);
  return 0;
}

if (import.meta.main) await runCli("keygen", main, { usage: KEYGEN_USAGE });
