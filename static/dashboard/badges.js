// @ts-check
// A run's status and its registry stage as badges, shared by the table and both detail views.

import { h } from "../common.js";
import { statusOf } from "./fields.js";
import { state } from "./state.js";

/** @import { RunRecord } from "./types.js" */

/**
 * finished, failed, running or killed, coloured.
 * @param {RunRecord} run
 * @returns {HTMLSpanElement}
 */
export function statusBadge(run) {
  const status = statusOf(run);
  const kind = { finished: "good", failed: "bad", running: "info", killed: "warn" }[status] ?? "";
  const text = status === "killed" ? "killed (stale)" : status;
  return h("span", { class: `badge ${kind}`, "data-status": status }, text);
}

/**
 * The registered version and its stage, or "not registered".
 * @param {RunRecord} run
 * @returns {HTMLSpanElement}
 */
export function stageBadge(run) {
  const version = state.versions.get(run.run_id);
  if (!version) return h("span", { class: "muted small" }, "not registered");
  return h(
    "span",
    { class: `badge ${version.stage === "production" ? "production" : ""}`, "data-stage": version.stage },
    `v${version.version} ${version.stage}`,
  );
}
