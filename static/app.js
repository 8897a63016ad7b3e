// The applicant form: built from GET /schema, validated here exactly as the server validates
// (required, whole numbers, the schema's ranges, known codes), submitted to POST /predict, and
// answered with a result card. English and Spanish throughout; the server's 422 issues are shown
// next to the fields they name.

import { ApiError, append, fetchJson, h, replace, s } from "./common.js";

const TEXT = {
  en: {
    pageTitle: "Credit risk · Assess an applicant",
    skip: "Skip to the form",
    brand: "Credit risk",
    nav: "Main",
    navForm: "Assess an applicant",
    navRuns: "Experiments",
    navApi: "API",
    language: "Language",
    title: "Assess a credit application",
    lead: "Enter the applicant's details, or start from a real applicant of the data set. " +
      "The model estimates the probability that the credit goes bad and recommends a decision.",
    exampleLabel: "Example applicant",
    exampleNone: "Choose a real applicant…",
    exampleGood: "Recorded as a good risk",
    exampleBad: "Recorded as a bad risk",
    exampleOption: "Row {row} · {purpose} · {duration} months · {amount} DM · age {age}",
    exampleFilled:
      "Filled in with row {row} of the data (recorded as a {outcome} risk). Press “Assess risk”.",
    good: "good",
    bad: "bad",
    loading: "Loading the attribute schema…",
    schemaFailed: "The form could not be loaded: {message}",
    choose: "Choose…",
    submit: "Assess risk",
    submitting: "Assessing…",
    reset: "Clear",
    resultTitle: "Assessment",
    resultEmpty: "Fill in the application and press “Assess risk” to see the probability of bad risk and " +
      "the recommended decision.",
    footer: "Statlog German Credit data (UCI, CC BY 4.0). " +
      "A decision aid for credit officers, not a decision on its own.",
    modelChip: "Model v{version} · threshold {threshold}",
    modelChipNone: "No model loaded",
    range: "{min}–{max} {unit}",
    // validation
    required: "Required.",
    notNumber: "Enter a number.",
    notWhole: "Enter a whole number.",
    outOfRange: "Enter a value from {min} to {max}.",
    unknownCode: "Choose one of the options.",
    clientInvalid: "{count} field(s) need attention.",
    serverInvalid: "The server found {count} problem(s); see the highlighted fields.",
    serverFailed: "The assessment failed: {message}",
    networkFailed: "The server could not be reached. Check the connection and try again.",
    // result
    gaugeCaption: "probability of bad risk",
    gaugeLabel: "Probability of bad risk {p}; decision threshold {t}.",
    thresholdTick: "threshold",
    thresholdLegend: "decision threshold {t}",
    approve: "Approve",
    decline: "Decline",
    review: "Refer for review",
    whyApprove: "P(bad) {p} is below the threshold {t}.",
    whyDecline: "P(bad) {p} is at or above the threshold {t}.",
    whyReview: "P(bad) {p} is within {m} of the threshold {t}: a credit officer should decide.",
    statProbability: "Probability of bad risk",
    statPd: "Calibrated probability of default",
    statPdSub: "decision threshold {t}",
    statScore: "Credit score",
    statScoreSub: "points (higher is safer)",
    statModel: "Model version",
    statModelSub: "run {run}",
    reasonsTitle: "What drives this assessment",
    reasonsCaption: "Contribution of each attribute to the probability of bad risk, in percentage points.",
    raises: "raises the risk",
    lowers: "lowers the risk",
    neutral: "does not change the risk",
    requestId: "Request {id}",
    pp: "{value} pp",
  },
  es: {
    pageTitle: "Riesgo de crédito · Evaluar a un solicitante",
    skip: "Ir al formulario",
    brand: "Riesgo de crédito",
    nav: "Principal",
    navForm: "Evaluar a un solicitante",
    navRuns: "Experimentos",
    navApi: "API",
    language: "Idioma",
    title: "Evaluar una solicitud de crédito",
    lead: "Introduzca los datos del solicitante o parta de un solicitante real del conjunto de datos. " +
      "El modelo estima la probabilidad de que el crédito resulte malo y recomienda una decisión.",
    exampleLabel: "Solicitante de ejemplo",
    exampleNone: "Elija un solicitante real…",
    exampleGood: "Registrado como riesgo bueno",
    exampleBad: "Registrado como riesgo malo",
    exampleOption: "Fila {row} · {purpose} · {duration} meses · {amount} DM · {age} años",
    exampleFilled: "Rellenado con la fila {row} de los datos (registrada como riesgo {outcome}). " +
      "Pulse «Evaluar riesgo».",
    good: "bueno",
    bad: "malo",
    loading: "Cargando el esquema de atributos…",
    schemaFailed: "No se pudo cargar el formulario: {message}",
    choose: "Elija…",
    submit: "Evaluar riesgo",
    submitting: "Evaluando…",
    reset: "Borrar",
    resultTitle: "Evaluación",
    resultEmpty: "Rellene la solicitud y pulse «Evaluar riesgo» para ver la probabilidad de riesgo malo y " +
      "la decisión recomendada.",
    footer: "Datos Statlog German Credit (UCI, CC BY 4.0). " +
      "Una ayuda para la decisión del analista de crédito, no una decisión por sí sola.",
    modelChip: "Modelo v{version} · umbral {threshold}",
    modelChipNone: "Ningún modelo cargado",
    range: "{min}–{max} {unit}",
    required: "Obligatorio.",
    notNumber: "Introduzca un número.",
    notWhole: "Introduzca un número entero.",
    outOfRange: "Introduzca un valor entre {min} y {max}.",
    unknownCode: "Elija una de las opciones.",
    clientInvalid: "{count} campo(s) requieren atención.",
    serverInvalid: "El servidor encontró {count} problema(s); revise los campos marcados.",
    serverFailed: "La evaluación falló: {message}",
    networkFailed: "No se pudo contactar con el servidor. Compruebe la conexión e inténtelo de nuevo.",
    gaugeCaption: "probabilidad de riesgo malo",
    gaugeLabel: "Probabilidad de riesgo malo {p}; umbral de decisión {t}.",
    thresholdTick: "umbral",
    thresholdLegend: "umbral de decisión {t}",
    approve: "Aprobar",
    decline: "Rechazar",
    review: "Revisión manual",
    whyApprove: "P(malo) {p} está por debajo del umbral {t}.",
    whyDecline: "P(malo) {p} alcanza o supera el umbral {t}.",
    whyReview: "P(malo) {p} está a menos de {m} del umbral {t}: debe decidir un analista.",
    statProbability: "Probabilidad de riesgo malo",
    statPd: "Probabilidad de impago calibrada",
    statPdSub: "umbral de decisión {t}",
    statScore: "Puntuación de crédito",
    statScoreSub: "puntos (más es más seguro)",
    statModel: "Versión del modelo",
    statModelSub: "ejecución {run}",
    reasonsTitle: "Qué explica esta evaluación",
    reasonsCaption: "Contribución de cada atributo a la probabilidad de riesgo malo, en puntos porcentuales.",
    raises: "aumenta el riesgo",
    lowers: "reduce el riesgo",
    neutral: "no cambia el riesgo",
    requestId: "Solicitud {id}",
    pp: "{value} pp",
  },
};

/** Units that read naturally after a number in a sentence; counts and bands stand alone. */
const MEASURE_UNITS = new Set(["months", "DM", "years"]);
const LANG_KEY = "credit-risk-lang";

const state = {
  lang: "en",
  schema: null,
  examples: [],
  model: null,
  /** name → { field, label, control, hint, unit, error, placeholder } */
  controls: new Map(),
  /** name → { kind: "client", code, params } | { kind: "server", message } */
  errors: new Map(),
  /** the message line above the form: { key, params, kind } */
  message: null,
  answer: null,
  busy: false,
};

const $ = (id) => document.getElementById(id);

function t(key, params = {}) {
  const text = TEXT[state.lang][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

const numberFormat = (value, options = {}) => new Intl.NumberFormat(state.lang, options).format(value);
const pct = (value, digits = 1) =>
  numberFormat(value, { style: "percent", minimumFractionDigits: digits, maximumFractionDigits: digits });
const label = (labelled) => labelled?.[state.lang] ?? labelled?.en ?? "";

// ------------------------------------------------------------------------------------ startup

async function main() {
  state.lang = initialLanguage();
  for (const button of document.querySelectorAll(".lang-switch button")) {
    button.addEventListener("click", () => setLanguage(button.dataset.lang));
  }
  applyStaticText();

  const [schema, examples, model] = await Promise.allSettled([
    fetchJson("/schema"),
    fetchJson("/examples.json"),
    fetchJson("/model"),
  ]);
  if (schema.status === "rejected") {
    replace(
      $("groups"),
      h("p", { class: "form-message" }, t("schemaFailed", { message: schema.reason.message })),
    );
    return;
  }
  state.schema = schema.value;
  state.examples = examples.status === "fulfilled" ? examples.value.examples ?? [] : [];
  state.model = model.status === "fulfilled" ? model.value : null;

  buildForm();
  buildExamples();
  relabel();
  const form = $("applicant-form");
  form.addEventListener("submit", onSubmit);
  form.addEventListener("reset", onReset);
  form.setAttribute("aria-busy", "false");
  $("submit").disabled = false;
  document.body.dataset.ready = "true";
}

function initialLanguage() {
  let stored = null;
  try {
    stored = localStorage.getItem(LANG_KEY);
  } catch { /* storage disabled */ }
  if (stored === "en" || stored === "es") return stored;
  return (navigator.language ?? "en").toLowerCase().startsWith("es") ? "es" : "en";
}

function setLanguage(lang) {
  if (!(lang in TEXT) || lang === state.lang) return;
  state.lang = lang;
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch { /* storage disabled */ }
  applyStaticText();
  if (state.schema) relabel();
}

/** Texts of the page's own markup (`data-i18n`, `data-i18n-attr="attr:key"`). */
function applyStaticText() {
  document.documentElement.lang = state.lang;
  document.title = t("pageTitle");
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of document.querySelectorAll("[data-i18n-attr]")) {
    const [attribute, key] = element.dataset.i18nAttr.split(":");
    element.setAttribute(attribute, t(key));
  }
  for (const button of document.querySelectorAll(".lang-switch button")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === state.lang));
  }
}

// ------------------------------------------------------------------------------------ the form

function buildForm() {
  const { groups, attributes } = state.schema;
  const container = $("groups");
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
  let control;
  let unit = null;
  let placeholder = null;
  if (attribute.kind === "numeric") {
    control = h("input", {
      ...common,
      type: "number",
      inputmode: "numeric",
      min: attribute.min,
      max: attribute.max,
      step: 1,
      autocomplete: "off",
    });
    unit = h("span", { class: "unit", "aria-hidden": "true" });
  } else {
    placeholder = h("option", { value: "" });
    control = h(
      "select",
      common,
      placeholder,
      attribute.codes.map((c) => h("option", { value: c.code })),
    );
  }
  const labelElement = h("label", { for: id });
  const field = h(
    "div",
    { class: "field", "data-field": name },
    labelElement,
    unit ? h("div", { class: "input-unit" }, control, unit) : control,
    hint,
    error,
  );
  // Errors clear as soon as the value is fixed; a value never touched is not nagged about.
  const recheck = () => {
    if (state.errors.has(name)) setFieldError(name, checkField(attribute, control));
  };
  control.addEventListener("input", recheck);
  control.addEventListener("change", recheck);
  state.controls.set(name, {
    attribute,
    field,
    label: labelElement,
    control,
    hint,
    unit,
    error,
    placeholder,
  });
  return field;
}

/** Relabels everything built from the schema (labels, options, hints, errors, result) in the current language. */
function relabel() {
  const { groups } = state.schema;
  for (const title of document.querySelectorAll(".group-title")) {
    title.textContent = label(groups[title.dataset.group]);
  }
  for (
    const { attribute, label: labelElement, control, hint, unit, placeholder } of state.controls.values()
  ) {
    labelElement.textContent = label(attribute.label);
    if (attribute.kind === "numeric") {
      unit.textContent = label(attribute.unit);
      hint.textContent = `${
        t("range", {
          min: numberFormat(attribute.min),
          max: numberFormat(attribute.max),
          unit: label(attribute.unit),
        })
      } · ${label(attribute.description)}`;
    } else {
      placeholder.textContent = t("choose");
      for (const option of control.options) {
        const code = attribute.codes.find((c) => c.code === option.value);
        if (code) option.textContent = label(code.label);
      }
      hint.textContent = label(attribute.description);
    }
  }
  relabelExamples();
  renderErrors();
  renderMessage();
  renderModelChip();
  renderResult();
}

function renderModelChip() {
  const chip = $("model-chip");
  chip.hidden = false;
  chip.textContent = state.model
    ? t("modelChip", {
      version: state.model.model_version ?? "–",
      threshold: state.model.threshold.toFixed(3),
    })
    : t("modelChipNone");
}

// ------------------------------------------------------------------------------------ examples

function buildExamples() {
  const picker = $("example");
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

function relabelExamples() {
  const picker = $("example");
  for (const group of picker.querySelectorAll("optgroup")) {
    group.label = t(group.dataset.outcome === "good" ? "exampleGood" : "exampleBad");
  }
  for (const option of picker.querySelectorAll("option[value]:not([value=''])")) {
    const example = state.examples.find((e) => String(e.row) === option.value);
    const { applicant } = example;
    option.textContent = t("exampleOption", {
      row: example.row,
      purpose: codeLabel("purpose", applicant.purpose),
      duration: applicant.duration,
      amount: numberFormat(applicant.credit_amount),
      age: applicant.age,
    });
  }
}

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

function codeLabel(name, code) {
  const attribute = state.controls.get(name)?.attribute;
  return label(attribute?.codes?.find((c) => c.code === code)?.label) || code;
}

// ------------------------------------------------------------------------------------ validation

/** The schema module's `checkValue`, on what the control holds: null when valid, else an error. */
function checkField(attribute, control) {
  if (attribute.kind === "numeric") {
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
  if (control.value === "") return { code: "required" };
  if (!attribute.codes.some((c) => c.code === control.value)) return { code: "unknownCode" };
  return null;
}

function setFieldError(name, error) {
  if (error) state.errors.set(name, { kind: "client", ...error });
  else state.errors.delete(name);
  renderFieldError(name);
}

/** The server's English wording, in the form's language when it is one of the known phrasings. */
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

/** Numbers in message parameters, written the way the current language writes them. */
function formatNumbers(params = {}) {
  return Object.fromEntries(
    Object.entries(params).map((
      [key, value],
    ) => [key, typeof value === "number" ? numberFormat(value) : value]),
  );
}

function renderErrors() {
  for (const name of state.controls.keys()) renderFieldError(name);
}

function renderMessage() {
  const box = $("form-message");
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

function focusFirstError() {
  for (const [name, { control }] of state.controls) {
    if (state.errors.has(name)) {
      control.focus();
      return;
    }
  }
}

// ------------------------------------------------------------------------------------ submitting

async function onSubmit(event) {
  event.preventDefault();
  if (state.busy) return;
  const applicant = {};
  state.errors.clear();
  for (const [name, { attribute, control }] of state.controls) {
    const error = checkField(attribute, control);
    if (error) state.errors.set(name, { kind: "client", ...error });
    else applicant[name] = attribute.kind === "numeric" ? Number(control.value) : control.value;
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
    state.answer = await fetchJson("/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(applicant),
    });
    renderResult();
    if (globalThis.matchMedia("(max-width: 1039px)").matches) {
      $("result").scrollIntoView({ behavior: "smooth", block: "start" });
    }
  } catch (error) {
    showSubmitError(error);
  } finally {
    setBusy(false);
  }
}

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

function setBusy(busy) {
  state.busy = busy;
  const button = $("submit");
  button.disabled = busy;
  $("applicant-form").setAttribute("aria-busy", String(busy));
  button.replaceChildren(
    ...(busy ? [h("span", { class: "spinner", "aria-hidden": "true" })] : []),
    h("span", { "data-i18n": busy ? "submitting" : "submit" }, t(busy ? "submitting" : "submit")),
  );
}

function onReset() {
  state.errors.clear();
  state.message = null;
  state.answer = null;
  $("example").value = "";
  // The form's own reset runs after this handler; errors and the card are cleared with it.
  setTimeout(() => {
    renderErrors();
    renderMessage();
    renderResult();
  });
}

// ------------------------------------------------------------------------------------ result card

function renderResult() {
  const body = $("result-body");
  const answer = state.answer;
  if (!answer) {
    replace(body, h("p", { class: "placeholder" }, t("resultEmpty")), gauge(null, state.model?.threshold));
    return;
  }
  const p = answer.probability_bad;
  const decision = answer.decision;
  const why = decision === "decline" ? "whyDecline" : decision === "review" ? "whyReview" : "whyApprove";
  const stats = [
    [t("statProbability"), pct(p), null],
    ...(typeof answer.pd === "number"
      ? [[t("statPd"), pct(answer.pd), t("statPdSub", { t: pct(answer.pd_threshold) })]]
      : []),
    ...(typeof answer.score === "number"
      ? [[t("statScore"), numberFormat(answer.score), t("statScoreSub")]]
      : []),
    [
      t("statModel"),
      answer.model_version === null ? "–" : `v${answer.model_version}`,
      t("statModelSub", { run: answer.run_id }),
    ],
  ];
  replace(
    body,
    gauge(p, answer.threshold, decision),
    h(
      "p",
      { class: "gauge-legend" },
      h("span", { class: "tick-swatch", "aria-hidden": "true" }),
      t("thresholdLegend", { t: pct(answer.threshold) }),
    ),
    h(
      "div",
      { class: "decision" },
      h("span", { class: `pill big ${decision}`, id: "decision", "data-decision": decision }, t(decision)),
      h(
        "span",
        { class: "small muted", id: "decision-reason" },
        t(why, { p: pct(p), t: pct(answer.threshold), m: pct(answer.review_margin) }),
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
    reasons(answer.reasons),
    h("p", { class: "meta-line mono" }, t("requestId", { id: answer.request_id })),
  );
}

/** A half-circle gauge of P(bad) with the decision threshold marked. */
function gauge(p, threshold, decision = "none") {
  const cx = 140, cy = 128, r = 96;
  const point = (value, radius = r) => {
    const angle = Math.PI * (1 - Math.min(1, Math.max(0, value)));
    return [cx + radius * Math.cos(angle), cy - radius * Math.sin(angle)];
  };
  const arc = (to) => {
    const [x, y] = point(to);
    return `M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`;
  };
  const children = [s("path", { class: "track", d: arc(1) })];
  if (p !== null && p > 0.001) children.push(s("path", { class: `value ${decision}`, d: arc(p) }));
  if (typeof threshold === "number") {
    const [x1, y1] = point(threshold, r - 16);
    const [x2, y2] = point(threshold, r + 16);
    const [lx, ly] = point(threshold, r + 22);
    const anchor = threshold < 0.4 ? "end" : threshold > 0.6 ? "start" : "middle";
    children.push(
      s("line", { class: "tick", x1, y1, x2, y2 }, s("title", {}, `${t("thresholdTick")} ${pct(threshold)}`)),
      s(
        "text",
        { class: "tick-label", x: lx, y: ly + 4, "text-anchor": anchor },
        pct(threshold, 0),
      ),
    );
  }
  children.push(
    s("text", { class: "end-label", x: cx - r, y: cy + 20, "text-anchor": "middle" }, "0 %"),
    s("text", { class: "end-label", x: cx + r, y: cy + 20, "text-anchor": "middle" }, "100 %"),
    s(
      "text",
      { class: "big", x: cx, y: cy - 18, "text-anchor": "middle", id: "gauge-value" },
      p === null ? "–" : pct(p, 0),
    ),
    s("text", { class: "caption", x: cx, y: cy + 4, "text-anchor": "middle" }, t("gaugeCaption")),
  );
  const described = p === null ? t("gaugeCaption") : t("gaugeLabel", { p: pct(p), t: pct(threshold ?? 0) });
  return s(
    "svg",
    { class: "gauge", viewBox: "0 0 280 160", role: "img", "aria-label": described },
    children,
  );
}

/** The signed contributions of `reasons` (when the API sends them) as bars with a sentence each. */
function reasons(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  const items = [...list]
    .filter((r) => typeof r?.contribution === "number" && Number.isFinite(r.contribution))
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  if (items.length === 0) return null;
  const largest = Math.max(...items.map((r) => Math.abs(r.contribution))) || 1;
  return h(
    "section",
    { class: "reasons", id: "reasons", "aria-labelledby": "reasons-title" },
    h("h3", { id: "reasons-title" }, t("reasonsTitle")),
    h(
      "div",
      { class: "legend", "aria-hidden": "true" },
      h("span", {}, h("span", { class: "swatch raises" }), t("raises")),
      h("span", {}, h("span", { class: "swatch lowers" }), t("lowers")),
    ),
    h(
      "ol",
      {},
      items.map((reason) => {
        const effect = reason.contribution > 0 ? "raises" : reason.contribution < 0 ? "lowers" : "neutral";
        const width = (Math.abs(reason.contribution) / largest) * 98;
        const amount = reason.contribution * 100;
        const sign = amount > 0 ? "+" : amount < 0 ? "−" : "";
        return h(
          "li",
          { class: `reason ${effect}`, "data-attribute": reason.attribute },
          h("span", { class: "sentence" }, reasonSentence(reason, effect)),
          h(
            "span",
            { class: "amount" },
            t("pp", {
              value: sign +
                numberFormat(Math.abs(amount), { maximumFractionDigits: 1, minimumFractionDigits: 1 }),
            }),
          ),
          s(
            "svg",
            { viewBox: "0 0 200 10", preserveAspectRatio: "none", "aria-hidden": "true" },
            s("rect", {
              class: `bar ${effect}`,
              x: effect === "lowers" ? 100 - width : 100,
              y: 1,
              width: Math.max(width, 0.5),
              height: 8,
              rx: 1.5,
            }),
            s("line", { class: "bar-axis", x1: 100, x2: 100, y1: 0, y2: 10 }),
          ),
        );
      }),
    ),
    h("p", { class: "small muted" }, t("reasonsCaption")),
  );
}

/** A `{ en, es }` text in the current language; a plain string counts as English. */
function localized(text) {
  if (typeof text === "string") return state.lang === "en" ? text : "";
  return typeof text?.[state.lang] === "string" ? text[state.lang] : "";
}

/**
 * The API's own sentence in the current language when it sends one; else one built from the
 * schema: "Checking account “No checking account” lowers the risk".
 */
function reasonSentence(reason, effect) {
  const own = localized(reason.sentence);
  if (own) return own;
  const attribute = state.controls.get(reason.attribute)?.attribute;
  const [open, close] = state.lang === "es" ? ["«", "»"] : ["“", "”"];
  let value = localized(reason.value_label);
  if (!value && attribute?.kind === "numeric") {
    const unit = MEASURE_UNITS.has(attribute.unit.en) ? ` ${label(attribute.unit)}` : "";
    value = `${numberFormat(Number(reason.value))}${unit}`;
  } else if (!value) {
    value = `${open}${
      codeLabel(reason.attribute, reason.value) || localized(reason.label) || reason.value
    }${close}`;
  }
  return [h("strong", {}, attribute ? label(attribute.label) : reason.attribute), ` ${value} ${t(effect)}`];
}

main().catch((error) => {
  replace($("groups"), h("p", { class: "form-message" }, t("schemaFailed", { message: error.message })));
});
