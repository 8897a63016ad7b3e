// @ts-check
// The result card (the gauge, the decision and why, the probability of default, the score, the
// model, the reasons) and the header's chip naming the served model. The gauge and the reasons are
// their own modules; this one lays them out.

import { byId, h, replace } from "../common.js";
import { gauge } from "./gauge.js";
import { numberFormat, pct, t } from "./language.js";
import { reasons } from "./reasons.js";
import { state } from "./state.js";

/** Draws the last answer into `#result-body`, or the placeholder and an empty gauge when there is none. */
export function renderResult() {
  const body = byId("result-body", HTMLElement);
  const answer = state.answer;
  if (!answer) {
    replace(body, h("p", { class: "placeholder" }, t("resultEmpty")), gauge(null, state.model?.threshold));
    return;
  }
  const p = answer.probability_bad;
  const decision = answer.decision;
  const why = decision === "decline" ? "whyDecline" : decision === "review" ? "whyReview" : "whyApprove";
  /** @type {[string, string, string | null][]} */
  const stats = [[t("statProbability"), pct(p), null]];
  if (typeof answer.pd === "number") {
    stats.push([t("statPd"), pct(answer.pd), t("statPdSub", { t: pct(Number(answer.pd_threshold)) })]);
  }
  if (typeof answer.score === "number") {
    stats.push([t("statScore"), numberFormat(answer.score), t("statScoreSub")]);
  }
  stats.push([
    t("statModel"),
    answer.model_version === null ? "–" : `v${answer.model_version}`,
    t("statModelSub", { run: answer.run_id }),
  ]);
  replace(
    body,
    gauge(p, answer.threshold, decision),
    h(
      "p",
      { class: "gauge-legend" },
      h("span", { class: "tick-swatch", "aria-hidden": "true" }),
      t("thresholdLegend", { t: pct(answer.threshold) }),
    ),
    h(
      "div",
      { class: "decision" },
      h("span", { class: `pill big ${decision}`, id: "decision", "data-decision": decision }, t(decision)),
      h(
        "span",
        { class: "small muted", id: "decision-reason" },
        t(why, { p: pct(p), t: pct(answer.threshold), m: pct(answer.review_margin) }),
      ),
    ),
    h(
      "dl",
      { class: "stats" },
      stats.map(([term, value, sub]) =>
        h(
          "div",
          { class: "stat" },
          h("dt", {}, term),
          h("dd", {}, value, sub && h("span", { class: "sub" }, sub)),
        )
      ),
    ),
    reasons(answer.reasons),
    h("p", { class: "meta-line mono" }, t("requestId", { id: answer.request_id })),
  );
}

/** The header's chip: the served model's version and threshold, or that none is loaded. */
export function renderModelChip() {
  const chip = byId("model-chip", HTMLElement);
  chip.hidden = false;
  chip.textContent = state.model
    ? t("modelChip", {
      version: state.model.model_version ?? "–",
      threshold: state.model.threshold.toFixed(3),
    })
    : t("modelChipNone");
}
