// @ts-check
// The applicant form (index.html): built from GET /schema (form/fields.js), validated here exactly
// as the server validates (form/validation.js), submitted to POST /predict (form/submit.js) and
// answered with a result card (form/result.js, with form/gauge.js and form/reasons.js). English and
// Spanish throughout (form/language.js, form/text.js). This module loads what the form needs and
// wires it together.

import { byId, fetchJson, h, messageOf, replace } from "./common.js";
import { buildExamples, relabelExamples } from "./form/examples.js";
import { buildForm, relabelFields } from "./form/fields.js";
import {
  applyStaticText,
  initialLanguage,
  isLang,
  languageButtons,
  storeLanguage,
  t,
} from "./form/language.js";
import { renderModelChip, renderResult } from "./form/result.js";
import { state } from "./form/state.js";
import { onReset, onSubmit } from "./form/submit.js";
import { renderErrors, renderMessage } from "./form/validation.js";

/** @import { Example, ModelInfo, SchemaDocument } from "./form/types.js" */

async function main() {
  state.lang = initialLanguage();
  for (const button of languageButtons()) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang ?? ""));
  }
  applyStaticText();

  const [schema, examples, model] = await Promise.allSettled([
    fetchJson("/schema"),
    fetchJson("/examples.json"),
    fetchJson("/model"),
  ]);
  if (schema.status === "rejected") {
    replace(
      byId("groups", HTMLElement),
      h("p", { class: "form-message" }, t("schemaFailed", { message: messageOf(schema.reason) })),
    );
    return;
  }
  state.schema = /** @type {SchemaDocument} */ (schema.value);
  state.examples = examples.status === "fulfilled"
    ? /** @type {{ examples?: Example[] }} */ (examples.value).examples ?? []
    : [];
  state.model = model.status === "fulfilled" ? /** @type {ModelInfo} */ (model.value) : null;

  buildForm(state.schema);
  buildExamples();
  relabel();
  const form = byId("applicant-form", HTMLFormElement);
  form.addEventListener("submit", onSubmit);
  form.addEventListener("reset", onReset);
  form.setAttribute("aria-busy", "false");
  byId("submit", HTMLButtonElement).disabled = false;
  document.body.dataset.ready = "true";
}

/**
 * Switches the language, remembers it, and relabels the page.
 * @param {string} lang
 */
function setLanguage(lang) {
  if (!isLang(lang) || lang === state.lang) return;
  state.lang = lang;
  storeLanguage(lang);
  applyStaticText();
  if (state.schema) relabel();
}

/** Relabels everything built from the schema (labels, options, hints, errors, result) in the current language. */
function relabel() {
  if (state.schema) relabelFields(state.schema);
  relabelExamples();
  renderErrors();
  renderMessage();
  renderModelChip();
  renderResult();
}

main().catch((error) => {
  replace(
    byId("groups", HTMLElement),
    h("p", { class: "form-message" }, t("schemaFailed", { message: messageOf(error) })),
  );
});
