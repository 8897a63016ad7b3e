// @ts-check
// Drift of served traffic: the population stability index of each attribute and of the score,
// served traffic against the training data, when the server offers an open `GET /monitoring`.

import { byId, fetchJson, fixed, h, replace } from "../common.js";
import { isGroup, number } from "./fields.js";

/**
 * The part of the OpenAPI document that says whether `GET /monitoring` exists and is open.
 * @typedef {{ paths?: Record<string, { get?: { security?: unknown[] } } | undefined> }} ApiDocument
 */

/**
 * The part of `GET /monitoring` the table shows (pipeline/serving/routes/monitoring.ts); every
 * object carrying a `psi` becomes a row.
 * @typedef {object} MonitoringAnswer
 * @property {{ rows?: number, min_rows?: number, enough_data?: boolean }} [window]
 * @property {{ source?: string }} [reference]
 */

/** @typedef {{ name: string, psi: number, band: string | null }} DriftRow */

/** @type {Record<string, string>} */
const BANDS = { stable: "good", watch: "warn", act: "bad" };

/**
 * Drift monitoring (issue 10) is not served yet. When the API document lists an open
 * `GET /monitoring`, its population stability indices are shown here; until then the placeholder stays.
 * @returns {Promise<void>}
 */
export async function loadMonitoring() {
  const api = /** @type {ApiDocument | null} */ (await fetchJson("/openapi.json").catch(() => null));
  const operation = api?.paths?.["/monitoring"]?.get;
  if (!operation || (operation.security ?? []).length) return;
  const data = await fetchJson("/monitoring").catch(() => null);
  if (!isGroup(data)) return;
  /** @type {DriftRow[]} */
  const rows = [];
  /**
   * @param {unknown} value
   * @param {string} name
   */
  const collect = (value, name) => {
    if (Array.isArray(value)) value.forEach((item) => collect(item, name));
    else if (isGroup(value)) {
      const psi = number(value.psi);
      if (psi !== null) {
        rows.push({
          name: String(value.name ?? value.attribute ?? name),
          psi,
          band: typeof value.band === "string" ? value.band : null,
        });
      } else {
        // `worst` repeats one of the attributes: listing it would show that attribute twice.
        for (const [key, inner] of Object.entries(value)) if (key !== "worst") collect(inner, key);
      }
    }
  };
  collect(data, "score");
  if (!rows.length) return;
  /** @param {DriftRow} row */
  const bandOf = (row) => row.band ?? (row.psi < 0.1 ? "stable" : row.psi <= 0.25 ? "watch" : "act");
  const answer = /** @type {MonitoringAnswer} */ (data);
  const served = answer.window ?? {};
  replace(
    byId("monitoring-body", HTMLElement),
    h(
      "p",
      { class: "small muted" },
      `Population stability index against ${answer.reference?.source ?? "the training data"}; ` +
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
      { class: "table-wrap", tabindex: "0" },
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
              h("td", {}, h("span", { class: `badge ${BANDS[bandOf(row)] ?? ""}` }, bandOf(row))),
            )
          ),
        ),
      ),
    ),
  );
}
