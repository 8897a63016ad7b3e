// @ts-check
// What the dashboard knows and shows: the runs, the registry, the table's sort and selection, and
// the run open in the detail view. The table, the router and the startup share this one object.

/** @import { ModelVersion, RunRecord } from "./types.js" */

/**
 * @typedef {object} DashboardState
 * @property {RunRecord[]} runs
 * @property {Map<string, ModelVersion>} versions run id → registry entry
 * @property {{ key: string, direction: "ascending" | "descending" }} sort
 * @property {string[]} selected the runs ticked for comparison (two at most)
 * @property {string | null} current the run open in the detail view
 */

/** @type {DashboardState} */
export const state = {
  runs: [],
  versions: new Map(),
  sort: { key: "started", direction: "descending" },
  selected: [],
  current: null,
};
