// @ts-check
// The result card's gauge: the calibrated probability of default (PD) on a half circle, coloured
// by the decision, with the PD threshold marked (P(bad) and its threshold for a server without PD). It draws from its arguments only, so a redesign can replace this module alone.

import { s } from "../common.js";
import { pct, t } from "./language.js";

/**
 * A half-circle gauge of the PD with the decision threshold marked.
 * @param {number | null} p the PD, or null before any assessment
 * @param {number | undefined} threshold the decision threshold, when a model is known
 * @param {string} [decision] approve, decline or review (the arc's colour); none before any assessment
 * @returns {SVGSVGElement}
 */
export function gauge(p, threshold, decision = "none") {
  const cx = 140, cy = 128, r = 96;
  /**
   * @param {number} value
   * @param {number} [radius]
   * @returns {[number, number]}
   */
  const point = (value, radius = r) => {
    const angle = Math.PI * (1 - Math.min(1, Math.max(0, value)));
    return [cx + radius * Math.cos(angle), cy - radius * Math.sin(angle)];
  };
  /** @param {number} to */
  const arc = (to) => {
    const [x, y] = point(to);
    return `M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`;
  };
  /** @type {SVGElement[]} */
  const children = [s("path", { class: "track", d: arc(1) })];
  if (p !== null && p > 0.001) children.push(s("path", { class: `value ${decision}`, d: arc(p) }));
  if (typeof threshold === "number") {
    const [x1, y1] = point(threshold, r - 16);
    const [x2, y2] = point(threshold, r + 16);
    const [lx, ly] = point(threshold, r + 22);
    const anchor = threshold < 0.4 ? "end" : threshold > 0.6 ? "start" : "middle";
    children.push(
      s("line", { class: "tick", x1, y1, x2, y2 }, s("title", {}, `${t("thresholdTick")} ${pct(threshold)}`)),
      s(
        "text",
        { class: "tick-label", x: lx, y: ly + 4, "text-anchor": anchor },
        pct(threshold, 0),
      ),
    );
  }
  children.push(
    s("text", { class: "end-label", x: cx - r, y: cy + 20, "text-anchor": "middle" }, "0 %"),
    s("text", { class: "end-label", x: cx + r, y: cy + 20, "text-anchor": "middle" }, "100 %"),
    s(
      "text",
      { class: "big", x: cx, y: cy - 18, "text-anchor": "middle", id: "gauge-value" },
      p === null ? "–" : pct(p, 0),
    ),
    s("text", { class: "caption", x: cx, y: cy + 4, "text-anchor": "middle" }, t("gaugeCaption")),
  );
  const described = p === null ? t("gaugeCaption") : t("gaugeLabel", { p: pct(p), t: pct(threshold ?? 0) });
  return s(
    "svg",
    { class: "gauge", viewBox: "0 0 280 160", role: "img", "aria-label": described },
    children,
  );
}
