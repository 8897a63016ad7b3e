/**
 * Exports a run's model as ONNX: finds the run (the registry's production model by default),
 * loads its artifact through {@link CreditModel.load} (checking the registry's sha256), builds the
 * scoring graph, and writes `model.onnx` and its MLflow `MLmodel` atomically into the run's folder
 * (`onnx-opset3/` for the fallback, so it never replaces the opset-5 file).
 * @module
 */

import { CreditModel, ModelLoadError } from "../model/artifact.ts";
import {
  DEFAULT_MODELS_DIR,
  isRunId,
  type ModelVersion,
  productionModel,
  readRegistry,
  runFilePath,
  sha256Hex,
  writeFileAtomic,
} from "../tracking/mod.ts";
import { UserError } from "../errors.ts";
import { SCHEMA_VERSION } from "../data/schema.ts";
import { encodeModel } from "./onnx_proto.ts";
import { buildScoringModel, type MlOpset, type ModelIdentity } from "./model_graph.ts";
import { type ForestSize, forestSize } from "./forest_graph.ts";
import { mlmodelYaml } from "./mlmodel.ts";

/** Version of the graph contract (inputs, outputs, metadata keys); bumped when any of them changes. */
export const GRAPH_CONTRACT_VERSION = 1;

/** The ONNX release each target corresponds to, for the MLmodel's `onnx_version`. */
const ONNX_RELEASE: Readonly<Record<MlOpset, string>> = { 5: "1.16.0", 3: "1.10.0" };

/** What to export. */
export interface ExportOptions {
  /** Folder of `registry.json` and `runs/` (default `models`). */
  readonly modelsDir?: string;
  /** The run to export (default: the registry's production model). */
  readonly runId?: string;
  /** The `ai.onnx.ml` opset (default 5). */
  readonly opset?: MlOpset;
  /**
   * Opset 3 only: write thresholds and leaf values as the classic float attributes instead of the
   * opset's double `*_as_tensor` ones, for runtimes that read only the float form.
   */
  readonly floatThresholds?: boolean;
}

/** What an export wrote. */
export interface ExportResult {
  readonly runId: string;
  readonly version: number | null;
  readonly opset: MlOpset;
  readonly onnxPath: string;
  readonly mlmodelPath: string;
  readonly bytes: number;
  readonly onnxSha256: string;
  readonly forest: ForestSize;
  readonly graphNodes: number;
}

/** Exports one run's model; throws {@link UserError} for a missing run or an unusable artifact. */
export async function exportOnnx(options: ExportOptions = {}): Promise<ExportResult> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const opset = options.opset ?? 5;
  if (options.floatThresholds && opset !== 3) {
    throw new UserError("float thresholds exist only for the opset-3 fallback (--opset 3)");
  }
  const { artifactPath, entry, runId } = await locate(modelsDir, options.runId);
  let loaded;
  try {
    loaded = await CreditModel.load(artifactPath, entry?.sha256);
  } catch (error) {
    if (error instanceof ModelLoadError) throw new UserError(error.message, { cause: error });
    throw error;
  }
  const { model, sha256 } = loaded;
  if (model.artifact.run_id !== runId) {
    throw new UserError(`${artifactPath} belongs to run ${model.artifact.run_id}, not ${runId}`);
  }
  const identity: ModelIdentity = {
    runId,
    version: entry?.version ?? null,
    artifactSha256: sha256,
    producerVersion: `graph-contract-${GRAPH_CONTRACT_VERSION}`,
  };
  const onnx = buildScoringModel(model, identity, opset, options.floatThresholds ? "float" : "double");
  const bytes = encodeModel(onnx);
  const onnxSha256 = await sha256Hex(bytes);

  const runDir = artifactPath.slice(0, artifactPath.lastIndexOf("/") + 1) || "./";
  const outDir = opset === 5 ? runDir : `${runDir}onnx-opset3${options.floatThresholds ? "-float" : ""}/`;
  const onnxPath = `${outDir}model.onnx`;
  const mlmodelPath = `${outDir}MLmodel`;
  await writeFileAtomic(onnxPath, bytes);
  await writeFileAtomic(
    mlmodelPath,
    mlmodelYaml({
      dataFile: "model.onnx",
      onnxVersion: ONNX_RELEASE[opset],
      runId,
      onnxSha256,
      sizeBytes: bytes.length,
      createdAt: model.artifact.created_at,
      metadata: {
        ...onnx.metadata,
        graph_contract: String(GRAPH_CONTRACT_VERSION),
        schema_version: SCHEMA_VERSION,
        onnx_sha256: onnxSha256,
      },
    }),
  );
  return {
    runId,
    version: identity.version,
    opset,
    onnxPath,
    mlmodelPath,
    bytes: bytes.length,
    onnxSha256,
    forest: forestSize(model.forest.trees),
    graphNodes: onnx.graph.nodes.length,
  };
}

async function locate(
  modelsDir: string,
  runId: string | undefined,
): Promise<{ artifactPath: string; entry?: ModelVersion; runId: string }> {
  let registry;
  try {
    registry = await readRegistry(modelsDir);
  } catch (error) {
    throw new UserError(`cannot read the model registry: ${(error as Error).message}`, { cause: error });
  }
  const artifactPathOf = (e: ModelVersion) =>
    e.artifact.startsWith("/") ? e.artifact : `${modelsDir}/${e.artifact}`;
  if (runId === undefined) {
    const entry = productionModel(registry);
    if (!entry) {
      throw new UserError(
        `${modelsDir}/registry.json has no production model; train one (deno task train) or pass --run ID`,
      );
    }
    return { artifactPath: artifactPathOf(entry), entry, runId: entry.run_id };
  }
  if (!isRunId(runId)) throw new UserError(`${JSON.stringify(runId)} is not a run id`);
  const entry = registry.models.find((m) => m.run_id === runId);
  if (entry) return { artifactPath: artifactPathOf(entry), entry, runId };
  const artifactPath = runFilePath(runId, "model.json", modelsDir);
  try {
    await Deno.stat(artifactPath);
  } catch {
    throw new UserError(
      `run ${runId} has no model (${artifactPath} not found); deno task runs lists the runs`,
    );
  }
  return { artifactPath, runId };
}
