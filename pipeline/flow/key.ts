/**
 * The flow key: `sha256(data bytes ‖ normalised config ‖ code version)`. Two flows with the same
 * key would make the same decision (the same data, settings and code, every seed fixed), so a
 * second one returns the first one's recorded outcome. The code version is a hash of the
 * pipeline's source files and the dependency lock, not a git commit: an uncommitted edit changes
 * it too, and it needs no git. Light on purpose: the cached path of `deno task flow` imports this
 * module and not the training code.
 * @module
 */

import { sha256Hex } from "../tracking/registry.ts";
import { canonicalJson, type FlowConfig } from "./config.ts";

const ROOT = new URL("../../", import.meta.url);

/** What a flow key is computed from, with the key. */
export interface FlowKey {
  key: string;
  data_path: string;
  data_sha256: string;
  config_sha256: string;
  code_version: string;
}

const encoder = new TextEncoder();

/** The key of a flow on `data` (the file's bytes) with `config`, under `codeVersion`. */
export async function flowKey(
  dataPath: string,
  data: Uint8Array,
  config: FlowConfig,
  codeVersion: string,
): Promise<FlowKey> {
  const dataSha = await sha256Hex(data);
  const configSha = await sha256Hex(encoder.encode(canonicalJson(config)));
  const key = await sha256Hex(encoder.encode(`flow-key-v1\n${dataSha}\n${configSha}\n${codeVersion}\n`));
  return {
    key,
    data_path: dataPath,
    data_sha256: dataSha,
    config_sha256: configSha,
    code_version: codeVersion,
  };
}

/**
 * The code version: sha256 over every `pipeline/**.ts` file (path and content, in path order), with
 * `deno.json` and `deno.lock`, and the Deno version.
 */
export async function codeVersion(root: URL = ROOT): Promise<string> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, root))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) await walk(`${path}/`);
      else if (entry.isFile && entry.name.endsWith(".ts")) files.push(path);
    }
  };
  await walk("pipeline/");
  files.sort();
  for (const extra of ["deno.json", "deno.lock"]) {
    try {
      await Deno.stat(new URL(extra, root));
      files.push(extra);
    } catch { /* absent: not part of the version */ }
  }
  const parts = await Promise.all(files.map(async (path) => {
    return `${path} ${await sha256Hex(await Deno.readFile(new URL(path, root)))}`;
  }));
  return await sha256Hex(encoder.encode(`deno ${Deno.version.deno}\n${parts.join("\n")}\n`));
}
