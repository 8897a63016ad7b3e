// @ts-check
// The form's checks and their messages: each field validated here exactly as the server's schema
// module validates it (required, whole numbers, the schema's ranges, known codes), errors shown
// next to their fields in the current language, and the message line above the form.

import { byId } from "../common.js";
import { numberFormat, t } from "./language.js";
import { state } from "./state.js";

/** @import { ClientError, FormField } from "./types.js" */

/**
 * The schema module's `checkValue`, on what the control holds: null when valid, else an error.
 * @param {FormField} entry
 * @returns {ClientError | null}
 */
export function checkField(entry) {
  if (entry.kind === "numeric") {
    const { attribute, control } = entry;
    if (control.validity.badInput) return { code: "notNumber" };
    const raw = control.value.trim();
    if (raw === "") return { code: "required" };
    const value = Number(raw);
    if (!Number.isFinite(value)) return { code: "notNumber" };
    if (!Number.isInteger(value)) return { code: "notWhole" };
    if (value < attribute.min || value > attribute.max) {
      return { code: "outOfRange", params: { min: attribute.min, max: attribute.max } };
    }
    return null;
  }
  const { attribute, control } = entry;
  if (control.value === "") return { code: "required" };
  if (!attribute.codes.some((c) => c.code === control.value)) return { code: "unknownCode" };
  return null;
}

/**
 * Records (or clears) a field's browser-side error and shows it.
 * @param {string} name
 * @param {ClientError | null} error
 */
export function setFieldError(name, error) {
  if (error) state.errors.set(name, { kind: "client", ...error });
  else state.errors.delete(name);
  renderFieldError(name);
}

/**
 * The server's English wording, in the form's language when it is one of the known phrasings.
 * @param {string} message
 * @returns {string}
 */
function serverMessage(message) {
  if (state.lang === "en") return message;
  if (/^is required$/.test(message)) return t("required");
  if (/^expected a whole number/.test(message)) return t("notWhole");
  if (/^expected a number/.test(message)) return t("notNumber");
  const range = /is outside the accepted range (-?\d+)–(-?\d+)/.exec(message);
  if (range) {
    return t("outOfRange", { min: numberFormat(Number(range[1])), max: numberFormat(Number(range[2])) });
  }
  if (/^(unknown code|expected one of the codes)/.test(message)) return t("unknownCode");
  return message;
}

/**
 * Shows one field's error (or none) under it and on its control.
 * @param {string} name
 */
function renderFieldError(name) {
  const entry = state.controls.get(name);
  if (!entry) return;
  const error = state.errors.get(name);
  entry.control.setAttribute("aria-invalid", String(Boolean(error)));
  entry.field.classList.toggle("invalid", Boolean(error));
  entry.error.textContent = !error
    ? ""
    : error.kind === "server"
    ? serverMessage(error.message)
    : t(error.code, formatNumbers(error.params));
}

/**
 * Numbers in message parameters, written the way the current language writes them.
 * @param {Record<string, unknown>} [params]
 * @returns {Record<string, unknown>}
 */
function formatNumbers(params = {}) {
  return Object.fromEntries(
    Object.entries(params).map((
      [key, value],
    ) => [key, typeof value === "number" ? numberFormat(value) : value]),
  );
}

/** Shows every field's error (or none). */
export function renderErrors() {
  for (const name of state.controls.keys()) renderFieldError(name);
}

/** Shows the message line above the form: an alert for errors, a status for notes. */
export function renderMessage() {
  const box = byId("form-message", HTMLElement);
  const message = state.message;
  box.classList.toggle("info", message?.kind === "info");
  box.setAttribute("role", message?.kind === "info" ? "status" : "alert");
  if (!message) {
    box.textContent = "";
    return;
  }
  const params = typeof message.params === "function" ? message.params() : message.params ?? {};
  box.textContent = t(message.key, params);
}

/** Moves the focus to the first field with an error, in the form's order. */
export function focusFirstError() {
  for (const [name, { control }] of state.controls) {
    if (state.errors.has(name)) {
      control.focus();
      return;
    }
  }
}
