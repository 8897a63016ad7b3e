// @ts-check
// One run's view: its facts, links to its files, headline tiles, the charts rendered on the
// server, the metrics of every evaluation, calibration, fairness, parameters, step timings and the
// model card (loaded when opened).

import { byId, dateTime, duration, fetchJson, fixed, h, messageOf, percent, replace, s } from "../common.js";
import { stageBadge, statusBadge } from "./badges.js";
import { chartGrid } from "./charts.js";
import { fairnessSection } from "./fairness.js";
import {
  cv,
  durationOf,
  format,
  group,
  isGroup,
  METRICS,
  metrics,
  nested,
  number,
  protocolOf,
  repeated,
  repeatedCost,
  runUrl,
  test,
  thresholdOf,
} from "./fields.js";
import { markdown } from "./markdown.js";

/** @import { Child } from "../common.js" */
/** @import { ChartList, MetricGroup, RunRecord } from "./types.js" */

/**
 * A column of the metrics table: one evaluation's metrics and how to write a value.
 * @typedef {{ title: string, values: MetricGroup, format?: (value: unknown) => string }} MetricColumn
 */

/**
 * The detail view of one run.
 * @param {string} id
 * @returns {Promise<Child[]>}
 */
export async function runView(id) {
  const [run, charts] = /** @type {[RunRecord, ChartList]} */ (
    await Promise.all([fetchJson(runUrl(id)), fetchJson(`${runUrl(id)}/charts`)])
  );
  return [
    h(
      "div",
      { class: "section-head" },
      h("h2", { id: "detail-title" }, "Run ", h("span", { class: "mono" }, run.run_id)),
      h("div", { class: "links" }, statusBadge(run), stageBadge(run)),
    ),
    runMeta(run),
    runLinks(run),
    tiles(run),
    h("h3", {}, "Charts"),
    chartGrid(charts.charts, run),
    h("h3", {}, "Metrics"),
    metricsTable(run),
    calibrationSection(run),
    fairnessSection(run),
    paramsSection(run),
    stepsSection(run),
    modelCardSection(run),
  ];
}

/**
 * @param {RunRecord} run
 * @returns {HTMLElement}
 */
function runMeta(run) {
  const tags = run.tags ?? {};
  /** @type {[string, unknown][]} */
  const items = [
    ["Experiment", run.experiment],
    ["Started", dateTime(run.start_time)],
    ["Duration", duration(durationOf(run))],
    ["Objective", run.params?.objective ?? "–"],
    ["Git commit", tags.git_commit ? tags.git_commit.slice(0, 12) : "–"],
    [
      "Data",
      tags.data_sha256 ? `sha256 ${tags.data_sha256.slice(0, 12)}… · ${tags.data_rows ?? "?"} rows` : "–",
    ],
    ["Seed", run.params?.seed ?? tags.seed ?? "–"],
    ["Protocol", protocolOf(run)],
  ];
  if (run.error) items.push(["Error", run.error]);
  return h(
    "dl",
    { class: "meta-list" },
    items.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, String(value)))),
  );
}

/**
 * @param {RunRecord} run
 * @returns {HTMLElement}
 */
function runLinks(run) {
  const artifacts = run.artifacts ?? [];
  const hasCard = artifacts.includes("MODEL_CARD.md");
  return h(
    "div",
    { class: "links" },
    hasCard &&
      h("button", {
        type: "button",
        class: "button secondary",
        onclick: () => {
          const card = byId("model-card", HTMLDetailsElement);
          card.open = true;
          card.scrollIntoView({ block: "start" });
          card.querySelector("summary")?.focus();
        },
      }, "Read the model card"),
    hasCard &&
      h(
        "a",
        { class: "button secondary", href: `${runUrl(run.run_id)}/artifacts/MODEL_CARD.md` },
        "MODEL_CARD.md",
      ),
    h("a", { class: "button secondary", href: runUrl(run.run_id) }, "run.json"),
    artifacts.includes("trials.csv") &&
      h("a", { class: "button secondary", href: `${runUrl(run.run_id)}/artifacts/trials.csv` }, "trials.csv"),
  );
}

/**
 * @param {RunRecord} run
 * @returns {HTMLElement}
 */
function tiles(run) {
  const cost = repeatedCost(run);
  const nestedCost = group(nested(run)?.cost);
  const items = [
    ["Test ROC AUC", fixed(test(run).roc_auc)],
    ["Test recall (bad)", percent(test(run).recall_bad)],
    ["Test cost", fixed(test(run).cost)],
    ["CV objective", fixed(cv(run).value)],
    number(nestedCost.mean) !== null
      ? [
        "Nested CV cost",
        `${fixed(nestedCost.mean)} (SD ${fixed(nestedCost.sd)}, SE ${fixed(nestedCost.corrected_se)})`,
      ]
      : ["5×10 CV cost", cost ? `${fixed(cost.mean)} ± ${fixed(cost.sd)} (SD)` : "–"],
    ["Threshold", fixed(thresholdOf(run))],
  ];
  return h(
    "dl",
    { class: "tiles" },
    items.map(([term, value]) => h("div", { class: "stat" }, h("dt", {}, term), h("dd", {}, value))),
  );
}

/**
 * Metric groups of a run as table columns: CV out-of-fold, test, plain forest, repeated CV.
 * @param {RunRecord} run
 * @returns {MetricColumn[]}
 */
function metricColumns(run) {
  const m = metrics(run);
  /** @type {MetricColumn[]} */
  const columns = [];
  const outOfFold = cv(run).out_of_fold;
  if (outOfFold) columns.push({ title: "CV out-of-fold", values: group(outOfFold) });
  if (m.test) columns.push({ title: "Test (held out)", values: group(m.test) });
  const baseline = group(m.baseline_test).at_own_threshold;
  if (baseline) columns.push({ title: "Plain forest (test)", values: group(baseline) });
  const nestedSummary = nested(run);
  const rcv = repeated(run);
  if (nestedSummary) {
    // The nested figures replace the 5 × 10 CV of fixed hyperparameters, which tuning overlapped.
    columns.push({
      title: "Nested CV: mean (SD across folds; corrected SE)",
      values: nestedSummary,
      format: (v) =>
        isGroup(v) && number(v.mean) !== null
          ? `${fixed(v.mean)} (SD ${fixed(v.sd)}; SE ${fixed(v.corrected_se)})`
          : "–",
    });
  } else if (rcv) {
    columns.push({
      title: "Repeated CV (mean ± SD)",
      values: group(rcv),
      format: (v) => (isGroup(v) && number(v.mean) !== null ? `${fixed(v.mean)} ± ${fixed(v.sd)}` : "–"),
    });
  }
  return columns;
}

/**
 * @param {RunRecord} run
 * @returns {HTMLElement}
 */
function metricsTable(run) {
  const columns = metricColumns(run);
  const rows = METRICS.filter((metric) => columns.some((c) => c.values[metric.key] !== undefined));
  if (!rows.length) return h("p", { class: "empty-state" }, "This run recorded no metrics.");
  return h(
    "div",
    { class: "table-wrap", tabindex: "0" },
    h(
      "table",
      { class: "metrics-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Metric"),
          columns.map((c) => h("th", { scope: "col", class: "num" }, c.title)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((metric) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, metric.label),
            columns.map((c) => h("td", { class: "num" }, (c.format ?? fixed)(c.values[metric.key]))),
          )
        ),
      ),
    ),
  );
}

/**
 * @param {RunRecord} run
 * @returns {HTMLElement[] | null}
 */
function calibrationSection(run) {
  const recorded = metrics(run).calibration;
  if (!recorded) return null;
  const calibration = group(recorded);
  /** @type {[string, unknown][]} */
  const facts = [
    ["Method", calibration.method],
    [
      "Brier score, test (raw → calibrated)",
      `${fixed(calibration.test_brier_raw)} → ${fixed(calibration.test_brier_calibrated)}`,
    ],
    [
      "Mean PD vs observed bad rate (test)",
      `${percent(calibration.test_mean_pd)} vs ${percent(calibration.test_bad_rate)}`,
    ],
    ["Decision threshold on the PD scale", fixed(calibration.pd_threshold)],
  ];
  return [
    h("h3", {}, "Calibration"),
    h(
      "dl",
      { class: "meta-list" },
      facts.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, String(value ?? "–")))),
    ),
  ];
}

/**
 * @param {RunRecord} run
 * @returns {HTMLElement[]}
 */
function paramsSection(run) {
  const params = run.params ?? {};
  const model = params.model;
  const settings = Object.entries(params).filter(([key]) => key !== "model");
  /**
   * @param {[string, unknown][]} entries
   * @param {string} caption
   */
  const table = (entries, caption) =>
    h(
      "div",
      { class: "table-wrap", tabindex: "0" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, caption),
        h(
          "tbody",
          {},
          entries.map(([key, value]) =>
            h("tr", {}, h("th", { scope: "row" }, key), h("td", { class: "mono" }, format(value)))
          ),
        ),
      ),
    );
  return [
    h("h3", {}, "Parameters"),
    h(
      "div",
      { class: "compare-grid" },
      model
        ? h(
          "div",
          {},
          h("h4", {}, "Model (chosen by the search)"),
          table(Object.entries(group(model)), "Model parameters"),
        )
        : null,
      settings.length
        ? h("div", {}, h("h4", {}, "Training settings"), table(settings, "Training settings"))
        : null,
    ),
  ];
}

/**
 * @param {RunRecord} run
 * @returns {HTMLElement[] | null}
 */
function stepsSection(run) {
  const steps = run.steps ?? [];
  if (!steps.length) return null;
  const longest = Math.max(1, ...steps.map((step) => number(step.duration_ms) ?? 0));
  return [
    h("h3", {}, "Steps"),
    h(
      "div",
      { class: "table-wrap", tabindex: "0" },
      h(
        "table",
        { class: "steps-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Step", "Status", "Duration", ""].map((text, i) =>
              h("th", { scope: "col", class: i === 2 ? "num" : "" }, text)
            ),
          ),
        ),
        h(
          "tbody",
          {},
          steps.map((step) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, step.name),
              h(
                "td",
                {},
                h("span", {
                  class: `badge ${
                    step.status === "failed" ? "bad" : step.status === "finished" ? "good" : "info"
                  }`,
                }, step.status),
              ),
              h("td", { class: "num" }, duration(step.duration_ms)),
              h(
                "td",
                {},
                s(
                  "svg",
                  {
                    class: "step-bar",
                    viewBox: "0 0 100 8",
                    preserveAspectRatio: "none",
                    "aria-hidden": "true",
                  },
                  s("rect", { class: "bg", x: 0, y: 0, width: 100, height: 8, rx: 2 }),
                  s("rect", {
                    class: `fill ${step.status === "failed" ? "failed" : ""}`,
                    x: 0,
                    y: 0,
                    width: Math.max(0.5, (100 * (number(step.duration_ms) ?? 0)) / longest),
                    height: 8,
                    rx: 2,
                  }),
                ),
              ),
            )
          ),
        ),
      ),
    ),
  ];
}

/**
 * The model card, fetched and rendered the first time it is opened.
 * @param {RunRecord} run
 * @returns {HTMLElement[] | null}
 */
function modelCardSection(run) {
  if (!(run.artifacts ?? []).includes("MODEL_CARD.md")) return null;
  const body = h("div", { class: "markdown" }, h("p", { class: "muted" }, "Loading the model card…"));
  let loaded = false;
  const details = h(
    "details",
    { class: "model-card", id: "model-card" },
    h("summary", {}, "Model card"),
    body,
  );
  details.addEventListener("toggle", async () => {
    if (!details.open || loaded) return;
    loaded = true;
    try {
      const response = await fetch(`${runUrl(run.run_id)}/artifacts/MODEL_CARD.md`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      replace(body, markdown(await response.text()));
    } catch (error) {
      loaded = false;
      replace(body, h("p", { class: "form-message" }, `Could not load the model card: ${messageOf(error)}`));
    }
  });
  return [h("h3", {}, "Model card"), details];
}
