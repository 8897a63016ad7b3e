/**
 * The prediction service's building blocks; `serve.ts` composes them into the app and
 * `pipeline/cli/score.ts` uses the batch path offline.
 *
 * | module | job |
 * | --- | --- |
 * | `config.ts` | settings from the environment, checked |
 * | `model_holder.ts` | the served model, verified on load, swapped atomically on reload |
 * | `prediction.ts` | one applicant's answer, and the extension point for added fields |
 * | `batch.ts`, `batch_format.ts` | CSV/JSON batches with per-row errors; JSON and CSV output |
 * | `batch_stream.ts`, `batch_fast.ts` | CSV batches streamed chunk by chunk; clean chunks encoded without polars |
 * | `batch_route.ts`, `batch_json.ts` | `POST /predict/batch`: admission, caps while reading, the JSON array splitter |
 * | `batch_spool.ts`, `batch_disk.ts` | the answer held on disk until committed; free-space admission |
 * | `predict_pool.ts` | the forest's batch scoring and the explanations (TreeSHAP) on worker threads |
 * | `body.ts`, `errors.ts` | body limits and media types; one error shape, 422 hook |
 * | `auth.ts` | bearer-token checks of the admin and audit routes |
 * | `observe.ts`, `log.ts`, `metrics.ts` | request ids, JSON-lines logs, Prometheus metrics |
 * | `static_files.ts`, `docs.ts` | the browser app's folder; Swagger UI without a CDN |
 * | `routes/*.ts` | the route groups |
 * | `audit/` | the audit trail: SQLite or PostgreSQL, group commit, migrations, retention (`audit/log.ts`) |
 * | `server.ts`, `replicas.ts`, `replica_worker.ts` | the socket, and `WORKERS=N` replicas sharing it |
 * @module
 */

export { defaultPoolSize, PredictionPool } from "./predict_pool.ts";
export {
  ModelHolder,
  type ModelSource,
  NoProductionModelError,
  type ReloadOutcome,
  type ServingModel,
} from "./model_holder.ts";
export {
  BatchInputError,
  type BatchOptions,
  type BatchResult,
  decisions,
  type RowError,
  scoreCsv,
  scoreRecords,
  StrictBatchError,
} from "./batch.ts";
export { batchToCsv, batchToJson } from "./batch_format.ts";
export { csvCell } from "../data/csv.ts";
export { ConfigError, configFromEnv, DEFAULT_CONFIG, type ServerConfig } from "./config.ts";
export { Logger, type LogLevel, type LogSink, stdoutSink } from "./log.ts";
export { LATENCY_BUCKETS, ServerMetrics } from "./prometheus.ts";
export {
  calibratedRisk,
  DEFAULT_EXTENSIONS,
  predict,
  type Prediction,
  type PredictionContext,
  type PredictionExtension,
} from "./prediction.ts";
export { ApiError, type ErrorBody, type ErrorCode, validationHook } from "./errors.ts";
export { type App, type AppDeps, type AppEnv } from "./context.ts";
export { CONTENT_SECURITY_POLICY, resolveStaticPath } from "./static_files.ts";
