// @ts-check
// The result card (the gauge of the probability of default, the decision and why, the score, the
// model score, the model, the reasons) and the header's chip naming the served model. The gauge and the reasons are
// their own modules; this one lays them out.

import { byId, h, replace } from "../common.js";
import { gauge } from "./gauge.js";
import { numberFormat, pct, t } from "./language.js";
import { adverseReasons, reasons } from "./reasons.js";
import { state } from "./state.js";

/** Draws the last answer into `#result-body`, or the placeholder and an empty gauge when there is none. */
export function renderResult() {
  const body = byId("result-body", HTMLElement);
  const answer = state.answer;
  if (!answer) {
    replace(
      body,
      h("p", { class: "placeholder" }, t("resultEmpty")),
      gauge(null, state.model?.pd_threshold ?? state.model?.threshold),
    );
    return;
  }
  const p = answer.probability_bad;
  const decision = answer.decision;
  const why = decision === "decline" ? "whyDecline" : decision === "review" ? "whyReview" : "whyApprove";
  // One probability on the card: the calibrated PD against its threshold. The raw forest output is
  // not a probability of default (the balanced bootstrap shifts it), so it is only a "model score".
  const hasPd = typeof answer.pd === "number" && typeof answer.pd_threshold === "number";
  const headline = hasPd ? Number(answer.pd) : p;
  const threshold = hasPd ? Number(answer.pd_threshold) : answer.threshold;
  /** @type {[string, string, string | null][]} */
  const stats = [];
  if (typeof answer.score === "number") {
    stats.push([t("statScore"), numberFormat(answer.score), t("statScoreSub")]);
  }
  stats.push([
    t("statProbability"),
    numberFormat(p, { maximumFractionDigits: 3, minimumFractionDigits: 3 }),
    t("statProbabilitySub"),
  ]);
  stats.push([
    t("statModel"),
    answer.model_version === null ? "–" : `v${answer.model_version}`,
    t("statModelSub", { run: answer.run_id }),
  ]);
  replace(
    body,
    gauge(headline, threshold, decision),
    h(
      "p",
      { class: "gauge-legend" },
      h("span", { class: "tick-swatch", "aria-hidden": "true" }),
      t("thresholdLegend", { t: pct(threshold) }),
    ),
    h(
      "div",
      { class: "decision" },
      h("span", { class: `pill big ${decision}`, id: "decision", "data-decision": decision }, t(decision)),
      h(
        "span",
        { class: "small muted", id: "decision-reason" },
        t(why, { p: pct(headline), t: pct(threshold), m: pct(answer.review_margin) }),
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
    adverseReasons(answer.adverse_action_reasons),
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
