/**
 * The common `POST /predict` without its validation middleware: a body the server already read
 * (server.ts), `Content-Type: application/json` exactly, no query or only `explain=true|false`, and
 * an applicant that `applicantOrNull` (data/schema.ts, compiled from the attribute table) accepts.
 * Anything else, every error included, goes the route's full way (zod-openapi's gates and zod, the schema and the OpenAPI
 * source), so no answer changes: this path only accepts what that one accepts, as that one would
 * parse it (tests/serving/predict_fast_test.ts checks both against each other). Measured: the
 * middleware, query and body validation it skips cost ~25 µs of the HTTP thread a request.
 * @module
 */

import type { Context } from "hono";
import { type Applicant, applicantOrNull } from "../data/schema.ts";
import { declaredWithin } from "./body.ts";
import type { ServeBindings } from "./context.ts";

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
  if (!declaredWithin(headers.get("content-length"), limit)) return null;
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
