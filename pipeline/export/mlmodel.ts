/**
 * The MLflow `MLmodel` descriptor that makes an exported model's folder an MLflow model: the
 * `onnx` flavour (`mlflow.onnx.load_model`) and the `python_function` flavour
 * (`mlflow.pyfunc.load_model`, `mlflow.pyfunc.spark_udf`), with a tensor signature naming every
 * input and output. With that signature, MLflow's pyfunc turns each DataFrame column of scalars
 * into the `[-1, 1]` array the graph expects and casts it to the declared dtype.
 * @module
 */

import { ATTRIBUTES, isCategorical } from "../data/schema.ts";
import { OUTPUT_NAMES } from "./model_graph.ts";

/** What the descriptor says about the model beside it. */
export interface MlmodelInfo {
  /** The ONNX file's name, relative to the descriptor's folder. */
  readonly dataFile: string;
  /** The ONNX release whose IR and operator sets the file targets. */
  readonly onnxVersion: string;
  readonly runId: string;
  /** sha256 of the ONNX file (its first 32 hex digits become `model_uuid`, so re-exports are identical). */
  readonly onnxSha256: string;
  readonly sizeBytes: number;
  /** When the model was trained (the artifact's `created_at`). */
  readonly createdAt: string;
  /** Free-form facts for `metadata` (threshold, decision rule, versions). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** MLflow tensor-spec entries of the graph's inputs: strings as numpy `object`, numbers as `float64`. */
export function inputSignature(): {
  type: "tensor";
  "tensor-spec": { dtype: string; shape: number[] };
  name: string;
}[] {
  return ATTRIBUTES.map((a) => ({
    type: "tensor",
    "tensor-spec": { dtype: isCategorical(a) ? "object" : "float64", shape: [-1, 1] },
    name: a.name,
  }));
}

/** MLflow tensor-spec entries of the graph's outputs. */
export function outputSignature(): {
  type: "tensor";
  "tensor-spec": { dtype: string; shape: number[] };
  name: string;
}[] {
  return OUTPUT_NAMES.map((name) => ({
    type: "tensor",
    "tensor-spec": { dtype: "float64", shape: [-1] },
    name,
  }));
}

/** The descriptor's YAML text. */
export function mlmodelYaml(info: MlmodelInfo): string {
  const q = (s: string) => JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar
  const lines = [
    '# MLflow model descriptor written by `deno task export` (see the README, "Portable model (ONNX)").',
    "artifact_path: model",
    "flavors:",
    "  onnx:",
    "    code: null",
    `    data: ${q(info.dataFile)}`,
    `    onnx_version: ${q(info.onnxVersion)}`,
    "    providers:",
    "    - CPUExecutionProvider",
    "  python_function:",
    `    data: ${q(info.dataFile)}`,
    "    loader_module: mlflow.onnx",
    "metadata:",
    ...Object.entries(info.metadata).map(([k, v]) => `  ${k}: ${q(v)}`),
    `model_size_bytes: ${info.sizeBytes}`,
    `model_uuid: ${q(info.onnxSha256.slice(0, 32))}`,
    `run_id: ${q(info.runId)}`,
    "signature:",
    `  inputs: ${q(JSON.stringify(inputSignature()))}`,
    `  outputs: ${q(JSON.stringify(outputSignature()))}`,
    "  params: null",
    `utc_time_created: ${q(mlflowTime(info.createdAt))}`,
  ];
  return lines.join("\n") + "\n";
}

// MLflow writes `YYYY-MM-DD HH:MM:SS.ffffff` (UTC).
function mlflowTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new RangeError(`created_at ${iso} is not a date`);
  return date.toISOString().replace("T", " ").replace("Z", "000");
}
