// @ts-check
// What a run record says, read defensively: run.json types its metrics and parameters as unknown
// values (older runs lack some groups), so every reader narrows here and the views never touch
// the raw record's nesting. Where run.json's layout changes, this module changes.

/** @import { MeanSd, MetricGroup, RunRecord } from "./types.js" */

/**
 * A metric of run.json's groups.
 * @typedef {object} Metric
 * @property {string} key
 * @property {string} label
 * @property {boolean} [lower] less is better
 * @property {boolean} [neutral] neither direction is better
 */

/**
 * Metrics of run.json's groups, in report order; `lower` marks those where less is better.
 * @type {Metric[]}
 */
export const METRICS = [
  { key: "roc_auc", label: "ROC AUC" },
  { key: "pr_auc", label: "PR AUC (average precision)" },
  { key: "gini", label: "Gini" },
  { key: "ks", label: "KS statistic" },
  { key: "brier", label: "Brier score (raw)", lower: true },
  { key: "pd_brier", label: "Brier score (served PD)", lower: true },
  { key: "recall_bad", label: "Recall on bad risks" },
  { key: "specificity", label: "Specificity (good approved)" },
  { key: "precision", label: "Precision of a decline" },
  { key: "accuracy", label: "Accuracy" },
  { key: "balanced_accuracy", label: "Balanced accuracy" },
  { key: "f1", label: "F1" },
  { key: "f2", label: "F2" },
  { key: "cost", label: "Expected cost per applicant", lower: true },
  { key: "threshold", label: "Decision threshold on P(bad)", neutral: true },
];

/**
 * Short names of the forest's parameters for the table's summary column.
 * @type {Record<string, (value: unknown) => string>}
 */
const PARAM_SHORT = {
  trees: (v) => `${v} trees`,
  max_depth: (v) => `depth ${v}`,
  min_samples_leaf: (v) => `leaf ${v}`,
  max_features: (v) => `features ${v}`,
  sampling_strategy: (v) => `sampling ${typeof v === "number" ? v.toFixed(2) : v}`,
  criterion: (v) => String(v),
};

/**
 * Whether a value of run.json is an object whose keys can be read.
 * @param {unknown} value
 * @returns {value is MetricGroup}
 */
export function isGroup(value) {
  return typeof value === "object" && value !== null;
}

/**
 * A group of run.json (an object), or an empty one when absent.
 * @param {unknown} value
 * @returns {MetricGroup}
 */
export function group(value) {
  return isGroup(value) ? value : {};
}

/**
 * A finite number, else null.
 * @param {unknown} value
 * @returns {number | null}
 */
export function number(value) {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * @param {RunRecord} run
 * @returns {MetricGroup}
 */
export const metrics = (run) => run.metrics ?? {};

/**
 * Metrics on the held-out test split.
 * @param {RunRecord} run
 * @returns {MetricGroup}
 */
export const test = (run) => group(metrics(run).test);

/**
 * Metrics of the search's cross-validation (`value`, `out_of_fold`).
 * @param {RunRecord} run
 * @returns {MetricGroup}
 */
export const cv = (run) => group(metrics(run).cv);

/**
 * The repeated cross-validation of `deno task evaluate`, when it ran.
 * @param {RunRecord} run
 * @returns {unknown}
 */
export const repeated = (run) => metrics(run).repeated_cv;

/**
 * The nested evaluation's per-metric summary (`deno task evaluate --nested`), keyed as the other
 * groups are (`brier` the raw score's, `pd_brier` the served PD's); each value holds `mean`, `sd`
 * (across folds) and `corrected_se`. Null when the run has none.
 * @param {RunRecord} run
 * @returns {MetricGroup | null}
 */
export function nested(run) {
  const summary = group(group(metrics(run).nested).summary);
  if (!Object.keys(summary).length) return null;
  const { brier_raw, brier_pd, ...rest } = summary;
  return { ...rest, brier: brier_raw, pd_brier: brier_pd };
}

/**
 * The model's parameters: `params.model` of a training run, or the params themselves.
 * @param {RunRecord} run
 * @returns {MetricGroup}
 */
export function modelParams(run) {
  const model = run.params?.model;
  return model !== undefined && model !== null ? group(model) : run.params ?? {};
}

/**
 * finished, failed, running, or killed (a running run whose heartbeat stopped).
 * @param {RunRecord} run
 * @returns {RunRecord["status"] | "killed"}
 */
export function statusOf(run) {
  return run.tags?.stale === "true" ? "killed" : run.status;
}

/**
 * Wall time: recorded when the run ended; so far for a live run; until its last heartbeat for a killed one.
 * @param {RunRecord} run
 * @returns {number | null}
 */
export function durationOf(run) {
  const recorded = number(run.duration_ms);
  if (recorded !== null) return recorded;
  const start = Date.parse(run.start_time);
  const end = statusOf(run) === "killed"
    ? Date.parse(run.heartbeat_at)
    : run.status === "running"
    ? Date.now()
    : NaN;
  return Number.isFinite(end - start) ? Math.max(0, end - start) : null;
}

/**
 * The decision threshold: the run's own, else the test metrics', else the model parameters'.
 * @param {RunRecord} run
 * @returns {number | null}
 */
export function thresholdOf(run) {
  return number(metrics(run).threshold) ?? number(test(run).threshold) ?? number(modelParams(run).threshold);
}

/**
 * How the run's metrics were measured: the split of a training run, or the sentence a run records.
 * @param {RunRecord} run
 * @returns {string}
 */
export function protocolOf(run) {
  const protocol = metrics(run).protocol;
  if (isGroup(protocol) && protocol.split !== undefined && protocol.split !== null) {
    return String(protocol.split);
  }
  return typeof protocol === "string" ? protocol : "–";
}

/**
 * The forest's parameters in a few words ("300 trees · depth 8 · …").
 * @param {RunRecord} run
 * @returns {string}
 */
export function paramSummary(run) {
  // run.json keeps the tree count beside the searched hyperparameters (`params.trees`).
  /** @type {MetricGroup} */
  const params = { trees: run.params?.trees, ...modelParams(run) };
  const parts = Object.entries(PARAM_SHORT)
    .filter(([key]) => params[key] !== undefined && params[key] !== null)
    .map(([key, short]) => short(params[key]));
  return parts.length ? parts.join(" · ") : "–";
}

/**
 * The expected cost of the repeated cross-validation, when recorded.
 * @param {RunRecord} run
 * @returns {MeanSd | null}
 */
export function repeatedCost(run) {
  const cost = group(repeated(run)).cost;
  if (!isGroup(cost)) return null;
  const mean = number(cost.mean);
  return mean !== null ? { mean, sd: cost.sd } : null;
}

/**
 * A parameter's value as the tables show it.
 * @param {unknown} value
 * @returns {string}
 */
export function format(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(4);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/**
 * The API path of a run.
 * @param {string} id
 * @returns {string}
 */
export const runUrl = (id) => `/runs/${encodeURIComponent(id)}`;
