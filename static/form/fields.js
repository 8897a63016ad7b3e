// @ts-check
// The form built from `GET /schema`: one fieldset per group, one field per attribute (a number
// input with its unit and range, or a select of the codebook's codes), labelled in the current
// language. An error clears as soon as its value is fixed.

import { byId, h } from "../common.js";
import { label, numberFormat, t } from "./language.js";
import { state } from "./state.js";
import { checkField, setFieldError } from "./validation.js";

/** @import { Attribute, FieldFrame, FormField, SchemaDocument } from "./types.js" */

/**
 * Builds every group and field of the schema into `#groups` (their texts come with {@link relabelFields}).
 * @param {SchemaDocument} schema
 */
export function buildForm(schema) {
  const { groups, attributes } = schema;
  const container = byId("groups", HTMLElement);
  container.replaceChildren();
  Object.keys(groups).forEach((group, index) => {
    const fields = h("div", { class: "fields" });
    const legend = h(
      "legend",
      {},
      h("span", { class: "group-number", "aria-hidden": "true" }, index + 1),
      h("span", { class: "group-title", "data-group": group }),
    );
    container.append(h("fieldset", { class: "card group", id: `group-${group}` }, legend, fields));
    for (const attribute of attributes.filter((a) => a.group === group)) fields.append(buildField(attribute));
  });
}

/**
 * One attribute's field, registered in `state.controls`.
 * @param {Attribute} attribute
 * @returns {HTMLDivElement}
 */
function buildField(attribute) {
  const name = attribute.name;
  const id = `f-${name}`;
  const hint = h("p", { class: "hint", id: `${id}-hint` });
  const error = h("p", { class: "field-error", id: `${id}-error`, "aria-live": "polite" });
  const common = {
    id,
    name,
    required: true,
    "aria-describedby": `${id}-hint ${id}-error`,
    "aria-invalid": "false",
  };
  /**
   * The label, the control (with its unit) and the texts under it.
   * @param {HTMLElement} input
   * @returns {FieldFrame}
   */
  const frame = (input) => {
    const labelElement = h("label", { for: id });
    const field = h("div", { class: "field", "data-field": name }, labelElement, input, hint, error);
    return { field, label: labelElement, hint, error };
  };
  /** @type {FormField} */
  let entry;
  if (attribute.kind === "numeric") {
    const control = h("input", {
      ...common,
      type: "number",
      inputmode: "numeric",
      min: attribute.min,
      max: attribute.max,
      step: 1,
      autocomplete: "off",
    });
    const unit = h("span", { class: "unit", "aria-hidden": "true" });
    const parts = frame(h("div", { class: "input-unit" }, control, unit));
    entry = { ...parts, kind: "numeric", attribute, control, unit };
  } else {
    const placeholder = h("option", { value: "" });
    const control = h(
      "select",
      common,
      placeholder,
      attribute.codes.map((c) => h("option", { value: c.code })),
    );
    entry = { ...frame(control), kind: "choice", attribute, control, placeholder };
  }
  // Errors clear as soon as the value is fixed; a value never touched is not nagged about.
  const recheck = () => {
    if (state.errors.has(name)) setFieldError(name, checkField(entry));
  };
  entry.control.addEventListener("input", recheck);
  entry.control.addEventListener("change", recheck);
  state.controls.set(name, entry);
  return entry.field;
}

/**
 * Labels, options and hints of every group and field in the current language.
 * @param {SchemaDocument} schema
 */
export function relabelFields(schema) {
  const { groups } = schema;
  for (const title of document.querySelectorAll(".group-title")) {
    if (title instanceof HTMLElement) title.textContent = label(groups[title.dataset.group ?? ""]);
  }
  for (const entry of state.controls.values()) {
    const { hint } = entry;
    entry.label.textContent = label(entry.attribute.label);
    if (entry.kind === "numeric") {
      const { attribute } = entry;
      entry.unit.textContent = label(attribute.unit);
      hint.textContent = `${
        t("range", {
          min: numberFormat(attribute.min),
          max: numberFormat(attribute.max),
          unit: label(attribute.unit),
        })
      } · ${label(attribute.description)}`;
    } else {
      entry.placeholder.textContent = t("choose");
      for (const option of entry.control.options) {
        const code = entry.attribute.codes.find((c) => c.code === option.value);
        if (code) option.textContent = label(code.label);
      }
      hint.textContent = label(entry.attribute.description);
    }
  }
}

/**
 * The label of a categorical attribute's code in the current language, or the code itself.
 * @param {string} name
 * @param {string | number} code
 * @returns {string | number}
 */
export function codeLabel(name, code) {
  const attribute = state.controls.get(name)?.attribute;
  const codes = attribute?.kind === "numeric" ? undefined : attribute?.codes;
  return label(codes?.find((c) => c.code === code)?.label) || code;
}
