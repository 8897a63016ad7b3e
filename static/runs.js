// @ts-check
// The experiments dashboard (runs.html): the runs table (dashboard/table.js), one run's view
// (dashboard/run_view.js) or two side by side (dashboard/compare.js) as the URL fragment says
// (dashboard/router.js), and drift monitoring (dashboard/monitoring.js). This module loads the
// runs and the registry and starts them.

import { byId, fetchJson, h, messageOf, replace } from "./common.js";
import { loadMonitoring } from "./dashboard/monitoring.js";
import { route } from "./dashboard/router.js";
import { state } from "./dashboard/state.js";

/** @import { RegistryAnswer, RunRecord } from "./dashboard/types.js" */

async function main() {
  byId("compare", HTMLButtonElement).addEventListener("click", () => {
    if (state.selected.length === 2) {
      location.hash = `compare=${state.selected.map(encodeURIComponent).join(",")}`;
    }
  });
  const [runs, registry] = /** @type {[RunRecord[], RegistryAnswer]} */ (
    await Promise.all([
      fetchJson("/runs"),
      fetchJson("/registry").catch(() => ({ models: [] })),
    ])
  );
  state.runs = runs;
  state.versions = new Map((registry.models ?? []).map((m) => [m.run_id, m]));
  addEventListener("hashchange", route);
  await route();
  document.body.dataset.ready = "true";
  loadMonitoring();
}

main().catch((error) => {
  replace(
    byId("runs-body", HTMLElement),
    h("p", { class: "form-message" }, `Could not load the runs: ${messageOf(error)}`),
  );
});
