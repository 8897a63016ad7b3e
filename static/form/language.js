// @ts-check
// The form's language: English or Spanish, chosen by the visitor (remembered in localStorage) or
// by the browser; the texts by key, numbers and percentages written the language's way, and the
// page's own markup relabelled when the language changes.

import { EN, ES } from "./text.js";
import { state } from "./state.js";

/** @import { Label, Lang, Localized } from "./types.js" */

/** @type {Record<Lang, Record<string, string | undefined>>} */
const TEXT = { en: EN, es: ES };
const LANG_KEY = "credit-risk-lang";

/**
 * Whether a value names one of the form's languages.
 * @param {string} value
 * @returns {value is Lang}
 */
export function isLang(value) {
  return Object.hasOwn(TEXT, value);
}

/**
 * The text of `key` in the current language, placeholders filled from `params`; English when the
 * language lacks it, the key itself when no language has it.
 * @param {string} key
 * @param {Record<string, unknown>} [params]
 * @returns {string}
 */
export function t(key, params = {}) {
  const text = TEXT[state.lang][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/**
 * A number the current language's way.
 * @param {number} value
 * @param {Intl.NumberFormatOptions} [options]
 * @returns {string}
 */
export const numberFormat = (value, options = {}) => new Intl.NumberFormat(state.lang, options).format(value);

/**
 * A share as a percentage, the current language's way.
 * @param {number} value
 * @param {number} [digits]
 * @returns {string}
 */
export const pct = (value, digits = 1) =>
  numberFormat(value, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits });

/**
 * A schema label in the current language.
 * @param {Label | undefined} labelled
 * @returns {string}
 */
export const label = (labelled) => labelled?.[state.lang] ?? labelled?.en ?? "";

/**
 * A `{ en, es }` text in the current language; a plain string counts as English.
 * @param {Localized | undefined} text
 * @returns {string}
 */
export function localized(text) {
  if (typeof text === "string") return state.lang === "en" ? text : "";
  const own = text?.[state.lang];
  return typeof own === "string" ? own : "";
}

/**
 * The visitor's earlier choice, else Spanish for a Spanish browser, else English.
 * @returns {Lang}
 */
export function initialLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(LANG_KEY);
  } catch { /* storage disabled */ }
  if (stored === "en" || stored === "es") return stored;
  return (navigator.language ?? "en").toLowerCase().startsWith("es") ? "es" : "en";
}

/**
 * Remembers the visitor's choice for their next visit.
 * @param {Lang} lang
 */
export function storeLanguage(lang) {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch { /* storage disabled */ }
}

/** Texts of the page's own markup (`data-i18n`, `data-i18n-attr="attr:key"`). */
export function applyStaticText() {
  document.documentElement.lang = state.lang;
  document.title = t("pageTitle");
  for (const element of document.querySelectorAll("[data-i18n]")) {
    if (element instanceof HTMLElement) element.textContent = t(element.dataset.i18n ?? "");
  }
  for (const element of document.querySelectorAll("[data-i18n-attr]")) {
    if (!(element instanceof HTMLElement)) continue;
    const [attribute, key] = (element.dataset.i18nAttr ?? "").split(":");
    element.setAttribute(attribute, t(key));
  }
  for (const button of languageButtons()) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
}

/**
 * The EN / ES buttons of the header.
 * @returns {HTMLButtonElement[]}
 */
export function languageButtons() {
  return [...document.querySelectorAll(".lang-switch button")].filter((b) => b instanceof HTMLButtonElement);
}
