// @ts-check
// The result card's reasons: each attribute's effect on the score in points (its signed
// contribution to P(bad) for a server that sends no points) as a bar, largest first, with a
// sentence in the current language. It draws from the answer's `reasons` only, so a
// redesign can replace this module alone.

import { h, s } from "../common.js";
import { codeLabel } from "./fields.js";
import { label, localized, numberFormat, t } from "./language.js";
import { state } from "./state.js";

/** @import { Reason } from "./types.js" */

/** Units that read naturally after a number in a sentence; counts and bands stand alone. */
const MEASURE_UNITS = new Set(["months", "DM", "years"]);

/**
 * The signed contributions of `reasons` (when the API sends them) as bars with a sentence each.
 * @param {readonly Reason[] | undefined} list
 * @returns {HTMLElement | null}
 */
export function reasons(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  const items = [...list]
    .filter((r) => typeof r?.contribution === "number" && Number.isFinite(r.contribution))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  if (items.length === 0) return null;
  // Points when the server sends them: they add up to the score, the currency an officer quotes.
  const inPoints = items.every((r) => typeof r.points === "number" && Number.isFinite(r.points));
  /** @param {Reason} r */
  const size = (r) => Math.abs(inPoints ? Number(r.points) : r.contribution);
  const largest = Math.max(...items.map(size)) || 1;
  return h(
    "section",
    { class: "reasons", id: "reasons", "aria-labelledby": "reasons-title" },
    h("h3", { id: "reasons-title" }, t("reasonsTitle")),
    h(
      "div",
      { class: "legend", "aria-hidden": "true" },
      h("span", {}, h("span", { class: "swatch raises" }), t("raises")),
      h("span", {}, h("span", { class: "swatch lowers" }), t("lowers")),
    ),
    h(
      "ol",
      {},
      items.map((reason) => {
        const effect = reason.contribution > 0 ? "raises" : reason.contribution < 0 ? "lowers" : "neutral";
        const width = (size(reason) / largest) * 98;
        const amount = inPoints ? Number(reason.points) : reason.contribution * 100;
        const sign = amount > 0 ? "+" : amount < 0 ? "−" : "";
        const digits = inPoints && Math.abs(amount) >= 10 ? 0 : 1;
        return h(
          "li",
          { class: `reason ${effect}`, "data-attribute": reason.attribute },
          h("span", { class: "sentence" }, reasonSentence(reason, effect)),
          h(
            "span",
            { class: "amount" },
            t(inPoints ? "points" : "pp", {
              value: sign +
                numberFormat(Math.abs(amount), {
                  maximumFractionDigits: digits,
                  minimumFractionDigits: digits,
                }),
            }),
          ),
          s(
            "svg",
            { viewBox: "0 0 200 10", preserveAspectRatio: "none", "aria-hidden": "true" },
            s("rect", {
              class: `bar ${effect}`,
              x: effect === "lowers" ? 100 - width : 100,
              y: 1,
              width: Math.max(width, 0.5),
              height: 8,
              rx: 1.5,
            }),
            s("line", { class: "bar-axis", x1: 100, x2: 100, y1: 0, y2: 10 }),
          ),
        );
      }),
    ),
    h("p", { class: "small muted" }, t(inPoints ? "reasonsCaption" : "reasonsCaptionPp")),
  );
}

/**
 * The adverse-action reasons (the attributes that cost the most points) of a decision that is not
 * an approval, as the API words them.
 * @param {readonly { attribute: string, sentence: import("./types.js").Localized }[] | undefined} list
 * @returns {HTMLElement | null}
 */
export function adverseReasons(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  return h(
    "section",
    { class: "adverse", id: "adverse-reasons", "aria-labelledby": "adverse-title" },
    h("h3", { id: "adverse-title" }, t("adverseTitle")),
    h(
      "ol",
      {},
      list.map((r) => h("li", { "data-attribute": r.attribute }, localized(r.sentence) || r.attribute)),
    ),
  );
}

/**
 * The API's own sentence in the current language when it sends one; else one built from the
 * schema: "Checking account “No checking account” lowers the risk".
 * @param {Reason} reason
 * @param {"raises" | "lowers" | "neutral"} effect
 * @returns {string | (HTMLElement | string)[]}
 */
function reasonSentence(reason, effect) {
  const own = localized(reason.sentence);
  if (own) return own;
  const attribute = state.controls.get(reason.attribute)?.attribute;
  const [open, close] = state.lang === "es" ? ["«", "»"] : ["“", "”"];
  let value = localized(reason.value_label);
  if (!value && attribute?.kind === "numeric") {
    const unit = MEASURE_UNITS.has(attribute.unit.en) ? ` ${label(attribute.unit)}` : "";
    value = `${numberFormat(Number(reason.value))}${unit}`;
  } else if (!value) {
    value = `${open}${
      codeLabel(reason.attribute, reason.value) || localized(reason.label) || reason.value
    }${close}`;
  }
  return [h("strong", {}, attribute ? label(attribute.label) : reason.attribute), ` ${value} ${t(effect)}`];
}
