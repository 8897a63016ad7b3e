// @ts-check
// Helpers shared by the applicant form (app.js, form/) and the experiments dashboard (runs.js,
// dashboard/). Everything is built with DOM calls and text nodes, never parsed as HTML, so no text
// from the server or a user can become markup; and no `style` attributes, which the CSP forbids.

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * An attribute's value: `on*` names take listeners, `dataset` a map of `data-*` values; null,
 * undefined and false leave the attribute out, true sets it empty.
 * @typedef {string | number | boolean | null | undefined | ((event: Event) => void) | Record<string, string>} AttributeValue
 */

/** @typedef {Record<string, AttributeValue>} Attributes */

/**
 * What {@link append} accepts: nodes, text (strings and numbers), nested arrays; null, undefined
 * and false are skipped.
 * @typedef {Node | string | number | boolean | null | undefined | ChildList} Child
 */

/**
 * An array of children, written as an indexed type because a JSDoc typedef cannot refer to itself
 * through `Child[]`.
 * @typedef {{ readonly [index: number]: Child, readonly length: number }} ChildList
 */

/**
 * An HTML element: `h("p", { class: "hint", id: "x" }, "text", child)`. `on*` attributes take functions.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes} [attributes]
 * @param {Child[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

/**
 * An SVG element, as {@link h}.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Attributes} [attributes]
 * @param {Child[]} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function s(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

/**
 * @template {HTMLElement | SVGElement} E
 * @param {E} element
 * @param {Attributes | undefined} attributes
 * @param {Child[]} children
 * @returns {E}
 */
function build(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "style") throw new Error("inline styles are not allowed by the CSP; use a class");
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

/**
 * Appends children: nodes, strings (as text), arrays of either; null and false are skipped.
 * @template {Element} P
 * @param {P} parent
 * @param {readonly Child[]} children
 * @returns {P}
 */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/**
 * Replaces all children of `parent`.
 * @template {Element} P
 * @param {P} parent
 * @param {Child[]} children
 * @returns {P}
 */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/**
 * The element with this id, checked to be of the expected class; a page without it is a bug.
 * @template {Element} T
 * @param {string} id
 * @param {{ new (): T, name: string }} type
 * @returns {T}
 */
export function byId(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return element;
}

/**
 * The JSON body of an error answer (`pipeline/serving/errors.ts`); `issues` name the fields of a 422.
 * @typedef {object} ApiErrorBody
 * @property {string} [error]
 * @property {string} [message]
 * @property {string} [request_id]
 * @property {{ field: string, message: string }[]} [issues]
 */

/** An error answered by the API, with its JSON body. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {ApiErrorBody | null} body
   */
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/**
 * Fetches JSON; a non-2xx answer throws an {@link ApiError} carrying the error body. The caller
 * states what the endpoint answers.
 * @param {string} url
 * @param {Omit<RequestInit, "headers"> & { headers?: Record<string, string> }} [options]
 * @returns {Promise<unknown>}
 */
export async function fetchJson(url, options = {}) {
  const response = await fetch(url, {
    ...options,
    headers: { Accept: "application/json", ...options.headers },
  });
  const type = response.headers.get("content-type") ?? "";
  /** @type {unknown} */
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    throw new ApiError(
      response.status,
      typeof body === "object" ? /** @type {ApiErrorBody | null} */ (body) : { message: String(body) },
    );
  }
  return body;
}

/**
 * The message of anything thrown (an `Error`'s message, else its text).
 * @param {unknown} error
 * @returns {string}
 */
export function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A number with a fixed count of decimals, or an en dash when absent.
 * @param {unknown} value
 * @param {number} [digits]
 * @returns {string}
 */
export function fixed(value, digits = 3) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

/**
 * A share as a percentage, or an en dash when absent.
 * @param {unknown} value
 * @param {number} [digits]
 * @param {string} [locale]
 * @returns {string}
 */
export function percent(value, digits = 1, locale = "en") {
  if (typeof value !== "number" || !Number.isFinite(value)) return "–";
  return new Intl.NumberFormat(locale, {
    style: "percent",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/**
 * A duration in milliseconds as "850 ms", "6.4 s" or "3 min 05 s".
 * @param {unknown} ms
 * @returns {string}
 */
export function duration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return minutes < 60
    ? `${minutes} min ${String(seconds).padStart(2, "0")} s`
    : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/**
 * An ISO time as a short local date and time.
 * @param {string} iso
 * @returns {string}
 */
export function dateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "–";
  return date.toLocaleString("en-GB", {
    year: "numeric",
    month: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  });
}
