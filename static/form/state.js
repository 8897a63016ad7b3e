// @ts-check
// What the form knows: the language, the schema and examples it was built from, the served model,
// each field's elements and error, the message line and the last answer. Every module of the form
// reads and changes this one object, then asks the views to render it.

/** @import { Example, FieldError, FormField, FormMessage, Lang, ModelInfo, Prediction, SchemaDocument } from "./types.js" */

/**
 * @typedef {object} FormState
 * @property {Lang} lang
 * @property {SchemaDocument | null} schema
 * @property {Example[]} examples
 * @property {ModelInfo | null} model
 * @property {Map<string, FormField>} controls attribute name → its field
 * @property {Map<string, FieldError>} errors attribute name → its error
 * @property {FormMessage | null} message the message line above the form
 * @property {Prediction | null} answer
 * @property {boolean} busy
 */

/** @type {FormState} */
export const state = {
  lang: "en",
  schema: null,
  examples: [],
  model: null,
  controls: new Map(),
  errors: new Map(),
  message: null,
  answer: null,
  busy: false,
};
