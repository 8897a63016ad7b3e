// The experiments dashboard: the runs table (sortable, production badge, stale runs shown as
// killed), one run's view (charts rendered on the server, metrics, calibration, fairness with the
// four-fifths rule, parameters, steps, model card) and two runs side by side. The view follows the
// URL fragment (#run=ID, #compare=A,B) so it can be bookmarked and the back button works.

import { dateTime, duration, fetchJson, fixed, h, percent, replace, s } from "./common.js";

/** Metrics of run.json's groups, in report order; `lower` marks those where less is better. */
const METRICS = [
  { key: "roc_auc", label: "ROC AUC" },
  { key: "pr_auc", label: "PR AUC (average precision)" },
  { key: "gini", label: "Gini" },
  { key: "ks", label: "KS statistic" },
  { key: "brier", label: "Brier score (raw)", lower: true },
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

/** Short names of the forest's parameters for the table's summary column. */
const PARAM_SHORT = {
  nEstimators: (v) => `${v} trees`,
  maxDepth: (v) => `depth ${v}`,
  minSamplesLeaf: (v) => `leaf ${v}`,
  maxFeatures: (v) => `features ${v}`,
  samplingStrategy: (v) => `sampling ${typeof v === "number" ? v.toFixed(2) : v}`,
  criterion: (v) => String(v),
};

const STAGE_ORDER = { production: 0, candidate: 1, archived: 2 };

const state = {
  runs: [],
  /** run id → registry entry */
  versions: new Map(),
  sort: { key: "started", direction: "descending" },
  selected: [],
  current: null,
};

const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------------------------ run fields

const metrics = (run) => run.metrics ?? {};
const test = (run) => metrics(run).test ?? {};
const cv = (run) => metrics(run).cv ?? {};
const repeated = (run) => metrics(run).repeated_cv;
const modelParams = (run) => run.params?.model ?? run.params ?? {};
const number = (value) => (typeof value === "number" && Number.isFinite(value) ? value : null);

/** finished, failed, running, or killed (a running run whose heartbeat stopped). */
function statusOf(run) {
  return run.tags?.stale === "true" ? "killed" : run.status;
}

/** Wall time: recorded when the run ended; so far for a live run; until its last heartbeat for a killed one. */
function durationOf(run) {
  if (number(run.duration_ms) !== null) return run.duration_ms;
  const start = Date.parse(run.start_time);
  const end = statusOf(run) === "killed"
    ? Date.parse(run.heartbeat_at)
    : run.status === "running"
    ? Date.now()
    : NaN;
  return Number.isFinite(end - start) ? Math.max(0, end - start) : null;
}

function thresholdOf(run) {
  return number(metrics(run).threshold) ?? number(test(run).threshold) ?? number(modelParams(run).threshold);
}

function statusBadge(run) {
  const status = statusOf(run);
  const kind = { finished: "good", failed: "bad", running: "info", killed: "warn" }[status] ?? "";
  const text = status === "killed" ? "killed (stale)" : status;
  return h("span", { class: `badge ${kind}`, "data-status": status }, text);
}

function stageBadge(run) {
  const version = state.versions.get(run.run_id);
  if (!version) return h("span", { class: "muted small" }, "not registered");
  return h(
    "span",
    { class: `badge ${version.stage === "production" ? "production" : ""}`, "data-stage": version.stage },
    `v${version.version} ${version.stage}`,
  );
}

function paramSummary(run) {
  const params = modelParams(run);
  const parts = Object.entries(PARAM_SHORT)
    .filter(([key]) => params[key] !== undefined && params[key] !== null)
    .map(([key, short]) => short(params[key]));
  return parts.length ? parts.join(" · ") : "–";
}

function repeatedCost(run) {
  const cost = repeated(run)?.cost;
  return cost && number(cost.mean) !== null ? cost : null;
}

// ------------------------------------------------------------------------------------ runs table

const COLUMNS = [
  {
    key: "run",
    label: "Run",
    value: (r) => r.run_id,
    cell: (r) =>
      h(
        "td",
        {},
        h("a", { href: `#run=${encodeURIComponent(r.run_id)}`, class: "mono run-id" }, r.run_id),
        h(
          "div",
          { class: "small muted" },
          [r.experiment, r.params?.objective && `objective ${r.params.objective}`].filter(Boolean).join(
            " · ",
          ),
        ),
      ),
  },
  {
    key: "status",
    label: "Status",
    // The model in production first, then candidates and archived versions, then unregistered runs.
    value: (r) => `${STAGE_ORDER[state.versions.get(r.run_id)?.stage] ?? 9} ${statusOf(r)}`,
    cell: (r) =>
      h(
        "td",
        {},
        h("div", { class: "badges" }, statusBadge(r), state.versions.has(r.run_id) ? stageBadge(r) : null),
      ),
  },
  {
    key: "params",
    label: "Parameters",
    sortable: false,
    cell: (r) => h("td", { class: "small params" }, paramSummary(r)),
  },
  { key: "cv", group: "CV", label: "Objective", numeric: true, value: (r) => number(cv(r).value) },
  {
    key: "cv_auc",
    group: "CV",
    label: "AUC",
    numeric: true,
    value: (r) => number(cv(r).out_of_fold?.roc_auc),
  },
  { key: "auc", group: "Test", label: "AUC", numeric: true, value: (r) => number(test(r).roc_auc) },
  { key: "recall", group: "Test", label: "Recall", numeric: true, value: (r) => number(test(r).recall_bad) },
  {
    key: "accuracy",
    group: "Test",
    label: "Accuracy",
    numeric: true,
    value: (r) => number(test(r).accuracy),
  },
  { key: "cost", group: "Test", label: "Cost", numeric: true, value: (r) => number(test(r).cost) },
  {
    key: "repeated",
    group: "5×10 CV",
    optional: true,
    label: "Cost",
    numeric: true,
    value: (r) => repeatedCost(r)?.mean ?? null,
    cell: (r) => {
      const cost = repeatedCost(r);
      return h("td", { class: "num" }, cost ? `${fixed(cost.mean)} ± ${fixed(cost.sd)}` : "–");
    },
  },
  {
    key: "started",
    label: "Started",
    value: (r) => r.start_time,
    cell: (r) => {
      const [day, time] = dateTime(r.start_time).split(", ");
      return h(
        "td",
        { class: "small" },
        h(
          "time",
          { datetime: r.start_time },
          day,
          time ? h("span", { class: "muted started-time" }, time) : null,
        ),
      );
    },
  },
  {
    key: "duration",
    label: "Duration",
    numeric: true,
    value: durationOf,
    cell: (r) => h("td", { class: "num" }, duration(durationOf(r))),
  },
];

/** The columns to show: an optional one only when some run has a value for it. */
function visibleColumns() {
  return COLUMNS.filter((c) => !c.optional || state.runs.some((r) => c.value(r) !== null));
}

function sortedRuns() {
  const column = COLUMNS.find((c) => c.key === state.sort.key);
  const sign = state.sort.direction === "ascending" ? 1 : -1;
  return [...state.runs].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    return sign * (typeof x === "number" ? x - y : String(x).localeCompare(String(y)));
  });
}

function renderTable() {
  const columns = visibleColumns();
  const body = $("runs-body");
  if (state.runs.length === 0) {
    replace(
      body,
      h("p", { class: "empty-state" }, "No runs yet. Train one with ", h("code", {}, "deno task train"), "."),
    );
    return;
  }
  // A first header row names the metric groups (cross-validation, held-out test, repeated CV).
  const groups = [];
  for (const column of columns) {
    const last = groups.at(-1);
    if (last && column.group && last.group === column.group) last.span++;
    else groups.push({ group: column.group, span: 1 });
  }
  const groupRow = h(
    "tr",
    { class: "group-row" },
    h("td", {}),
    groups.map(({ group, span }) =>
      group ? h("th", { scope: "colgroup", colspan: span, class: "num" }, group) : h("td", { colspan: span })
    ),
  );
  const head = h(
    "tr",
    {},
    h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Compare")),
    columns.map((column) => {
      const sorted = state.sort.key === column.key;
      const th = h("th", {
        scope: "col",
        class: column.numeric ? "num" : "",
        "aria-sort": column.sortable === false ? undefined : sorted ? state.sort.direction : "none",
        "data-key": column.key,
      });
      if (column.sortable === false) th.textContent = column.label;
      else {
        th.append(h(
          "button",
          {
            type: "button",
            class: "sort-button",
            onclick: () => sortBy(column.key),
          },
          column.label,
          column.group ? h("span", { class: "visually-hidden" }, ` (${column.group})`) : null,
        ));
      }
      return th;
    }),
  );
  const rows = sortedRuns().map((run) => {
    const selected = state.selected.includes(run.run_id);
    const checkbox = h("input", {
      type: "checkbox",
      checked: selected,
      disabled: !selected && state.selected.length >= 2,
      "aria-label": `Select run ${run.run_id} to compare`,
      onchange: (event) => toggleSelected(run.run_id, event.target.checked),
    });
    return h(
      "tr",
      {
        "data-run-id": run.run_id,
        class: [selected ? "selected" : "", state.current === run.run_id ? "current" : ""].join(" ").trim(),
      },
      h("td", {}, checkbox),
      columns.map((column) => {
        if (column.cell) return column.cell(run);
        const value = column.value(run);
        return h(
          "td",
          { class: column.numeric ? "num" : "" },
          column.numeric ? fixed(value) : value || "–",
        );
      }),
    );
  });
  replace(
    body,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "runs-table", id: "runs-table" },
        h("caption", { class: "visually-hidden" }, "Training runs; column headers sort the table"),
        h("thead", {}, groupRow, head),
        h("tbody", {}, rows),
      ),
    ),
  );
  const compare = $("compare");
  compare.textContent = `Compare selected (${state.selected.length}/2)`;
  compare.disabled = state.selected.length !== 2;
}

function sortBy(key) {
  state.sort = state.sort.key === key
    ? { key, direction: state.sort.direction === "ascending" ? "descending" : "ascending" }
    : { key, direction: COLUMNS.find((c) => c.key === key).numeric ? "descending" : "ascending" };
  renderTable();
  document.querySelector(`th[data-key="${key}"] button`)?.focus();
}

function toggleSelected(id, on) {
  state.selected = on
    ? [...state.selected.filter((x) => x !== id), id].slice(-2)
    : state.selected.filter((x) => x !== id);
  renderTable();
  document.querySelector(`tr[data-run-id="${id}"] input[type="checkbox"]`)?.focus();
}

// ------------------------------------------------------------------------------------ routing

async function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  const detail = $("detail");
  const run = params.get("run");
  const compare = params.get("compare");
  state.current = run;
  renderTable();
  if (run) await show(() => runView(run));
  else if (compare && compare.split(",").length === 2) await show(() => compareView(...compare.split(",")));
  else {
    detail.hidden = true;
    detail.replaceChildren();
  }
}

async function show(build) {
  const detail = $("detail");
  detail.hidden = false;
  detail.setAttribute("aria-busy", "true");
  replace(detail, h("p", { class: "muted" }, "Loading…"));
  try {
    replace(detail, ...await build());
  } catch (error) {
    replace(detail, h("p", { class: "form-message" }, `Could not load: ${error.message}`));
  }
  detail.setAttribute("aria-busy", "false");
  const heading = detail.querySelector("h2");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  detail.scrollIntoView({ block: "start" });
}

const runUrl = (id) => `/runs/${encodeURIComponent(id)}`;

// ------------------------------------------------------------------------------------ one run

async function runView(id) {
  const [run, charts] = await Promise.all([fetchJson(runUrl(id)), fetchJson(`${runUrl(id)}/charts`)]);
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

function runMeta(run) {
  const tags = run.tags ?? {};
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
    [
      "Protocol",
      metrics(run).protocol?.split ??
        (typeof metrics(run).protocol === "string" ? metrics(run).protocol : "–"),
    ],
  ];
  if (run.error) items.push(["Error", run.error]);
  return h(
    "dl",
    { class: "meta-list" },
    items.map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, String(value)))),
  );
}

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
          const card = $("model-card");
          card.open = true;
          card.scrollIntoView({ block: "start" });
          card.querySelector("summary").focus();
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

function tiles(run) {
  const cost = repeatedCost(run);
  const items = [
    ["Test ROC AUC", fixed(test(run).roc_auc)],
    ["Test recall (bad)", percent(test(run).recall_bad)],
    ["Test cost", fixed(test(run).cost)],
    ["CV objective", fixed(cv(run).value)],
    ["5×10 CV cost", cost ? `${fixed(cost.mean)} ± ${fixed(cost.sd)}` : "–"],
    ["Threshold", fixed(thresholdOf(run))],
  ];
  return h(
    "dl",
    { class: "tiles" },
    items.map(([term, value]) => h("div", { class: "stat" }, h("dt", {}, term), h("dd", {}, value))),
  );
}

function chartFigure(chart, runId, allowWide = true) {
  const wide = allowWide && chart.name === "hyperparameters";
  return h(
    "figure",
    { class: `chart ${wide ? "wide" : ""}`, "data-chart": chart.name },
    h("img", { src: chart.url, alt: `${chart.title} of run ${runId}`, decoding: "async" }),
    h("figcaption", {}, chart.title),
  );
}

function chartGrid(charts, run) {
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

/** Metric groups of a run as table columns: CV out-of-fold, test, plain forest, repeated CV. */
function metricColumns(run) {
  const m = metrics(run);
  const columns = [];
  if (cv(run).out_of_fold) columns.push({ title: "CV out-of-fold", values: cv(run).out_of_fold });
  if (m.test) columns.push({ title: "Test (held out)", values: m.test });
  const baseline = m.baseline_test?.at_own_threshold;
  if (baseline) columns.push({ title: "Plain forest (test)", values: baseline });
  const rcv = repeated(run);
  if (rcv) {
    columns.push({
      title: "Repeated CV (mean ± sd)",
      values: rcv,
      format: (v) => (v && number(v.mean) !== null ? `${fixed(v.mean)} ± ${fixed(v.sd)}` : "–"),
    });
  }
  return columns;
}

function metricsTable(run) {
  const columns = metricColumns(run);
  const rows = METRICS.filter((metric) => columns.some((c) => c.values[metric.key] !== undefined));
  if (!rows.length) return h("p", { class: "empty-state" }, "This run recorded no metrics.");
  return h(
    "div",
    { class: "table-wrap" },
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

function calibrationSection(run) {
  const calibration = metrics(run).calibration;
  if (!calibration) return null;
  return [
    h("h3", {}, "Calibration"),
    h(
      "dl",
      { class: "meta-list" },
      [
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
      ].map(([term, value]) => h("div", {}, h("dt", {}, term), h("dd", {}, String(value ?? "–")))),
    ),
  ];
}

function fairnessSection(run) {
  const fairness = metrics(run).fairness;
  if (!fairness) return null;
  const parts = [
    ["cv_out_of_fold", "out-of-fold decisions of the training part"],
    ["test", "held-out test part"],
  ].filter(([key]) => Array.isArray(fairness[key]) && fairness[key].length);
  return [
    h("h3", {}, "Fairness"),
    h(
      "p",
      { class: "small muted" },
      "Disparate impact is the protected group's approval rate over the reference group's; below 0.8 fails the " +
        "four-fifths rule. Equal-opportunity difference compares recall on bad risks.",
    ),
    parts.map(([key, title]) => fairnessTable(fairness[key], title)),
  ];
}

function fairnessTable(reports, title) {
  const warnings = reports.filter((r) => number(r.disparate_impact) !== null && r.disparate_impact < 0.8);
  const groupRow = (report, group, first) =>
    h(
      "tr",
      {},
      first ? h("th", { scope: "rowgroup", rowspan: 2 }, report.attribute) : null,
      h("td", {}, group.group),
      h("td", { class: "num" }, group.count),
      h("td", { class: "num" }, percent(group.approval_rate)),
      h("td", { class: "num" }, percent(group.recall_bad)),
      h("td", { class: "num" }, percent(group.false_decline_rate)),
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
      { class: "table-wrap" },
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

function paramsSection(run) {
  const params = run.params ?? {};
  const model = params.model;
  const settings = Object.entries(params).filter(([key]) => key !== "model");
  const table = (entries, caption) =>
    h(
      "div",
      { class: "table-wrap" },
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
          table(Object.entries(model), "Model parameters"),
        )
        : null,
      settings.length
        ? h("div", {}, h("h4", {}, "Training settings"), table(settings, "Training settings"))
        : null,
    ),
  ];
}

function format(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(4);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function stepsSection(run) {
  const steps = run.steps ?? [];
  if (!steps.length) return null;
  const longest = Math.max(1, ...steps.map((step) => number(step.duration_ms) ?? 0));
  return [
    h("h3", {}, "Steps"),
    h(
      "div",
      { class: "table-wrap" },
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
      replace(body, h("p", { class: "form-message" }, `Could not load the model card: ${error.message}`));
    }
  });
  return [h("h3", {}, "Model card"), details];
}

/** The small Markdown the model cards use: headings, paragraphs, lists, tables, bold and code. Text only, never HTML. */
function markdown(text) {
  const blocks = [];
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i++;
    } else if (/^#{1,6}\s/.test(line)) {
      const level = Math.min(6, line.match(/^#+/)[0].length + 2);
      blocks.push(h(`h${level}`, {}, inline(line.replace(/^#+\s*/, ""))));
      i++;
    } else if (/^\s*\|/.test(line)) {
      const rows = [];
      while (i < lines.length && /^\s*\|/.test(lines[i])) rows.push(lines[i++]);
      const cells = (row) => row.trim().replace(/^\||\|$/g, "").split("|").map((cell) => cell.trim());
      const [header, , ...body] = rows;
      blocks.push(h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, cells(header).map((c) => h("th", { scope: "col" }, inline(c))))),
          h("tbody", {}, body.map((row) => h("tr", {}, cells(row).map((c) => h("td", {}, inline(c)))))),
        ),
      ));
    } else if (/^\s*[-*]\s/.test(line)) {
      const items = [];
      while (
        i < lines.length && (/^\s*[-*]\s/.test(lines[i]) || (/^\s{2,}\S/.test(lines[i]) && items.length))
      ) {
        if (/^\s*[-*]\s/.test(lines[i])) items.push(lines[i].replace(/^\s*[-*]\s/, ""));
        else items[items.length - 1] += ` ${lines[i].trim()}`;
        i++;
      }
      blocks.push(h("ul", {}, items.map((item) => h("li", {}, inline(item)))));
    } else {
      const paragraph = [];
      while (i < lines.length && lines[i].trim() && !/^(#{1,6}\s|\s*\||\s*[-*]\s)/.test(lines[i])) {
        paragraph.push(lines[i++].trim());
      }
      blocks.push(h("p", {}, inline(paragraph.join(" "))));
    }
  }
  return blocks;
}

function inline(text) {
  return text.split(/(\*\*[^*]+\*\*|`[^`]+`)/g).filter(Boolean).map((part) => {
    if (part.startsWith("**") && part.endsWith("**")) return h("strong", {}, part.slice(2, -2));
    if (part.startsWith("`") && part.endsWith("`")) return h("code", {}, part.slice(1, -1));
    return part;
  });
}

// ------------------------------------------------------------------------------------ two runs

async function compareView(a, b) {
  const [runA, runB, chartsA, chartsB] = await Promise.all([
    fetchJson(runUrl(a)),
    fetchJson(runUrl(b)),
    fetchJson(`${runUrl(a)}/charts`),
    fetchJson(`${runUrl(b)}/charts`),
  ]);
  const runs = [runA, runB];
  const names = [...new Map([...chartsA.charts, ...chartsB.charts].map((c) => [c.name, c.title]))];
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

function compareMetrics(a, b) {
  const groups = [
    ["Test", test],
    ["CV out-of-fold", (run) => cv(run).out_of_fold ?? {}],
  ];
  const rows = [];
  for (const [group, pick] of groups) {
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
          h("th", { scope: "row" }, `${metric.label} (${group.toLowerCase()})`),
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
  const costs = [repeatedCost(a), repeatedCost(b)];
  if (costs.some(Boolean)) {
    rows.push(h(
      "tr",
      {},
      h("th", { scope: "row" }, "Expected cost (5×10 repeated CV)"),
      costs.map((cost) => h("td", { class: "num" }, cost ? `${fixed(cost.mean)} ± ${fixed(cost.sd)}` : "–")),
      h("td", { class: "num" }, costs.every(Boolean) ? fixed(costs[1].mean - costs[0].mean) : "–"),
    ));
  }
  if (!rows.length) return h("p", { class: "empty-state" }, "Neither run recorded metrics.");
  return h(
    "div",
    { class: "table-wrap" },
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

function compareParams(a, b) {
  const pa = modelParams(a);
  const pb = modelParams(b);
  const keys = [...new Set([...Object.keys(pa), ...Object.keys(pb)])];
  if (!keys.length) return h("p", { class: "empty-state" }, "Neither run recorded parameters.");
  return h(
    "div",
    { class: "table-wrap" },
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

// ------------------------------------------------------------------------------------ monitoring

/**
 * Drift monitoring (issue 10) is not served yet. When the API document lists an open
 * `GET /monitoring`, its population stability indices are shown here; until then the placeholder stays.
 */
async function loadMonitoring() {
  const api = await fetchJson("/openapi.json").catch(() => null);
  const operation = api?.paths?.["/monitoring"]?.get;
  if (!operation || (operation.security ?? []).length) return;
  const data = await fetchJson("/monitoring").catch(() => null);
  if (!data) return;
  const rows = [];
  const collect = (value, name) => {
    if (Array.isArray(value)) value.forEach((item) => collect(item, name));
    else if (value && typeof value === "object") {
      if (number(value.psi) !== null) rows.push({ ...value, name: value.name ?? value.attribute ?? name });
      else for (const [key, inner] of Object.entries(value)) collect(inner, key);
    }
  };
  collect(data, "score");
  if (!rows.length) return;
  const bands = { stable: "good", watch: "warn", act: "bad" };
  const bandOf = (row) => row.band ?? (row.psi < 0.1 ? "stable" : row.psi <= 0.25 ? "watch" : "act");
  const served = data.window ?? {};
  replace(
    $("monitoring-body"),
    h(
      "p",
      { class: "small muted" },
      `Population stability index against ${data.reference?.source ?? "the training data"}; ` +
        "below 0.1 stable, 0.1–0.25 watch, above 0.25 act.",
      number(served.rows) !== null ? ` Served rows in the window: ${served.rows}.` : "",
    ),
    served.enough_data === false
      ? h(
        "p",
        { class: "form-message info" },
        `Not enough traffic yet (${served.rows ?? 0} of the ${served.min_rows ?? "?"} rows needed): ` +
          "the indices below are not meaningful.",
      )
      : null,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "monitoring-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "Attribute"),
            h("th", { scope: "col", class: "num" }, "PSI"),
            h("th", { scope: "col" }, "Band"),
          ),
        ),
        h(
          "tbody",
          {},
          rows.map((row) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, row.name),
              h("td", { class: "num" }, fixed(row.psi)),
              h("td", {}, h("span", { class: `badge ${bands[bandOf(row)] ?? ""}` }, bandOf(row))),
            )
          ),
        ),
      ),
    ),
  );
}

// ------------------------------------------------------------------------------------ startup

async function main() {
  $("compare").addEventListener("click", () => {
    if (state.selected.length === 2) {
      location.hash = `compare=${state.selected.map(encodeURIComponent).join(",")}`;
    }
  });
  const [runs, registry] = await Promise.all([
    fetchJson("/runs"),
    fetchJson("/registry").catch(() => ({ models: [] })),
  ]);
  state.runs = runs;
  state.versions = new Map((registry.models ?? []).map((m) => [m.run_id, m]));
  addEventListener("hashchange", route);
  await route();
  document.body.dataset.ready = "true";
  loadMonitoring();
}

main().catch((error) => {
  replace($("runs-body"), h("p", { class: "form-message" }, `Could not load the runs: ${error.message}`));
});
