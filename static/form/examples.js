// @ts-check
// Real applicants of the data set (examples.json) to start from: a picker grouped by recorded
// outcome, labelled in the current language, that fills the form with the chosen row.

import { append, byId, h } from "../common.js";
import { codeLabel } from "./fields.js";
import { numberFormat, t } from "./language.js";
import { state } from "./state.js";
import { renderErrors, renderMessage } from "./validation.js";

/** @import { Example } from "./types.js" */

/** The picker's options, one group per outcome; it stays disabled without examples. */
export function buildExamples() {
  const picker = byId("example", HTMLSelectElement);
  if (state.examples.length === 0) return;
  const groups = ["good", "bad"].map((outcome) => {
    const group = h("optgroup", { "data-outcome": outcome });
    for (const example of state.examples.filter((e) => e.outcome === outcome)) {
      group.append(h("option", { value: String(example.row) }));
    }
    return group;
  });
  append(picker, groups);
  picker.disabled = false;
  picker.addEventListener("change", () => {
    const example = state.examples.find((e) => String(e.row) === picker.value);
    if (example) fillExample(example);
  });
}

/** The picker's texts in the current language. */
export function relabelExamples() {
  const picker = byId("example", HTMLSelectElement);
  for (const group of picker.querySelectorAll("optgroup")) {
    group.label = t(group.dataset.outcome === "good" ? "exampleGood" : "exampleBad");
  }
  for (const option of picker.querySelectorAll("option[value]:not([value=''])")) {
    const example = state.examples.find((e) => String(e.row) === option.getAttribute("value"));
    if (!example) continue;
    const { applicant } = example;
    option.textContent = t("exampleOption", {
      row: example.row,
      purpose: codeLabel("purpose", applicant.purpose),
      duration: applicant.duration,
      amount: numberFormat(Number(applicant.credit_amount)),
      age: applicant.age,
    });
  }
}

/**
 * Fills every field with the example's values and says where they come from.
 * @param {Example} example
 */
function fillExample(example) {
  for (const [name, { control }] of state.controls) {
    control.value = String(example.applicant[name] ?? "");
  }
  state.errors.clear();
  state.message = {
    kind: "info",
    key: "exampleFilled",
    params: () => ({ row: example.row, outcome: t(example.outcome) }),
  };
  renderErrors();
  renderMessage();
}
