/**
 * The common `POST /predict` without its validation middleware: a body the server already read
 * (server.ts), `Content-Type: application/json` exactly, no query or only `explain=true|false`, and
 * an applicant that a check compiled from the attribute table accepts. Anything else, every error
 * included, goes the route's full way (zod-openapi's gates and zod, the schema and the OpenAPI
 * source), so no answer changes: this path only accepts what that one accepts, as that one would
 * parse it (tests/serving/predict_fast_test.ts checks both against each other). Measured: the
 * middleware, query and body validation it skips cost ~25 µs of the HTTP thread a request.
 * @module
 */

import type { Context } from "hono";
import { type Applicant, ATTRIBUTES } from "../data/schema.ts";
import type { ServeBindings } from "./context.ts";

/** One attribute as the fast check sees it. */
type Rule = { name: string; min: number; max: number; codes: null } | {
  name: string;
  min: 0;
  max: 0;
  codes: ReadonlySet<string>;
};

const RULES: readonly Rule[] = ATTRIBUTES.map((a): Rule =>
  a.kind === "numeric"
    ? { name: a.name, min: a.min, max: a.max, codes: null }
    : { name: a.name, min: 0, max: 0, codes: new Set(a.codes.map((c) => c.code)) }
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
  if (Object.keys(record).length !== RULES.length) return null;
  const out: Record<string, unknown> = {};
  for (const rule of RULES) {
    if (!Object.hasOwn(record, rule.name)) return null;
    const value = record[rule.name];
    if (rule.codes === null) {
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < rule.min || value > rule.max) {
        return null;
      }
    } else if (typeof value !== "string" || !rule.codes.has(value)) return null;
    out[rule.name] = value;
  }
  return out as Applicant;
}

/** What the fast path hands the handler. */
export interface FastPredictInput {
  applicant: Applicant;
  /** The `explain` query parameter, if given. */
  explain: string | undefined;
}

/**
 * The validated applicant and the `explain` parameter of a `/predict` the fast path may answer,
 * or null to let the route's validation handle it (and answer any error). `limit`: the body limit.
 */
export function fastPredictInput(c: Context, limit: number): FastPredictInput | null {
  const text = (c.env as ServeBindings | undefined)?.bodyText;
  if (text === undefined) return null;
  const raw = c.req.raw;
  const headers = raw.headers;
  if (headers.get("content-type") !== "application/json") return null;
  const length = headers.get("content-length");
  if (length === null || !/^\d+$/.test(length) || Number(length) > limit) return null;
  const url = raw.url;
  const query = url.indexOf("?");
  let explain: string | undefined;
  if (query >= 0) {
    const search = url.slice(query + 1);
    if (search === "explain=false") explain = "false";
    else if (search === "explain=true") explain = "true";
    else return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const applicant = applicantOrNull(parsed);
  return applicant === null ? null : { applicant, explain };
}
