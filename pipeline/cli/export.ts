/**
 * `deno task export --format onnx [--run ID] [--opset 5|3] [--float-thresholds] [--models-dir DIR]`:
 * writes a run's whole scoring path as `models/runs/<id>/model.onnx` with an MLflow `MLmodel`
 * beside it (the production run by default). `--opset 3` writes the fallback for older runtimes
 * into `models/runs/<id>/onnx-opset3/`. Exit status: 0 written, 1 refused, 2 usage.
 * @module
 */

import { parseArgs } from "node:util";
import { runCli } from "./run_cli.ts";
import { UsageError } from "../errors.ts";
import { exportOnnx, type ExportResult } from "../export/export_model.ts";

/** The usage text. */
export const USAGE =
  "usage: deno task export --format onnx [--run ID] [--opset 5|3] [--float-thresholds] [--models-dir DIR]";

/** Parses the arguments, exports, and prints what was written. */
export async function exportMain(
  args: string[],
  print: (line: string) => void = console.log,
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        format: { type: "string", default: "onnx" },
        run: { type: "string" },
        opset: { type: "string", default: "5" },
        "float-thresholds": { type: "boolean", default: false },
        "models-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    print(USAGE);
    return 0;
  }
  if (values.format !== "onnx") {
    throw new UsageError(`unknown format ${values.format}; the one format is onnx`);
  }
  if (values.opset !== "5" && values.opset !== "3") {
    throw new UsageError(`--opset must be 5 or 3, got ${values.opset}`);
  }
  if (values["float-thresholds"] && values.opset !== "3") {
    throw new UsageError("--float-thresholds applies to the opset-3 fallback only (--opset 3)");
  }
  const result = await exportOnnx({
    modelsDir: values["models-dir"],
    runId: values.run,
    opset: Number(values.opset) as 5 | 3,
    floatThresholds: values["float-thresholds"],
  });
  print(describe(result));
  return 0;
}

/** One paragraph on what an export wrote. */
export function describe(r: ExportResult): string {
  const version = r.version === null ? "unregistered" : `version ${r.version}`;
  return [
    `wrote ${r.onnxPath} (${(r.bytes / 1e6).toFixed(2)} MB, sha256 ${
      r.onnxSha256.slice(0, 12)
    }…) and ${r.mlmodelPath}`,
    `  run ${r.runId} (${version}), ai.onnx.ml opset ${r.opset}: ${r.graphNodes} operators, ` +
    `${r.forest.trees} trees with ${r.forest.internalNodes} splits and ${r.forest.leaves} leaves`,
    "  inputs: the 20 schema attributes, [N, 1] (codes as strings, numbers as doubles); " +
    "outputs: probability_bad, pd ([N] double)",
  ].join("\n");
}

if (import.meta.main) runCli("export", exportMain, { usage: USAGE });
