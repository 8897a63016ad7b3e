/**
 * Why the model scored an applicant as it did: each of the 20 attributes' signed contribution to
 * P(bad), and the largest of them as reasons in plain English and Spanish (adverse-action reasons).
 *
 * The contributions are exact Shapley values with the attributes as the players (TreeSHAP over
 * attribute groups by quadrature, `forest/explain.ts`), not column values summed afterwards: the one-hot columns
 * of an attribute are known or unknown together, and an engineered column (monthly instalment =
 * amount / duration, …) is known once all its source attributes are. So an attribute's share of
 * an engineered feature follows from the game itself instead of an arbitrary equal split, and
 * local accuracy holds per attribute: `baseValue + Σ contributions = P(bad)`.
 * @module
 */

import type { FeatureEncoder } from "../features/encoder.ts";
import { type ExplainableForest, type ShapPlayers, TreeShapExplainer } from "../forest/mod.ts";
import {
  type Applicant,
  type Attribute,
  type AttributeName,
  ATTRIBUTES,
  codeLabel,
  type Label,
} from "../data/schema.ts";
import { PROTECTED_ATTRIBUTES } from "../data/profile.ts";

/** Reasons given for one applicant unless asked otherwise. */
export const DEFAULT_REASON_COUNT = 5;

/** Which way an attribute moves P(bad). */
export type Direction = "raises" | "lowers";

/** One attribute's signed contribution. */
export interface AttributeContribution {
  readonly attribute: AttributeName;
  /** Change in P(bad) the attribute accounts for (positive raises the risk). */
  readonly contribution: number;
}

/** One reason, ready for the form: what the attribute is, what the applicant has, and its effect. */
export interface Reason extends AttributeContribution {
  readonly label: Label;
  /** The applicant's value: a code (e.g. "A14") or a number. */
  readonly value: string | number;
  /** The value in words (the schema's code label, or the number with its unit). */
  readonly value_label: Label;
  readonly direction: Direction;
  /** E.g. "Checking account (No checking account) lowers the risk". */
  readonly sentence: Label;
}

/** An applicant's explanation. */
export interface Explanation {
  /** P(bad) with nothing known about the applicant: the forest's cover-weighted expectation. */
  readonly baseValue: number;
  /** Per attribute, in schema order: `baseValue + Σ contributions` is the forest's P(bad). */
  readonly contributions: Float64Array;
  /** The largest contributions by magnitude, as reasons (never a protected attribute). */
  readonly reasons: readonly Reason[];
}

/** The attributes as TreeSHAP's players: each encoded column belongs to the attributes it is computed from. */
export function attributePlayers(encoder: FeatureEncoder): ShapPlayers {
  const index = new Map<string, number>(ATTRIBUTES.map((a, i) => [a.name, i]));
  return {
    count: ATTRIBUTES.length,
    ofColumn: encoder.columns.map((column) => column.sources.map((name) => index.get(name)!)),
  };
}

/**
 * Attribute-level TreeSHAP for one model. The forest is prepared once here (flattened, its
 * row-independent numbers precomputed, a few MB for the production model); each explanation then
 * allocates nothing. Not reentrant (shared scratch buffers): one per thread.
 */
export class AttributeExplainer {
  readonly #encoder: FeatureEncoder;
  readonly #shap: TreeShapExplainer;
  readonly #row: Float64Array;

  /** Prepares the explainer for a fitted encoder and forest. */
  constructor(encoder: FeatureEncoder, forest: ExplainableForest) {
    this.#encoder = encoder;
    this.#shap = new TreeShapExplainer(forest, attributePlayers(encoder));
    this.#row = new Float64Array(encoder.nFeatures);
  }

  /** P(bad) with nothing known about the applicant. */
  get baseValue(): number {
    return this.#shap.baseValue;
  }

  /** Attribute contributions (schema order) of an encoded row, written to `out`. */
  contributionsOfRow(
    row: ArrayLike<number>,
    out: Float64Array = new Float64Array(ATTRIBUTES.length),
  ): Float64Array {
    return this.#shap.shapValues(row, out);
  }

  /** Contributions of every attribute and the `count` largest as reasons. */
  explain(applicant: Applicant, count = DEFAULT_REASON_COUNT): Explanation {
    const contributions = this.contributionsOfRow(this.#encoder.transformOne(applicant, this.#row));
    return explanationOf(applicant, this.baseValue, contributions, count);
  }
}

/** One attribute's weight in a model's decisions over a set of applicants. */
export interface AttributeInfluence {
  attribute: AttributeName;
  /** Mean over the applicants of |contribution to P(bad)|. */
  mean_abs_contribution: number;
  /** 1 for the largest. */
  rank: number;
  protected: boolean;
}

/**
 * Every attribute ranked by its mean absolute contribution to P(bad) over `applicants` (exact
 * attribute-level TreeSHAP): how much the model leans on each, protected ones included. Model cards
 * say so when a protected attribute ranks among the largest.
 */
export function attributeInfluence(
  explainer: AttributeExplainer,
  applicants: readonly Applicant[],
): AttributeInfluence[] {
  if (applicants.length === 0) throw new RangeError("attribute influence needs at least one applicant");
  const sums = new Float64Array(ATTRIBUTES.length);
  for (const applicant of applicants) {
    const { contributions } = explainer.explain(applicant, 0);
    for (let i = 0; i < sums.length; i++) sums[i] += Math.abs(contributions[i]);
  }
  return ATTRIBUTES.map((a, i) => ({ attribute: a.name, mean: sums[i] / applicants.length }))
    .sort((x, y) => y.mean - x.mean)
    .map((x, i) => ({
      attribute: x.attribute,
      mean_abs_contribution: x.mean,
      rank: i + 1,
      protected: REASONS_NEVER_CITE.has(x.attribute),
    }));
}

/** An explanation from contributions computed elsewhere (e.g. on a worker thread). */
export function explanationOf(
  applicant: Applicant,
  baseValue: number,
  contributions: Float64Array,
  count = DEFAULT_REASON_COUNT,
): Explanation {
  return {
    baseValue,
    contributions,
    reasons: topContributions(contributions, count).map((c) => reason(applicant, c)),
  };
}

/**
 * Attributes a reason never cites, under any attribute profile: the protected ones
 * (`data/profile.ts`). A model that sees them still has their contributions (the API returns every
 * contribution, and the model card says when a protected attribute weighs heavily); a decision is
 * never justified to an applicant by their sex, age or nationality.
 */
export const REASONS_NEVER_CITE: ReadonlySet<AttributeName> = new Set(PROTECTED_ATTRIBUTES);

/**
 * The `count` non-zero contributions largest in magnitude, largest first (ties in schema order),
 * leaving out the `excluded` attributes (by default the protected ones).
 */
export function topContributions(
  contributions: ArrayLike<number>,
  count: number,
  excluded: ReadonlySet<string> = REASONS_NEVER_CITE,
): AttributeContribution[] {
  if (contributions.length !== ATTRIBUTES.length) {
    throw new RangeError(`expected ${ATTRIBUTES.length} contributions, got ${contributions.length}`);
  }
  const order: number[] = [];
  for (let i = 0; i < contributions.length; i++) {
    if (contributions[i] !== 0 && !excluded.has(ATTRIBUTES[i].name)) order.push(i);
  }
  order.sort((a, b) => Math.abs(contributions[b]) - Math.abs(contributions[a]) || a - b);
  return order.slice(0, Math.max(0, count)).map((i) => ({
    attribute: ATTRIBUTES[i].name,
    contribution: contributions[i],
  }));
}

/** A contribution as a reason for `applicant`, with labels and sentences in both languages. */
export function reason(applicant: Applicant, { attribute, contribution }: AttributeContribution): Reason {
  const a = ATTRIBUTES.find((x) => x.name === attribute) as Attribute;
  const value = applicant[attribute];
  const direction: Direction = contribution > 0 ? "raises" : "lowers";
  const value_label = { en: valueLabel(a, value, "en"), es: valueLabel(a, value, "es") };
  const plural = PLURAL_LABELS.has(attribute);
  const verbs = VERBS[direction];
  return {
    attribute,
    contribution,
    label: a.label,
    value,
    value_label,
    direction,
    sentence: {
      en: `${a.label.en} (${value_label.en}) ${plural ? verbs.en.plural : verbs.en.singular} the risk`,
      es: `${a.label.es} (${value_label.es}) ${plural ? verbs.es.plural : verbs.es.singular} el riesgo`,
    },
  };
}

/** `attribute:+0.031`, the compact form of a batch's CSV cell. */
export function formatContribution({ attribute, contribution }: AttributeContribution): string {
  return `${attribute}:${contribution >= 0 ? "+" : ""}${contribution.toFixed(3)}`;
}

/** The schema's label for a code; a number with its unit ("36 months", "band 4"). */
export function valueLabel(a: Attribute, value: string | number, lang: keyof Label): string {
  if (a.kind !== "numeric") return codeLabel(a.name, String(value), lang) ?? String(value);
  const number = NUMBER_FORMAT[lang].format(Number(value));
  const unit = a.unit[lang];
  if (unit === BAND[lang]) return `${unit} ${number}`;
  return `${number} ${value === 1 ? SINGULAR_UNITS[unit] ?? unit : unit}`;
}

const VERBS = {
  raises: { en: { singular: "raises", plural: "raise" }, es: { singular: "aumenta", plural: "aumentan" } },
  lowers: { en: { singular: "lowers", plural: "lower" }, es: { singular: "reduce", plural: "reducen" } },
} as const;

// Grammar the schema's labels do not carry: which attribute labels are plural nouns (in both
// languages alike, e.g. "Savings" / "Ahorros"), and the singular of the plural units it gives.
const PLURAL_LABELS: ReadonlySet<AttributeName> = new Set<AttributeName>([
  "savings_status",
  "personal_status",
  "other_parties",
  "residence_since",
  "other_payment_plans",
  "existing_credits",
  "num_dependents",
]);

const SINGULAR_UNITS: Readonly<Record<string, string>> = {
  months: "month",
  years: "year",
  credits: "credit",
  people: "person",
  meses: "mes",
  años: "año",
  créditos: "crédito",
  personas: "persona",
};

const BAND: Label = { en: "band", es: "tramo" };

// Built once: `toLocaleString` builds a formatter per call, some 30 times slower.
const NUMBER_FORMAT = { en: new Intl.NumberFormat("en"), es: new Intl.NumberFormat("es") };
