// @ts-check
// Submitting: every field checked in the browser first (no request while one fails), then
// POST /predict; the server's 422 issues are placed next to the fields they name, other failures
// said above the form. Clearing the form clears its errors and the result with it.

import { ApiError, byId, fetchJson, h } from "../common.js";
import { t } from "./language.js";
import { renderResult } from "./result.js";
import { state } from "./state.js";
import { checkField, focusFirstError, renderErrors, renderMessage } from "./validation.js";

/** @import { Prediction } from "./types.js" */

/**
 * The form's submit handler.
 * @param {SubmitEvent} event
 * @returns {Promise<void>}
 */
export async function onSubmit(event) {
  event.preventDefault();
  if (state.busy) return;
  /** @type {Record<string, string | number>} */
  const applicant = {};
  state.errors.clear();
  for (const [name, entry] of state.controls) {
    const error = checkField(entry);
    if (error) state.errors.set(name, { kind: "client", ...error });
    else applicant[name] = entry.kind === "numeric" ? Number(entry.control.value) : entry.control.value;
  }
  renderErrors();
  if (state.errors.size > 0) {
    state.message = { kind: "error", key: "clientInvalid", params: { count: state.errors.size } };
    renderMessage();
    focusFirstError();
    return;
  }
  state.message = null;
  renderMessage();
  setBusy(true);
  try {
    state.answer = /** @type {Prediction} */ (await fetchJson("/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(applicant),
    }));
    renderResult();
    if (globalThis.matchMedia("(max-width: 1039px)").matches) {
      byId("result", HTMLElement).scrollIntoView({ behavior: "smooth", block: "start" });
    }
  } catch (error) {
    showSubmitError(error);
  } finally {
    setBusy(false);
  }
}

/**
 * Says why the assessment failed: the server's field issues next to their fields, else one line.
 * @param {unknown} error
 */
function showSubmitError(error) {
  if (error instanceof ApiError && error.status === 422 && Array.isArray(error.body?.issues)) {
    const issues = error.body.issues;
    const unplaced = [];
    for (const issue of issues) {
      if (state.controls.has(issue.field)) {
        const previous = state.errors.get(issue.field);
        const message = previous?.kind === "server" ? `${previous.message}; ${issue.message}` : issue.message;
        state.errors.set(issue.field, { kind: "server", message });
      } else unplaced.push(`${issue.field}: ${issue.message}`);
    }
    renderErrors();
    state.message = unplaced.length
      ? { kind: "error", key: "serverFailed", params: { message: unplaced.join("; ") } }
      : { kind: "error", key: "serverInvalid", params: { count: issues.length } };
    renderMessage();
    focusFirstError();
    return;
  }
  state.message = error instanceof ApiError
    ? { kind: "error", key: "serverFailed", params: { message: error.message } }
    : { kind: "error", key: "networkFailed" };
  renderMessage();
}

/**
 * Disables the submit button, with a spinner, while an assessment is on its way.
 * @param {boolean} busy
 */
function setBusy(busy) {
  state.busy = busy;
  const button = byId("submit", HTMLButtonElement);
  button.disabled = busy;
  byId("applicant-form", HTMLFormElement).setAttribute("aria-busy", String(busy));
  button.replaceChildren(
    ...(busy ? [h("span", { class: "spinner", "aria-hidden": "true" })] : []),
    h("span", { "data-i18n": busy ? "submitting" : "submit" }, t(busy ? "submitting" : "submit")),
  );
}

/** The form's reset handler: errors, the message, the example and the result go with the values. */
export function onReset() {
  state.errors.clear();
  state.message = null;
  state.answer = null;
  byId("example", HTMLSelectElement).value = "";
  // The form's own reset runs after this handler; errors and the card are cleared with it.
  setTimeout(() => {
    renderErrors();
    renderMessage();
    renderResult();
  });
}
