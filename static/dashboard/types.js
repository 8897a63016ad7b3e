// @ts-check
// The types the dashboard reads, in one place. A run and a registry entry are the server's own
// TypeScript types (pipeline/tracking/mod.ts), so a change to run.json's shape shows up here as a
// type error; the shapes below are the JSON the dashboard's routes answer.

/** @typedef {import("../../pipeline/tracking/mod.ts").RunRecord} RunRecord */
/** @typedef {import("../../pipeline/tracking/mod.ts").StepRecord} StepRecord */
/** @typedef {import("../../pipeline/tracking/mod.ts").ModelVersion} ModelVersion */
/** @typedef {import("../../pipeline/monitoring/fairness.ts").FairnessComparison} FairnessComparison */
/** @typedef {import("../../pipeline/monitoring/fairness.ts").GroupOutcome} GroupOutcome */

/**
 * `GET /registry`: the registered model versions.
 * @typedef {{ models?: ModelVersion[] }} RegistryAnswer
 */

/**
 * One chart of `GET /runs/{id}/charts`, rendered on the server as an SVG at `url`.
 * @typedef {{ name: string, title: string, url: string }} Chart
 */

/** @typedef {{ charts: Chart[] }} ChartList */

/**
 * A group of metrics as run.json records it (`metrics.test`, `metrics.cv.out_of_fold`, …): read
 * key by key and narrowed where used, since run.json types `metrics` as unknown values.
 * @typedef {Record<string, unknown>} MetricGroup
 */

/**
 * A mean and a standard deviation (a metric of the repeated cross-validation).
 * @typedef {{ mean: number, sd: unknown }} MeanSd
 */

export {};
