// @ts-check
// The Flows page (flows.html): every retraining flow from `GET /flows`, newest first, and one
// flow's steps (state, attempts, duration, summary or error) as the URL fragment says (#flow=ID).
// Built with DOM calls only (common.js): no markup is parsed, no inline script or style.

import { byId, dateTime, duration, fetchJson, h, messageOf, replace } from "./common.js";

/** @typedef {import("../pipeline/flow/record.ts").FlowRecord} FlowRecord */
/** @typedef {import("../pipeline/flow/record.ts").StepState} StepState */

/** @type {FlowRecord[]} */
let flows = [];

/** @type {Record<string, string>} */
const BADGE = {
  succeeded: "good",
  failed: "bad",
  running: "warn",
  promoted: "good",
  kept_challenger: "warn",
};

/**
 * A status as a badge.
 * @param {string} text
 * @returns {HTMLElement}
 */
function badge(text) {
  return h("span", { class: `badge ${BADGE[text] ?? "info"}` }, text.replace("_", " "));
}

/**
 * The decision column: the outcome, or where the flow stopped.
 * @param {FlowRecord} flow
 * @returns {HTMLElement | string}
 */
function decisionOf(flow) {
  if (flow.outcome) return badge(flow.outcome.decision);
  if (flow.error) return `failed at ${flow.error.step}`;
  const running = flow.steps.find((s) => s.state === "running");
  return running ? `stopped at ${running.name}` : "–";
}

/** Draws the list of flows. */
function renderList() {
  const body = byId("flows-body", HTMLElement);
  if (flows.length === 0) {
    replace(body, h("p", { class: "empty-state" }, "No flows yet: run deno task flow --data FILE."));
    return;
  }
  const header = [
    "Flow",
    "Started",
    "Status",
    "Decision",
    "Challenger",
    "Production",
    "Steps",
    "Duration",
    "Data",
  ];
  replace(
    body,
    h(
      "div",
      { class: "table-wrap", tabindex: "0" },
      h(
        "table",
        { class: "runs-table", id: "flows-table" },
        h("caption", { class: "visually-hidden" }, "Retraining flows, newest first"),
        h("thead", {}, h("tr", {}, header.map((label) => h("th", { scope: "col" }, label)))),
        h(
          "tbody",
          {},
          flows.map((flow) =>
            h(
              "tr",
              { dataset: { flow: flow.flow_id } },
              h("td", {}, h("a", { href: `#flow=${encodeURIComponent(flow.flow_id)}` }, flow.flow_id)),
              h("td", {}, dateTime(flow.created_at)),
              h("td", {}, badge(flow.status)),
              h("td", {}, decisionOf(flow)),
              h("td", {}, flow.outcome?.challenger ? `v${flow.outcome.challenger.version}` : "–"),
              h("td", {}, flow.outcome?.production_version ? `v${flow.outcome.production_version}` : "–"),
              h("td", {}, `${flow.steps.filter((s) => s.state === "completed").length}/${flow.steps.length}`),
              h("td", {}, duration(flow.duration_ms)),
              h("td", {}, flow.key_inputs.data_path),
            )
          ),
        ),
      ),
    ),
  );
}

/**
 * A step's summary as "key value" pairs.
 * @param {StepState} step
 * @returns {string}
 */
function summaryOf(step) {
  if (step.error) return step.error;
  return Object.entries(step.summary ?? {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) =>
      `${key.replaceAll("_", " ")} ${
        typeof value === "number" && !Number.isInteger(value) ? value.toFixed(4) : String(value)
      }`
    )
    .join(" · ");
}

/** Shows the flow named in the fragment, or hides the detail. */
function route() {
  const id = new URLSearchParams(location.hash.slice(1)).get("flow");
  const detail = byId("flow-detail", HTMLElement);
  const flow = flows.find((f) => f.flow_id === id);
  if (!flow) {
    detail.hidden = true;
    detail.replaceChildren();
    return;
  }
  detail.hidden = false;
  const runs = Object.entries(flow.links.runs);
  replace(
    detail,
    h("h2", { id: "flow-title", tabindex: "-1" }, `Flow ${flow.flow_id}`),
    h(
      "p",
      {},
      badge(flow.status),
      " ",
      flow.outcome ? flow.outcome.reason : flow.error ? `step ${flow.error.step}: ${flow.error.message}` : "",
    ),
    runs.length
      ? h(
        "p",
        { class: "small" },
        "Runs: ",
        runs.map(([role, run], i) => [
          i ? ", " : "",
          `${role} `,
          h("a", { href: `/runs#run=${encodeURIComponent(run)}` }, run),
        ]),
      )
      : null,
    h(
      "div",
      { class: "table-wrap", tabindex: "0" },
      h(
        "table",
        { class: "runs-table", id: "flow-steps" },
        h("caption", { class: "visually-hidden" }, "The flow's steps"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Step", "State", "Attempts", "Duration", "Summary"].map((l) => h("th", { scope: "col" }, l)),
          ),
        ),
        h(
          "tbody",
          {},
          flow.steps.map((step) =>
            h(
              "tr",
              { dataset: { step: step.name } },
              h("th", { scope: "row" }, step.name),
              h("td", {}, step.state),
              h("td", {}, String(step.attempts.length)),
              h("td", {}, duration(step.duration_ms)),
              h("td", {}, summaryOf(step)),
            )
          ),
        ),
      ),
    ),
    h(
      "p",
      { class: "small muted" },
      `Key ${flow.key.slice(0, 12)}… (data sha256 ${flow.key_inputs.data_sha256.slice(0, 12)}…, `,
      `code ${flow.key_inputs.code_version.slice(0, 12)}…); ${flow.sessions.length} process(es).`,
    ),
  );
  byId("flow-title", HTMLElement).focus({ preventScroll: true });
}

async function main() {
  const answer = /** @type {{ flows: FlowRecord[] }} */ (await fetchJson("/flows"));
  flows = answer.flows;
  renderList();
  addEventListener("hashchange", route);
  route();
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  replace(
    byId("flows-body", HTMLElement),
    h("p", { class: "form-message" }, `Could not load the flows: ${messageOf(error)}`),
  );
});
