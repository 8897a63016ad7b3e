// @ts-check
// Charts drawn on the server (vega-lite, SVG) as figures: the grid of one run's charts, and single
// figures the comparison lays side by side.

import { h } from "../common.js";

/** @import { Chart, RunRecord } from "./types.js" */

/**
 * One chart as a figure; the hyperparameter chart spans the grid when `allowWide`.
 * @param {Chart} chart
 * @param {string} runId
 * @param {boolean} [allowWide]
 * @returns {HTMLElement}
 */
export function chartFigure(chart, runId, allowWide = true) {
  const wide = allowWide && chart.name === "hyperparameters";
  return h(
    "figure",
    { class: `chart ${wide ? "wide" : ""}`, "data-chart": chart.name },
    h("img", { src: chart.url, alt: `${chart.title} of run ${runId}`, decoding: "async" }),
    h("figcaption", {}, chart.title),
  );
}

/**
 * A run's charts as a grid, or why there are none.
 * @param {Chart[]} charts
 * @param {RunRecord} run
 * @returns {HTMLElement}
 */
export function chartGrid(charts, run) {
  if (!charts.length) {
    return h(
      "p",
      { class: "empty-state" },
      "This run has no curves, trials or importances to chart (only runs of ",
      h("code", {}, "deno task train"),
      " record them).",
    );
  }
  return h("div", { class: "chart-grid" }, charts.map((chart) => chartFigure(chart, run.run_id)));
}
