// @ts-check
// A run's fairness report with bootstrap 95 % intervals (pipeline/monitoring/fairness_intervals.ts):
// approval rates and good applicants declined per group, disparate impact against the four-fifths
// rule and the equal-opportunity difference, on the training part's out-of-fold decisions and on the
// held-out test part. Runs that recorded point figures only show no figures: a fairness figure
// without its interval misleads. The nested comparison of profiles is the fair-lending page.

import { fixed, h, percent } from "../common.js";
import { metrics } from "./fields.js";

/** @import { RunRecord } from "./types.js" */

/**
 * @typedef {{ estimate: number | null, low: number | null, high: number | null }} Interval
 * @typedef {{ group: string, applicants: number, approval_rate: Interval, good_declined_rate: Interval }} GroupFigures
 * @typedef {{ attribute: string, protected: GroupFigures, reference: GroupFigures, disparate_impact: Interval,
 *   equal_opportunity_difference: Interval }} Grouping
 * @typedef {{ method: string, groupings: Grouping[] }} Report
 */

/**
 * An interval as "0.34 [0.23, 0.47]", or why it is not there.
 * @param {Interval | undefined} x
 * @param {(v: number) => string} format
 * @returns {string}
 */
export function interval(x, format) {
  if (!x || x.estimate === null) return "undefined";
  if (x.low === null || x.high === null) return `${format(x.estimate)} (interval undefined)`;
  return `${format(x.estimate)} [${format(x.low)}, ${format(x.high)}]`;
}

/**
 * The fairness section of a run, or null when the run recorded none.
 * @param {RunRecord} run
 * @returns {(HTMLElement | HTMLElement[])[] | null}
 */
export function fairnessSection(run) {
  const recorded = metrics(run);
  const intervals =
    /** @type {Record<string, Report | undefined> | undefined} */ (recorded.fairness_intervals);
  const link = h("a", { href: `/fairness.html?run=${encodeURIComponent(run.run_id)}` }, "fair-lending page");
  if (!intervals) {
    if (!recorded.fairness) return null;
    return [
      h("h3", {}, "Fairness"),
      h(
        "p",
        { class: "small muted fairness-no-intervals" },
        "This run recorded its fairness figures without intervals, so none is shown here; ",
        h("code", {}, `deno task fairness --run ${run.run_id}`),
        " adds them. See also the ",
        link,
        ".",
      ),
    ];
  }
  /** @type {[string, string][]} */
  const kinds = [
    ["cv_out_of_fold", "out-of-fold decisions of the training part"],
    ["test", "held-out test part"],
  ];
  const parts = kinds.filter(([key]) => intervals[key]?.groupings?.length);
  return [
    h("h3", {}, "Fairness"),
    h(
      "p",
      { class: "small muted" },
      "Disparate impact is the protected group's approval rate over the reference group's; below 0.8 fails the " +
        "four-fifths rule. Equal-opportunity difference compares approval rates among good applicants. " +
        "Brackets are bootstrap 95 % intervals. The comparison of attribute profiles is on the ",
      link,
      ".",
    ),
    parts.map(([key, title]) => fairnessTable(/** @type {Report} */ (intervals[key]), title)),
  ];
}

/**
 * @param {Report} report
 * @param {string} title
 * @returns {HTMLElement}
 */
function fairnessTable(report, title) {
  const pct = (/** @type {number} */ v) => percent(v, 1);
  const two = (/** @type {number} */ v) => fixed(v, 2);
  const three = (/** @type {number} */ v) => fixed(v, 3);
  const failing = report.groupings.filter((g) => (g.disparate_impact.high ?? 1) < 0.8);
  /**
   * @param {Grouping} g
   * @param {GroupFigures} outcome
   * @param {boolean} first
   */
  const groupRow = (g, outcome, first) =>
    h(
      "tr",
      {},
      first ? h("th", { scope: "rowgroup", rowspan: 2 }, g.attribute) : null,
      h("td", {}, outcome.group),
      h("td", { class: "num" }, outcome.applicants),
      h("td", { class: "num" }, interval(outcome.approval_rate, pct)),
      h("td", { class: "num" }, interval(outcome.good_declined_rate, pct)),
      first
        ? h(
          "td",
          { class: "num", rowspan: 2 },
          interval(g.disparate_impact, two),
          (g.disparate_impact.estimate ?? 1) < 0.8 ? [" ", h("span", { class: "badge bad" }, "< 0.8")] : null,
        )
        : null,
      first ? h("td", { class: "num", rowspan: 2 }, interval(g.equal_opportunity_difference, three)) : null,
    );
  return h(
    "div",
    { class: "fairness" },
    h("h4", {}, `On the ${title}`),
    h(
      "div",
      { class: "table-wrap", tabindex: "0" },
      h(
        "table",
        { class: "fairness-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            [
              "Attribute",
              "Group",
              "n",
              "Approval rate",
              "Good declined",
              "Disparate impact",
              "Equal-opp. diff.",
            ]
              .map((text, i) => h("th", { scope: "col", class: i >= 2 ? "num" : "" }, text)),
          ),
        ),
        report.groupings.map((g) =>
          h("tbody", {}, groupRow(g, g.protected, true), groupRow(g, g.reference, false))
        ),
      ),
    ),
    failing.length
      ? h(
        "ul",
        { class: "warning-text small" },
        failing.map((g) =>
          h(
            "li",
            {},
            `⚠ ${g.attribute}: disparate impact below 0.8 across its whole 95 % interval (four-fifths rule)`,
          )
        ),
      )
      : h("p", { class: "small muted" }, "No group's disparate-impact interval lies wholly below 0.8."),
    h("p", { class: "small muted" }, `Intervals: ${report.method}.`),
  );
}
