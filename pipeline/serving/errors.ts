/**
 * Every error the API answers, in one JSON shape: `{ error, message, request_id, issues? }`.
 * Client mistakes map to 4xx with a code a program can switch on; only a fault of the server
 * answers 500, and then with the request id to find its logged stack. The validation hook turns
 * zod's findings into the schema module's own wording, so the API, the ETL and the form say the
 * same thing about the same value.
 * @module
 */

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { attribute, type FieldIssue, validateApplicant } from "../data/schema.ts";

/** The machine-readable error codes. */
export type ErrorCode =
  | "malformed_json"
  | "unsupported_media_type"
  | "payload_too_large"
  | "too_many_rows"
  | "too_many_batches"
  | "disk_space_low"
  | "validation_error"
  | "not_found"
  | "unauthorized"
  | "forbidden"
  | "model_unavailable"
  | "audit_unavailable"
  | "shutting_down"
  | "reload_failed"
  | "bad_request"
  | "request_timeout"
  | "internal_error";

/** The JSON body of every error response. */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
  request_id: string;
  issues?: readonly (FieldIssue & { row?: number; line?: number })[];
  [extra: string]: unknown;
}

/** An error with the status and code to answer; thrown by handlers and middleware. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Hono's own exceptions (body parsing, media type gate) by status. */
const HTTP_EXCEPTION_CODES: Partial<Record<number, [ErrorCode, string]>> = {
  400: ["malformed_json", "the request body is not valid JSON"],
  413: ["payload_too_large", "the request body is too large"],
  415: ["unsupported_media_type", "unsupported Content-Type"],
};

/** The response for any error thrown while handling a request; `logError` sees real faults only. */
export function errorResponse(
  c: Context,
  error: unknown,
  requestId: string,
  logError: (error: unknown) => void,
): Response {
  if (error instanceof ApiError) {
    if (error.code === "audit_unavailable") c.header("Retry-After", "1");
    return c.json(body(error.code, error.message, requestId, error.details), error.status);
  }
  if (error instanceof HTTPException && error.status < 500) {
    const [code, message] = HTTP_EXCEPTION_CODES[error.status] ?? ["bad_request", error.message];
    return c.json(body(code, message, requestId), error.status as ContentfulStatusCode);
  }
  logError(error);
  return c.json(body("internal_error", "the server failed to handle the request", requestId), 500);
}

/** An error body. */
export function body(
  code: ErrorCode,
  message: string,
  requestId: string,
  details: Record<string, unknown> = {},
): ErrorBody {
  return { error: code, message, request_id: requestId, ...details };
}

/** A 422 naming every offending field. */
export function validationError(issues: readonly FieldIssue[], message?: string): ApiError {
  const fields = [...new Set(issues.map((i) => i.field))];
  return new ApiError(
    422,
    "validation_error",
    message ?? `${issues.length} problem${issues.length === 1 ? "" : "s"} with ${fields.join(", ")}`,
    { issues },
  );
}

/** What zod-openapi hands a validation hook. */
export interface HookResult {
  success: boolean;
  data?: unknown;
  error?: ZodError;
  target?: string;
}

/**
 * The default validation hook of the OpenAPI routes: 422 with every issue. When zod's findings
 * are about an applicant (attribute fields, unknown keys, the body's type), the issues come from
 * the schema module's `validateApplicant`, in the words the ETL and the form use; anything else
 * (query, path, other bodies) is reported from zod's issues.
 */
export function validationHook(result: HookResult, c: Context): Response | undefined {
  if (result.success) return undefined;
  let issues: FieldIssue[] | undefined;
  if (result.target === "json" && aboutApplicant(result.error)) {
    const checked = validateApplicant(result.data);
    if (!checked.ok) issues = checked.issues;
  }
  issues ??= zodIssues(result.error, result.target);
  const error = validationError(issues);
  return c.json(body(error.code, error.message, requestIdOf(c), error.details), 422);
}

function aboutApplicant(error: ZodError | undefined): boolean {
  return error !== undefined &&
    error.issues.every((issue) =>
      issue.code === "unrecognized_keys" || issue.path.length === 0 ||
      (issue.path.length === 1 && attribute(String(issue.path[0])) !== undefined)
    );
}

/** zod's issues as field issues: every unknown key named on its own. */
export function zodIssues(error: ZodError | undefined, target = "body"): FieldIssue[] {
  if (!error) return [{ field: `(${target})`, message: "is not valid" }];
  return error.issues.flatMap((issue): FieldIssue[] => {
    const at = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        field: at ? `${at}.${key}` : key,
        message: "is not an expected field",
      }));
    }
    return [{ field: at || `(${target})`, message: issue.message }];
  });
}

/** The request id set by the request middleware. */
export function requestIdOf(c: Context): string {
  return (c.get("requestId" as never) as string | undefined) ?? "";
}
