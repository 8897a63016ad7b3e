// @ts-check
// A run's fairness report: approval, recall and false declines per group, disparate impact against
// the four-fifths rule and the equal-opportunity difference, on the training part's out-of-fold
// decisions and on the held-out test part.

import { fixed, h, percent } from "../common.js";
import { group, metrics, number } from "./fields.js";

/** @import { FairnessComparison, GroupOutcome, RunRecord } from "./types.js" */

/**
 * The fairness section of a run, or null when the run recorded none.
 * @param {RunRecord} run
 * @returns {(HTMLElement | HTMLElement[])[] | null}
 */
export function fairnessSection(run) {
  const fairness = metrics(run).fairness;
  if (!fairness) return null;
  const recorded = group(fairness);
  /** @type {[string, string][]} */
  const kinds = [
    ["cv_out_of_fold", "out-of-fold decisions of the training part"],
    ["test", "held-out test part"],
  ];
  const parts = kinds.filter(([key]) => Array.isArray(recorded[key]) && recorded[key].length);
  return [
    h("h3", {}, "Fairness"),
    h(
      "p",
      { class: "small muted" },
      "Disparate impact is the protected group's approval rate over the reference group's; below 0.8 fails the " +
        "four-fifths rule. Equal-opportunity difference compares recall on bad risks.",
    ),
    parts.map(([key, title]) => fairnessTable(comparisons(recorded[key]), title)),
  ];
}

/**
 * The comparisons of one part, as `pipeline/monitoring/fairness.ts` writes them into run.json.
 * @param {unknown} value
 * @returns {FairnessComparison[]}
 */
function comparisons(value) {
  return Array.isArray(value) ? value : [];
}

/**
 * @param {FairnessComparison[]} reports
 * @param {string} title
 * @returns {HTMLElement}
 */
function fairnessTable(reports, title) {
  const warnings = reports.filter((r) => number(r.disparate_impact) !== null && r.disparate_impact < 0.8);
  /**
   * @param {FairnessComparison} report
   * @param {GroupOutcome} outcome
   * @param {boolean} first
   */
  const groupRow = (report, outcome, first) =>
    h(
      "tr",
      {},
      first ? h("th", { scope: "rowgroup", rowspan: 2 }, report.attribute) : null,
      h("td", {}, outcome.group),
      h("td", { class: "num" }, outcome.count),
      h("td", { class: "num" }, percent(outcome.approval_rate)),
      h("td", { class: "num" }, percent(outcome.recall_bad)),
      h("td", { class: "num" }, percent(outcome.false_decline_rate)),
      first
        ? h(
          "td",
          { class: "num", rowspan: 2 },
          fixed(report.disparate_impact, 2),
          report.disparate_impact < 0.8 ? [" ", h("span", { class: "badge bad" }, "< 0.8")] : null,
        )
        : null,
      first ? h("td", { class: "num", rowspan: 2 }, fixed(report.equal_opportunity_difference)) : null,
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
              "Recall (bad)",
              "False declines",
              "Disparate impact",
              "Equal-opp. diff.",
            ]
              .map((text, i) => h("th", { scope: "col", class: i >= 2 ? "num" : "" }, text)),
          ),
        ),
        reports.map((report) =>
          h("tbody", {}, groupRow(report, report.protected, true), groupRow(report, report.reference, false))
        ),
      ),
    ),
    warnings.length
      ? h(
        "ul",
        { class: "warning-text small" },
        warnings.map((r) =>
          h(
            "li",
            {},
            `⚠ ${r.warning ?? `disparate impact ${fixed(r.disparate_impact, 2)} < 0.8 (four-fifths rule)`}`,
          )
        ),
      )
      : h("p", { class: "small muted" }, "No group falls below the four-fifths rule."),
  );
}
