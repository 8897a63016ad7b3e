// @ts-check
// The runs table: one row per run, sortable by any metric column, the model in production first
// by status, stale runs shown as killed, and a checkbox per row to pick two runs to compare.

import { byId, dateTime, duration, fixed, h, replace } from "../common.js";
import { stageBadge, statusBadge } from "./badges.js";
import {
  cv,
  durationOf,
  group,
  nested,
  number,
  paramSummary,
  repeatedCost,
  statusOf,
  test,
} from "./fields.js";
import { state } from "./state.js";

/** @import { RunRecord } from "./types.js" */

/**
 * A column of the table: `value` sorts (and fills a plain cell), `cell` draws a custom one.
 * @typedef {object} Column
 * @property {string} key
 * @property {string} label
 * @property {string} [group] the metric group named in the first header row
 * @property {boolean} [numeric]
 * @property {boolean} [optional] shown only when some run has a value
 * @property {boolean} [sortable] false for a column without an order
 * @property {(run: RunRecord) => string | number | null} [value]
 * @property {(run: RunRecord) => HTMLTableCellElement} [cell]
 */

/** @type {Record<string, number>} */
const STAGE_ORDER = { production: 0, candidate: 1, archived: 2 };

/** @type {Column[]} */
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
    value: (r) => `${STAGE_ORDER[state.versions.get(r.run_id)?.stage ?? ""] ?? 9} ${statusOf(r)}`,
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
    value: (r) => number(group(cv(r).out_of_fold).roc_auc),
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
      return h(
        "td",
        { class: "num" },
        cost ? `${fixed(cost.mean)} ` : "–",
        cost ? h("span", { class: "muted spread" }, `SD ${fixed(cost.sd)}`) : null,
      );
    },
  },
  {
    key: "nested",
    group: "Nested CV",
    optional: true,
    label: "Cost",
    numeric: true,
    value: (r) => number(group(nested(r)?.cost).mean),
    cell: (r) => {
      const cost = group(nested(r)?.cost);
      const mean = number(cost.mean);
      return h(
        "td",
        { class: "num", "data-nested-cost": "" },
        mean === null ? "–" : `${fixed(mean)} `,
        mean === null ? null : h("span", { class: "muted spread" }, `SE ${fixed(number(cost.corrected_se))}`),
      );
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

/**
 * The columns to show: an optional one only when some run has a value for it.
 * @returns {Column[]}
 */
function visibleColumns() {
  return COLUMNS.filter((c) => !c.optional || state.runs.some((r) => c.value?.(r) !== null));
}

/** @returns {RunRecord[]} */
function sortedRuns() {
  const column = COLUMNS.find((c) => c.key === state.sort.key);
  const sign = state.sort.direction === "ascending" ? 1 : -1;
  return [...state.runs].sort((a, b) => {
    const x = column?.value?.(a);
    const y = column?.value?.(b);
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    return sign * (typeof x === "number" ? x - Number(y) : String(x).localeCompare(String(y)));
  });
}

/** Draws the table (or the empty state) into `#runs-body` and updates the compare button. */
export function renderTable() {
  const columns = visibleColumns();
  const body = byId("runs-body", HTMLElement);
  if (state.runs.length === 0) {
    replace(
      body,
      h("p", { class: "empty-state" }, "No runs yet. Train one with ", h("code", {}, "deno task train"), "."),
    );
    return;
  }
  // A first header row names the metric groups (cross-validation, held-out test, repeated CV).
  /** @type {{ group: string | undefined, span: number }[]} */
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
      onchange: () => toggleSelected(run.run_id, checkbox.checked),
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
        const value = column.value?.(run);
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
      { class: "table-wrap", tabindex: "0" },
      h(
        "table",
        { class: "runs-table", id: "runs-table" },
        h("caption", { class: "visually-hidden" }, "Training runs; column headers sort the table"),
        h("thead", {}, groupRow, head),
        h("tbody", {}, rows),
      ),
    ),
  );
  const compare = byId("compare", HTMLButtonElement);
  compare.textContent = `Compare selected (${state.selected.length}/2)`;
  compare.disabled = state.selected.length !== 2;
}

/**
 * Sorts by a column: again on the same column reverses; numbers start from the largest.
 * @param {string} key
 */
function sortBy(key) {
  state.sort = state.sort.key === key
    ? { key, direction: state.sort.direction === "ascending" ? "descending" : "ascending" }
    : { key, direction: COLUMNS.find((c) => c.key === key)?.numeric ? "descending" : "ascending" };
  renderTable();
  focus(`th[data-key="${key}"] button`);
}

/**
 * Ticks or unticks a run for comparison; a third tick drops the oldest.
 * @param {string} id
 * @param {boolean} on
 */
function toggleSelected(id, on) {
  state.selected = on
    ? [...state.selected.filter((x) => x !== id), id].slice(-2)
    : state.selected.filter((x) => x !== id);
  renderTable();
  focus(`tr[data-run-id="${id}"] input[type="checkbox"]`);
}

/**
 * Gives the focus back to a control redrawn with the table, so a keyboard user keeps their place.
 * @param {string} selector
 */
function focus(selector) {
  const control = document.querySelector(selector);
  if (control instanceof HTMLElement) control.focus();
}
