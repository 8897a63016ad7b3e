// @ts-check
// The types the applicant form reads and keeps, in one place. The attribute schema is the server's
// own TypeScript type (pipeline/data/schema.ts, the single source of truth for names, codes, labels
// and ranges); the answers below are the JSON the form's endpoints send.

/** @typedef {import("../../pipeline/data/schema.ts").Attribute} Attribute */
/** @typedef {import("../../pipeline/data/schema.ts").NumericAttribute} NumericAttribute */
/** @typedef {import("../../pipeline/data/schema.ts").CategoricalAttribute} CategoricalAttribute */
/** @typedef {import("../../pipeline/data/schema.ts").Label} Label */

/** @typedef {"en" | "es"} Lang */

/**
 * `GET /schema` (pipeline/data/schema.ts `schemaDocument`): the form's groups and attributes.
 * @typedef {{ groups: Readonly<Record<string, Label>>, attributes: readonly Attribute[] }} SchemaDocument
 */

/**
 * A real applicant of `examples.json`, by 1-based row of the data file, with its recorded outcome.
 * @typedef {{ row: number, outcome: "good" | "bad", applicant: Record<string, string | number> }} Example
 */

/**
 * `GET /model`: the parts the form shows.
 * @typedef {{ model_version: number | null, threshold: number, pd_threshold?: number }} ModelInfo
 */

/**
 * A text the API may send in both languages; a plain string is English.
 * @typedef {string | Partial<Record<Lang, string>>} Localized
 */

/**
 * One reason of a `/predict` answer: the attribute's signed contribution to P(bad), with the
 * words for it when the server sends them (older servers send `label` as a plain string).
 * @typedef {object} Reason
 * @property {string} attribute
 * @property {string | number} value
 * @property {number} contribution
 * @property {number} [points] the same contribution in score points (negative: it cost points)
 * @property {Localized} [label]
 * @property {Localized} [value_label]
 * @property {Localized} [sentence]
 */

/**
 * `POST /predict`: the decision with its probability, and the extensions' fields when present.
 * @typedef {object} Prediction
 * @property {number} probability_bad
 * @property {"approve" | "decline" | "review"} decision
 * @property {number} threshold
 * @property {number} review_margin
 * @property {number | null} model_version
 * @property {string} run_id
 * @property {string} request_id
 * @property {number} [pd]
 * @property {number} [pd_threshold]
 * @property {number} [score]
 * @property {Reason[]} [reasons]
 * @property {{ attribute: string, points: number, sentence: Localized }[]} [adverse_action_reasons]
 */

/**
 * What one field holds, its problem in words (a message key and its numbers) when it fails the
 * schema's checks.
 * @typedef {{ code: string, params?: Record<string, number> }} ClientError
 */

/**
 * A field's error: found in the browser (translated from its key), or the server's own message.
 * @typedef {({ kind: "client" } & ClientError) | { kind: "server", message: string }} FieldError
 */

/**
 * The message line above the form: a text key, its parameters (computed at display time when a
 * function, so they follow the language), and whether it is an error or a note.
 * @typedef {{ kind: "error" | "info", key: string, params?: Record<string, unknown> | (() => Record<string, unknown>) }} FormMessage
 */

/** @typedef {{ field: HTMLDivElement, label: HTMLLabelElement, hint: HTMLParagraphElement, error: HTMLParagraphElement }} FieldFrame */

/**
 * A numeric field: a number input with its unit.
 * @typedef {FieldFrame & { kind: "numeric", attribute: NumericAttribute, control: HTMLInputElement, unit: HTMLSpanElement }} NumericField
 */

/**
 * A categorical field: a select whose first option asks for a choice.
 * @typedef {FieldFrame & { kind: "choice", attribute: CategoricalAttribute, control: HTMLSelectElement, placeholder: HTMLOptionElement }} ChoiceField
 */

/** @typedef {NumericField | ChoiceField} FormField */

export {};
