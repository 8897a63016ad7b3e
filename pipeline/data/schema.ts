/**
 * The attribute schema of the Statlog German Credit data (the table itself is `attributes.ts`): the single source of truth for names,
 * codes, labels (English and Spanish) and the ranges a lender would accept. The ETL, the API
 * validation, the browser form and the notebooks all derive from it.
 * @module
 */

import { z } from "zod";
import { type Attribute, ATTRIBUTES, type CategoricalAttribute, GROUPS, type Label } from "./attributes.ts";

export {
  type Attribute,
  ATTRIBUTES,
  type CategoricalAttribute,
  type CodeDefinition,
  type Group,
  GROUPS,
  type Label,
  type NumericAttribute,
} from "./attributes.ts";

/** Version of the schema; artifacts record it so a server refuses a model built for another one. */
export const SCHEMA_VERSION = "1.0.0";

type AttributeDefinition = (typeof ATTRIBUTES)[number];
type CodeOf<A> = A extends { readonly codes: readonly { readonly code: infer C }[] } ? C : never;

/** The name of one of the 20 attributes. */
export type AttributeName = AttributeDefinition["name"];

/** One credit applicant: numbers for numeric attributes, codes (e.g. "A11") for categorical ones. */
export type Applicant = {
  [A in AttributeDefinition as A["name"]]: A extends { kind: "numeric" } ? number : CodeOf<A>;
};

/** The first applicant of the data file (a good risk): the API's documented example. */
export const EXAMPLE_APPLICANT: Applicant = {
  checking_status: "A11",
  duration: 6,
  credit_history: "A34",
  purpose: "A43",
  credit_amount: 1169,
  savings_status: "A65",
  employment: "A75",
  installment_commitment: 4,
  personal_status: "A93",
  other_parties: "A101",
  residence_since: 4,
  property_magnitude: "A121",
  age: 67,
  other_payment_plans: "A143",
  housing: "A152",
  existing_credits: 2,
  job: "A173",
  num_dependents: 1,
  own_telephone: "A192",
  foreign_worker: "A201",
};

/** The target as stored in the raw file: 1 good, 2 bad. */
export const RAW_CLASS = { good: 1, bad: 2 } as const;

/** Attribute names in file order. */
export const ATTRIBUTE_NAMES: readonly AttributeName[] = ATTRIBUTES.map((a) => a.name);

const BY_NAME: ReadonlyMap<string, Attribute> = new Map(ATTRIBUTES.map((a) => [a.name, a as Attribute]));

/** The attribute called `name`, or undefined. */
export function attribute(name: string): Attribute | undefined {
  return BY_NAME.get(name);
}

/** Whether an attribute is categorical (nominal or ordered). */
export function isCategorical(a: Attribute): a is CategoricalAttribute {
  return a.kind !== "numeric";
}

/** The label of a code in a language, or undefined for an unknown code. */
export function codeLabel(name: string, value: string, lang: keyof Label = "en"): string | undefined {
  const a = BY_NAME.get(name);
  if (!a || !isCategorical(a)) return undefined;
  return a.codes.find((c) => c.code === value)?.label[lang];
}

/** Checks one attribute's value; returns a message naming the problem, or null when valid. */
export function checkValue(a: Attribute, value: unknown): string | null {
  if (a.kind === "numeric") {
    if (typeof value !== "number" || !Number.isFinite(value)) return `expected a number, got ${show(value)}`;
    if (!Number.isInteger(value)) return `expected a whole number, got ${value}`;
    if (value < a.min || value > a.max) return `${value} is outside the accepted range ${a.min}–${a.max}`;
    return null;
  }
  if (typeof value !== "string") return `expected one of the codes ${codeList(a)}, got ${show(value)}`;
  if (!a.codes.some((c) => c.code === value)) {
    return `unknown code ${show(value)}; expected one of ${codeList(a)}`;
  }
  return null;
}

function codeList(a: CategoricalAttribute): string {
  return a.codes.map((c) => c.code).join(", ");
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (value === undefined) return "nothing";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** One field's problem: which attribute and why. */
export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

/**
 * Validates an untrusted object as an applicant and returns every problem at once: missing and
 * unexpected fields, wrong types, unknown codes, out-of-range numbers.
 */
export function validateApplicant(input: unknown): { ok: true; value: Applicant } | {
  ok: false;
  issues: FieldIssue[];
} {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return { ok: false, issues: [{ field: "(body)", message: "expected a JSON object of attributes" }] };
  }
  const issues: FieldIssue[] = [];
  const record = input as Record<string, unknown>;
  for (const a of ATTRIBUTES) {
    if (!Object.hasOwn(record, a.name)) {
      issues.push({ field: a.name, message: "is required" });
      continue;
    }
    const problem = checkValue(a, record[a.name]);
    if (problem) issues.push({ field: a.name, message: problem });
  }
  for (const key of Object.keys(record)) {
    if (!BY_NAME.has(key)) issues.push({ field: key, message: "is not an attribute of the schema" });
  }
  return issues.length ? { ok: false, issues } : { ok: true, value: record as Applicant };
}

/** What {@link applicantOrNull} checks of one attribute: its range, or its codes as a Set. */
type FastCheck =
  | { readonly name: string; readonly codes: null; readonly min: number; readonly max: number }
  | { readonly name: string; readonly codes: ReadonlySet<string> };

// Built once: applicantOrNull runs on every fast-path `/predict` (serving/predict_fast.ts).
const FAST_CHECKS: readonly FastCheck[] = ATTRIBUTES.map((a): FastCheck =>
  a.kind === "numeric"
    ? { name: a.name, codes: null, min: a.min, max: a.max }
    : { name: a.name, codes: new Set(a.codes.map((c) => c.code)) }
);

/**
 * The applicant zod's `Applicant` schema would output for `input` (a new object, attributes in
 * schema order), or null when it might refuse it: not an object, a missing or unknown key, a value
 * of the wrong type, an unknown code, a number that is not a safe integer within its range.
 */
export function applicantOrNull(input: unknown): Applicant | null {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return null;
  const record = input as Record<string, unknown>;
  // Exactly the attributes' count of own keys, each of them present: no unknown key.
  if (Object.keys(record).length !== FAST_CHECKS.length) return null;
  const out: Record<string, unknown> = {};
  for (const check of FAST_CHECKS) {
    if (!Object.hasOwn(record, check.name)) return null;
    const value = record[check.name];
    if (check.codes === null) {
      if (
        typeof value !== "number" || !Number.isSafeInteger(value) || value < check.min || value > check.max
      ) {
        return null;
      }
    } else if (typeof value !== "string" || !check.codes.has(value)) return null;
    out[check.name] = value;
  }
  return out as Applicant;
}

/** The zod schema of an applicant, for the API's validation and OpenAPI documentation. */
export const applicantSchema = z.strictObject(
  Object.fromEntries(ATTRIBUTES.map((a) => [a.name, zodFor(a)])) as {
    [K in AttributeName]: z.ZodType<Applicant[K]>;
  },
);

function zodFor(a: Attribute): z.ZodType {
  const described = `${a.label.en}: ${a.description.en}`;
  if (a.kind === "numeric") {
    return z.number().int().min(a.min).max(a.max).describe(`${described} (${a.unit.en}, ${a.min}–${a.max})`);
  }
  const codes = a.codes.map((c) => c.code) as [string, ...string[]];
  return z.enum(codes).describe(`${described} ${a.codes.map((c) => `${c.code}: ${c.label.en}`).join("; ")}`);
}

/** The schema as plain JSON, served at `/schema` and used to build the form. */
export function schemaDocument() {
  return {
    version: SCHEMA_VERSION,
    target: {
      name: "bad",
      description: {
        en: "1 = bad credit risk (raw class 2), 0 = good (raw class 1)",
        es: "1 = riesgo malo (clase 2), 0 = bueno (clase 1)",
      },
    },
    groups: GROUPS,
    attributes: ATTRIBUTES,
  };
}
