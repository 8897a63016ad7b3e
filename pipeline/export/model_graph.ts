/**
 * The whole scoring path of a {@link CreditModel} as one ONNX model: the 20 raw attributes in,
 * `probability_bad` (the forest's P(bad)) and `pd` (its Platt calibration) out, both `[N]` double.
 * The decision is left to the caller, with the threshold in the model's metadata: decline when
 * `probability_bad >= threshold`, as the API decides.
 * @module
 */

import type { CreditModel } from "../model/artifact.ts";
import { SCHEMA_VERSION } from "../data/schema.ts";
import { DataType, type Model } from "./onnx_proto.ts";
import { attr, GraphBuilder, ML_DOMAIN } from "./graph_builder.ts";
import { addAttributeInputs, addEncoder, BATCH_DIM } from "./encoder_graph.ts";
import { addTreeEnsemble, addTreeEnsembleRegressor } from "./forest_graph.ts";
import { addPlattCalibration } from "./calibration_graph.ts";

/** The `ai.onnx.ml` operator-set versions an export can target. */
export type MlOpset = 5 | 3;

/**
 * What each target imports. Opset 5 is ONNX 1.16's set (IR 10, `ai.onnx` 21). The fallback is ONNX
 * 1.10's (IR 8, `ai.onnx` 15, `ai.onnx.ml` 3), which the `onnx` 1.12 checker Debian ships can validate.
 */
export const OPSET_TARGETS: Readonly<Record<MlOpset, { irVersion: number; onnx: number; ml: number }>> = {
  5: { irVersion: 10, onnx: 21, ml: 5 },
  3: { irVersion: 8, onnx: 15, ml: 3 },
};

/** The graph's output names, in order. */
export const OUTPUT_NAMES = ["probability_bad", "pd"] as const;

/** Where the exported model came from, written into its metadata. */
export interface ModelIdentity {
  readonly runId: string;
  /** Registry version, or null for an unregistered run. */
  readonly version: number | null;
  /** sha256 of the model.json the graph was built from. */
  readonly artifactSha256: string;
  readonly producerVersion: string;
}

/**
 * Builds the ONNX model of `model` for the given `ai.onnx.ml` opset. `precision` applies to opset 3
 * only: "double" keeps thresholds and leaf values double (`*_as_tensor`), "float" writes the
 * classic float attributes.
 */
export function buildScoringModel(
  model: CreditModel,
  identity: ModelIdentity,
  opset: MlOpset,
  precision: "double" | "float" = "double",
): Model {
  const target = OPSET_TARGETS[opset];
  const g = new GraphBuilder();
  const inputs = addAttributeInputs(g);
  const features = addEncoder(g, model.encoder, inputs);
  const perRow = opset === 5
    ? addTreeEnsemble(g, model.forest.trees, features)
    : g.node("Cast", [addTreeEnsembleRegressor(g, model.forest.trees, features, precision)], "forest_mean", [
      attr.int("to", DataType.DOUBLE),
    ]);
  const probability = g.node("Reshape", [perRow, g.int64s("shape_n", [-1])], "probability_bad");
  const pd = addPlattCalibration(g, model.calibrator, probability);
  g.output(probability, DataType.DOUBLE, [BATCH_DIM], "P(bad): the mean of the trees' leaf values");
  g.output(pd, DataType.DOUBLE, [BATCH_DIM], "calibrated probability of default (Platt scaling of P(bad))");

  const threshold = model.threshold;
  return {
    irVersion: target.irVersion,
    opsetImports: [{ domain: "", version: target.onnx }, { domain: ML_DOMAIN, version: target.ml }],
    producerName: "credit-risk",
    producerVersion: identity.producerVersion,
    domain: "credit-risk",
    modelVersion: identity.version ?? 0,
    docString: `German credit risk, run ${identity.runId}: raw applicant attributes to P(bad) and PD. ` +
      `Decline when probability_bad >= ${threshold}.`,
    graph: g.build(
      "credit_risk",
      "encoder (one-hot, ordinal codes, engineered ratios) → balanced random forest → Platt calibration",
    ),
    metadata: {
      run_id: identity.runId,
      model_version: identity.version === null ? "unregistered" : String(identity.version),
      artifact_sha256: identity.artifactSha256,
      schema_version: SCHEMA_VERSION,
      threshold: String(threshold),
      pd_threshold: String(model.pdThreshold),
      decision_rule: "decline when probability_bad >= threshold, otherwise approve",
      ml_opset: String(opset),
      trees: String(model.forest.trees.length),
    },
  };
}
