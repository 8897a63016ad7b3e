// @ts-check
// Two runs side by side: their metrics with the difference and which one is better, their
// parameters with the differing ones marked, and every chart of either run in pairs.

import { fetchJson, fixed, h } from "../common.js";
import { stageBadge, statusBadge } from "./badges.js";
import { chartFigure } from "./charts.js";
import {
  cv,
  format,
  group,
  METRICS,
  modelParams,
  nested,
  number,
  paramSummary,
  repeatedCost,
  runUrl,
  test,
} from "./fields.js";

/** @import { Child } from "../common.js" */
/** @import { Chart, ChartList, MetricGroup, RunRecord } from "./types.js" */

/**
 * The detail view comparing run `a` with run `b`.
 * @param {string} a
 * @param {string} b
 * @returns {Promise<Child[]>}
 */
export async function compareView(a, b) {
  const [runA, runB, chartsA, chartsB] = /** @type {[RunRecord, RunRecord, ChartList, ChartList]} */ (
    await Promise.all([
      fetchJson(runUrl(a)),
      fetchJson(runUrl(b)),
      fetchJson(`${runUrl(a)}/charts`),
      fetchJson(`${runUrl(b)}/charts`),
    ])
  );
  const runs = [runA, runB];
  const names = [...new Map([...chartsA.charts, ...chartsB.charts].map((c) => [c.name, c.title]))];
  /** @type {Map<string, Chart>[]} */
  const byName = [chartsA, chartsB].map((list) => new Map(list.charts.map((c) => [c.name, c])));
  return [
    h("div", { class: "section-head" }, h("h2", { id: "detail-title" }, "Two runs side by side")),
    h(
      "dl",
      { class: "compare-grid" },
      runs.map((run, k) =>
        h(
          "div",
          { class: "stat compare-head", "data-run-id": run.run_id },
          h("dt", {}, k === 0 ? "A" : "B"),
          h(
            "dd",
            {},
            h("a", { href: `#run=${encodeURIComponent(run.run_id)}`, class: "mono" }, run.run_id),
            h("span", { class: "sub" }, statusBadge(run), " ", stageBadge(run), " · ", paramSummary(run)),
          ),
        )
      ),
    ),
    h("h3", {}, "Metrics"),
    compareMetrics(runA, runB),
    h("h3", {}, "Parameters"),
    compareParams(runA, runB),
    names.map(([name, title]) =>
      h(
        "div",
        { class: "compare-row" },
        h("h3", {}, title),
        h(
          "div",
          { class: "compare-grid" },
          byName.map((charts, k) => {
            const chart = charts.get(name);
            return chart
              ? chartFigure(chart, runs[k].run_id, false)
              : h("p", { class: "empty-state" }, `Run ${k === 0 ? "A" : "B"} has no data for this chart.`);
          }),
        ),
      )
    ),
  ];
}

/**
 * Every metric either run recorded, on the test split and out of fold, with B − A.
 * @param {RunRecord} a
 * @param {RunRecord} b
 * @returns {HTMLElement}
 */
function compareMetrics(a, b) {
  /** @type {[string, (run: RunRecord) => MetricGroup][]} */
  const groups = [
    ["Test", test],
    ["CV out-of-fold", (run) => group(cv(run).out_of_fold)],
  ];
  const rows = [];
  for (const [name, pick] of groups) {
    for (const metric of METRICS) {
      const x = number(pick(a)[metric.key]);
      const y = number(pick(b)[metric.key]);
      if (x === null && y === null) continue;
      let verdict = "";
      if (x !== null && y !== null && !metric.neutral && Math.abs(y - x) > 1e-12) {
        verdict = (metric.lower ? y < x : y > x) ? "better" : "worse";
      }
      rows.push(
        h(
          "tr",
          {},
          h("th", { scope: "row" }, `${metric.label} (${name.toLowerCase()})`),
          h("td", { class: "num" }, fixed(x)),
          h("td", { class: "num" }, fixed(y)),
          h(
            "td",
            { class: `num ${verdict}` },
            x !== null && y !== null ? `${y - x >= 0 ? "+" : "−"}${fixed(Math.abs(y - x))}` : "–",
            verdict ? h("span", { class: "visually-hidden" }, ` (B ${verdict})`) : null,
          ),
        ),
      );
    }
  }
  const [costA, costB] = [repeatedCost(a), repeatedCost(b)];
  if (costA || costB) {
    rows.push(h(
      "tr",
      {},
      h("th", { scope: "row" }, "Expected cost (5×10 repeated CV, mean and SD)"),
      [costA, costB].map((cost) =>
        h("td", { class: "num" }, cost ? `${fixed(cost.mean)} (SD ${fixed(cost.sd)})` : "–")
      ),
      h("td", { class: "num" }, costA && costB ? fixed(costB.mean - costA.mean) : "–"),
    ));
  }
  const [nestedA, nestedB] = [group(nested(a)?.cost), group(nested(b)?.cost)];
  const [meanA, meanB] = [number(nestedA.mean), number(nestedB.mean)];
  if (meanA !== null || meanB !== null) {
    rows.push(h(
      "tr",
      {},
      h("th", { scope: "row" }, "Expected cost (nested CV, mean and corrected SE)"),
      [[meanA, nestedA], [meanB, nestedB]].map(([mean, cost]) =>
        h(
          "td",
          { class: "num" },
          mean === null ? "–" : `${fixed(mean)} (SE ${fixed(number(group(cost).corrected_se))})`,
        )
      ),
      // Two runs' nested folds are not paired here: the difference of means, not a paired test.
      h("td", { class: "num" }, meanA !== null && meanB !== null ? fixed(meanB - meanA) : "–"),
    ));
  }
  if (!rows.length) return h("p", { class: "empty-state" }, "Neither run recorded metrics.");
  return h(
    "div",
    { class: "table-wrap", tabindex: "0" },
    h(
      "table",
      { class: "compare-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Metric", "A", "B", "B − A"].map((text, i) =>
            h("th", { scope: "col", class: i ? "num" : "" }, text)
          ),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

/**
 * The model parameters of both runs, the differing ones marked.
 * @param {RunRecord} a
 * @param {RunRecord} b
 * @returns {HTMLElement}
 */
function compareParams(a, b) {
  const pa = modelParams(a);
  const pb = modelParams(b);
  const keys = [...new Set([...Object.keys(pa), ...Object.keys(pb)])];
  if (!keys.length) return h("p", { class: "empty-state" }, "Neither run recorded parameters.");
  return h(
    "div",
    { class: "table-wrap", tabindex: "0" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ["Parameter", "A", "B"].map((text) => h("th", { scope: "col" }, text)))),
      h(
        "tbody",
        {},
        keys.map((key) => {
          const differs = format(pa[key]) !== format(pb[key]);
          return h(
            "tr",
            { class: differs ? "selected" : "" },
            h(
              "th",
              { scope: "row" },
              key,
              differs ? h("span", { class: "visually-hidden" }, " (differs)") : null,
            ),
            h("td", { class: "mono" }, format(pa[key])),
            h("td", { class: "mono" }, format(pb[key])),
          );
        }),
      ),
    ),
  );
}
