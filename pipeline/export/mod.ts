/**
 * Portable models: a run's whole scoring path (encoder → forest → calibration) as one ONNX graph,
 * with an MLflow `MLmodel` beside it, for engines that run ONNX (Spark, Ray, Triton).
 *
 * One module per job, in the order data flows through them:
 * - `protobuf.ts`: a small protocol-buffers writer (knows nothing of ONNX).
 * - `onnx_proto.ts`: ONNX's messages as TypeScript data and their encoding.
 * - `graph_builder.ts`: builds a graph one operator at a time.
 * - `encoder_graph.ts`, `forest_graph.ts`, `calibration_graph.ts`: the three stages as operators.
 * - `model_graph.ts`: the stages joined, with the graph contract (inputs, outputs, metadata).
 * - `mlmodel.ts`: the MLflow descriptor.
 * - `export_model.ts`: finds the run, loads its artifact, writes the files (atomically).
 * - `verify.ts`, `sample.ts`: what the export test and the benchmark share to check a graph against
 *   the project (no runtime is imported here; only tests/export and bench/onnx_bench.ts load one).
 *
 * May import: data/schema, features/encoder, forest (types), model (artifact, calibration),
 * tracking (registry, atomic writes), errors, random. In pipeline/, only the `export` command imports it.
 * @module
 */

export { exportOnnx, type ExportOptions, type ExportResult, GRAPH_CONTRACT_VERSION } from "./export_model.ts";
export { buildScoringModel, type MlOpset, OPSET_TARGETS, OUTPUT_NAMES } from "./model_graph.ts";
export { encodeModel } from "./onnx_proto.ts";
export { mlmodelYaml } from "./mlmodel.ts";
export { type Agreement, compareScores, feedColumns, projectScores } from "./verify.ts";
export { sampleApplicants } from "./sample.ts";
