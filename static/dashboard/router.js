// @ts-check
// The detail view follows the URL fragment (#run=ID, #compare=A,B), so a view can be bookmarked
// and the back button works.

import { byId, h, messageOf, replace } from "../common.js";
import { compareView } from "./compare.js";
import { runView } from "./run_view.js";
import { state } from "./state.js";
import { renderTable } from "./table.js";

/** @import { Child } from "../common.js" */

/**
 * Shows the view the fragment names (or none), and marks its run in the table.
 * @returns {Promise<void>}
 */
export async function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  const detail = byId("detail", HTMLElement);
  const run = params.get("run");
  const compare = params.get("compare");
  state.current = run;
  renderTable();
  if (run) await show(() => runView(run));
  else if (compare && compare.split(",").length === 2) {
    const [a, b] = compare.split(",");
    await show(() => compareView(a, b));
  } else {
    detail.hidden = true;
    detail.replaceChildren();
  }
}

/**
 * Fills the detail section with a view, saying so while it loads and if it fails, then moves the
 * focus to its heading.
 * @param {() => Promise<Child[]>} build
 * @returns {Promise<void>}
 */
async function show(build) {
  const detail = byId("detail", HTMLElement);
  detail.hidden = false;
  detail.setAttribute("aria-busy", "true");
  replace(detail, h("p", { class: "muted" }, "Loading…"));
  try {
    replace(detail, ...await build());
  } catch (error) {
    replace(detail, h("p", { class: "form-message" }, `Could not load: ${messageOf(error)}`));
  }
  detail.setAttribute("aria-busy", "false");
  const heading = detail.querySelector("h2");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
  detail.scrollIntoView({ block: "start" });
}
