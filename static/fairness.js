// @ts-check
// The fair-lending page (fairness.html): the production run's `fair_lending` report (written by
// `deno task fairness`, pipeline/model/fair_lending.ts) as a table, two interval charts drawn as SVG
// elements (built node by node, never from markup strings), the paired cost differences and the production choice.
// `?run=ID` shows another run's report.

import { byId, fetchJson, fixed, h, messageOf, percent, replace, s } from "./common.js";

/**
 * @typedef {{ estimate: number | null, low: number | null, high: number | null, undefined_reason?: string }} Interval
 * @typedef {{ group: string, applicants: number, predictions: number, approval_rate: Interval,
 *   good_declined_rate: Interval, mean_pd: Interval | null, bad_rate: Interval, calibration_gap: Interval | null }} GroupFigures
 * @typedef {{ attribute: string, protected: GroupFigures, reference: GroupFigures, disparate_impact: Interval,
 *   equal_opportunity_difference: Interval, note?: string }} Grouping
 * @typedef {{ mean: number, corrected_se: number, interval?: [number, number] }} Summary
 * @typedef {{ name: string, label: string, cost: Summary, roc_auc: Summary, recall_bad: Summary,
 *   folds_identical_to_full: boolean | null, fairness: { groupings: Grouping[] } }} Variant
 * @typedef {{ b: string, cost: Summary & { interval: [number, number] }, roc_auc: Summary, recall_bad: Summary }} Paired
 * @typedef {{ estimate: number | null, met: boolean, short_by: number | null }} DiTarget
 * @typedef {{ variant: string, disparate_impact_age: DiTarget, disparate_impact_sex: DiTarget,
 *   cost_increase: { value: number, met: boolean, over_by: number } }} Target
 * @typedef {{ rule: string, reason: string, chosen: string }} Decision
 * @typedef {{ protocol: string, interval_method: string, variants: Variant[], paired: Paired[],
 *   decision: Decision | null, targets: Target[], evaluated_run?: string }} FairLending
 */

/**
 * An interval as "0.34 [0.23, 0.47]", or why it is undefined.
 * @param {Interval | null | undefined} x
 * @param {(v: number) => string} format
 * @returns {string}
 */
function ci(x, format) {
  if (!x || x.estimate === null) return "undefined";
  if (x.low === null || x.high === null) return `${format(x.estimate)} (interval undefined)`;
  return `${format(x.estimate)} [${format(x.low)}, ${format(x.high)}]`;
}

const two = (/** @type {number} */ v) => fixed(v, 2);
const three = (/** @type {number} */ v) => fixed(v, 3);
const pct = (/** @type {number} */ v) => percent(v, 1);

async function main() {
  const body = byId("fairness-body", HTMLElement);
  const wanted = new URLSearchParams(location.search).get("run");
  let runId = wanted;
  if (!runId) {
    const registry =
      /** @type {{ models?: { run_id: string, stage: string }[] }} */ (await fetchJson("/registry"));
    runId = registry.models?.find((m) => m.stage === "production")?.run_id ?? null;
  }
  if (!runId) {
    replace(body, h("p", { class: "empty-state" }, "No model in production yet."));
    return;
  }
  const run = /** @type {{ run_id: string, metrics?: Record<string, unknown> }} */ (
    await fetchJson(`/runs/${encodeURIComponent(runId)}`)
  );
  const report = /** @type {FairLending | undefined} */ (run.metrics?.fair_lending);
  if (!report || !Array.isArray(report.variants)) {
    replace(
      body,
      h(
        "p",
        { class: "empty-state" },
        `Run ${run.run_id} has no fair-lending comparison yet: run `,
        h("code", {}, "deno task evaluate --nested --profile fair"),
        " then ",
        h("code", {}, "deno task fairness"),
        ".",
      ),
    );
    return;
  }
  replace(body, ...page(run.run_id, report));
}

/**
 * @param {string} runId
 * @param {FairLending} report
 */
function page(runId, report) {
  return [
    report.decision
      ? h(
        "div",
        { class: "fairness-decision", id: "decision", dataset: { chosen: report.decision.chosen } },
        h("p", {}, h("strong", {}, "Production choice: "), `${report.decision.reason}.`),
        h(
          "p",
          { class: "small muted" },
          `Rule: ${report.decision.rule}.`,
        ),
      )
      : h("p", { class: "muted" }, "No fair profile evaluated yet: no production choice to make."),
    h(
      "p",
      { class: "small muted" },
      `Run ${runId}${
        report.evaluated_run
          ? ` (the comparison was measured on the nested evaluations of run ${report.evaluated_run})`
          : ""
      }. ${report.protocol}. Fairness intervals: ${report.interval_method}.`,
    ),
    h("h3", {}, "Profiles side by side"),
    variantTable(report.variants),
    h("h3", {}, "Disparate impact (four-fifths rule at 0.8)"),
    intervalChart(
      "di-chart",
      "Disparate impact with 95 % intervals per model and attribute; the dashed line is 0.8.",
      report.variants.flatMap((v) =>
        v.fairness.groupings.map((g) => ({
          label: `${v.name} · ${shortName(g.attribute)}`,
          interval: g.disparate_impact,
        }))
      ),
      { min: 0, max: 1.2, ticks: 6, reference: 0.8, format: two },
    ),
    h("h3", {}, "Approval rates per group"),
    intervalChart(
      "approval-chart",
      "Approval rate with 95 % intervals per model and group.",
      report.variants.flatMap((v) =>
        v.fairness.groupings.flatMap((g) => [
          { label: `${v.name} · ${g.protected.group}`, interval: g.protected.approval_rate },
          { label: `${v.name} · ${g.reference.group}`, interval: g.reference.approval_rate },
        ])
      ),
      { min: 0, max: 1, ticks: 5, reference: null, format: pct },
    ),
    h("h3", {}, "Calibration within groups"),
    calibrationTable(report.variants),
    h("h3", {}, "Paired differences on identical folds"),
    h(
      "ul",
      { class: "paired-list" },
      report.paired.map((p) =>
        h(
          "li",
          {},
          `full − ${p.b}: expected cost ${fixed(p.cost.mean, 4)} (corrected SE ${
            fixed(p.cost.corrected_se, 4)
          }, ` +
            `95 % t interval ${fixed(p.cost.interval[0], 4)} to ${fixed(p.cost.interval[1], 4)}); ROC AUC ${
              fixed(p.roc_auc.mean, 4)
            } (SE ${fixed(p.roc_auc.corrected_se, 4)}); recall on bad ${fixed(p.recall_bad.mean, 4)} (SE ${
              fixed(p.recall_bad.corrected_se, 4)
            })`,
        )
      ),
    ),
    h("h3", {}, "Targets"),
    h(
      "ul",
      { class: "targets-list" },
      report.targets.map((t) =>
        h(
          "li",
          {},
          `${t.variant}: disparate impact age ${target(t.disparate_impact_age)}, sex ${
            target(t.disparate_impact_sex)
          }; ` +
            `cost +${fixed(t.cost_increase.value, 4)} over full (${
              t.cost_increase.met ? "within 0.02: met" : `missed by ${fixed(t.cost_increase.over_by, 4)}`
            })`,
        )
      ),
    ),
  ];
}

/** @param {DiTarget} t */
function target(t) {
  if (t.estimate === null) return "undefined";
  return t.met ? `${two(t.estimate)} (≥ 0.8: met)` : `${two(t.estimate)} (missed by ${two(t.short_by ?? 0)})`;
}

/** @param {string} attribute */
function shortName(attribute) {
  return attribute.startsWith("sex") ? "sex" : attribute;
}

/** @param {Variant[]} variants */
function variantTable(variants) {
  const headers = [
    "Model",
    "Expected cost (SE)",
    "ROC AUC",
    "Recall (bad)",
    "DI age",
    "DI sex",
    "Equal-opp. diff. age",
    "Equal-opp. diff. sex",
    "Approval < 25 / ≥ 25",
    "Approval women / men",
  ];
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Profiles side by side" },
    h(
      "table",
      { class: "fairness-table", id: "variants" },
      h("thead", {}, h("tr", {}, headers.map((t, i) => h("th", { scope: "col", class: i ? "num" : "" }, t)))),
      h(
        "tbody",
        {},
        variants.map((v) => {
          const [age, sex] = v.fairness.groupings;
          return h(
            "tr",
            { dataset: { variant: v.name } },
            h("th", { scope: "row" }, v.label),
            h("td", { class: "num" }, `${fixed(v.cost.mean)} (${fixed(v.cost.corrected_se)})`),
            h("td", { class: "num" }, fixed(v.roc_auc.mean)),
            h("td", { class: "num" }, pct(v.recall_bad.mean)),
            h("td", { class: "num", dataset: { figure: "di-age" } }, ci(age.disparate_impact, two)),
            h("td", { class: "num", dataset: { figure: "di-sex" } }, ci(sex.disparate_impact, two)),
            h("td", { class: "num" }, ci(age.equal_opportunity_difference, three)),
            h("td", { class: "num" }, ci(sex.equal_opportunity_difference, three)),
            h(
              "td",
              { class: "num" },
              `${ci(age.protected.approval_rate, pct)} / ${ci(age.reference.approval_rate, pct)}`,
            ),
            h(
              "td",
              { class: "num" },
              `${ci(sex.protected.approval_rate, pct)} / ${ci(sex.reference.approval_rate, pct)}`,
            ),
          );
        }),
      ),
    ),
  );
}

/** @param {Variant[]} variants */
function calibrationTable(variants) {
  return h(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Calibration within groups" },
    h(
      "table",
      { class: "fairness-table", id: "calibration" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ["Model", "Group", "n", "Mean PD", "Bad rate", "PD − bad rate", "Good applicants declined"].map((
            t,
            i,
          ) => h("th", { scope: "col", class: i > 1 ? "num" : "" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        variants.flatMap((v) =>
          v.fairness.groupings.flatMap((g) =>
            [g.protected, g.reference].map((x) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, v.name),
                h("td", {}, x.group),
                h("td", { class: "num" }, String(x.applicants)),
                h("td", { class: "num" }, ci(x.mean_pd, three)),
                h("td", { class: "num" }, ci(x.bad_rate, three)),
                h("td", { class: "num" }, ci(x.calibration_gap, three)),
                h("td", { class: "num" }, ci(x.good_declined_rate, pct)),
              )
            )
          )
        ),
      ),
    ),
  );
}

/**
 * A horizontal interval chart (point and whiskers per row), drawn with SVG elements.
 * @param {string} id
 * @param {string} caption
 * @param {{ label: string, interval: Interval }[]} rows
 * @param {{ min: number, max: number, ticks: number, reference: number | null, format: (v: number) => string }} scale
 */
function intervalChart(id, caption, rows, scale) {
  const labelWidth = 230, plotWidth = 420, rowHeight = 22, top = 10, axis = 26;
  const width = labelWidth + plotWidth + 90;
  const height = top + rows.length * rowHeight + axis;
  const tickFormat = scale.format;
  const x = (/** @type {number} */ v) =>
    labelWidth +
    ((Math.min(scale.max, Math.max(scale.min, v)) - scale.min) / (scale.max - scale.min)) * plotWidth;
  const ticks = Array.from(
    { length: scale.ticks + 1 },
    (_, i) => scale.min + (i * (scale.max - scale.min)) / scale.ticks,
  );
  return h(
    "figure",
    { class: "interval-chart", id },
    s(
      "svg",
      { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": caption, width: "100%" },
      ticks.map((t) =>
        s(
          "g",
          {},
          s("line", { x1: x(t), x2: x(t), y1: top, y2: height - axis, class: "grid" }),
          s("text", { x: x(t), y: height - 8, "text-anchor": "middle", class: "tick" }, tickFormat(t)),
        )
      ),
      scale.reference === null ? null : s("line", {
        x1: x(scale.reference),
        x2: x(scale.reference),
        y1: top,
        y2: height - axis,
        class: "reference",
      }),
      rows.map((row, i) => {
        const y = top + i * rowHeight + rowHeight / 2;
        const iv = row.interval;
        return s(
          "g",
          { class: "row", "data-label": row.label },
          s("text", { x: labelWidth - 8, y: y + 4, "text-anchor": "end", class: "label" }, row.label),
          iv.estimate !== null && iv.low !== null && iv.high !== null
            ? s("line", { x1: x(iv.low), x2: x(iv.high), y1: y, y2: y, class: "whisker" })
            : null,
          iv.estimate !== null ? s("circle", { cx: x(iv.estimate), cy: y, r: 4, class: "point" }) : null,
          s(
            "text",
            { x: labelWidth + plotWidth + 8, y: y + 4, class: "value" },
            iv.estimate === null ? "undefined" : scale.format(iv.estimate),
          ),
        );
      }),
    ),
    h("figcaption", { class: "small muted" }, caption),
  );
}

main()
  .catch((error) => {
    replace(
      byId("fairness-body", HTMLElement),
      h("p", { class: "form-message" }, `Could not load: ${messageOf(error)}`),
    );
  })
  .finally(() => {
    byId("fairness", HTMLElement).setAttribute("aria-busy", "false");
    document.body.dataset.ready = "true";
  });
