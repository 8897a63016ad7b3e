/**
 * `GET /audit`: pages through the audit trail, newest first, with optional filters; the query runs
 * off the request thread (SQLite's reader thread, or PostgreSQL). The rows hold applicants' data,
 * so the route needs its own bearer token, `AUDIT_TOKEN` (never `ADMIN_TOKEN`: reading personal
 * data and swapping models are separate powers), and does not exist (404) when it is unset. Also
 * how the batch route reads back each scored row's input for the trail.
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ID_COLUMN } from "../../data/etl.ts";
import { ATTRIBUTES } from "../../data/schema.ts";
import { ErrorBody } from "../api_schemas.ts";
import type { AuditStore, BatchInputs } from "../audit/log.ts";
import { splitCsvLine } from "../../data/csv.ts";
import type { App, AppDeps } from "../context.ts";
import { requireBearer } from "../auth.ts";
import { ApiError } from "../errors.ts";

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "expected an ISO 8601 time");

const AuditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional().openapi({
    description: "Rows per page (1–1000, default 100).",
  }),
  cursor: z.string().regex(/^\d{1,15}$/, "expected the next_cursor of a previous page").optional().openapi({
    description: "The previous page's `next_cursor`: continue with older rows.",
  }),
  decision: z.enum(["approve", "decline", "review"]).optional(),
  model_version: z.coerce.number().int().min(1).optional(),
  request_id: z.string().max(128).optional().openapi({ description: "The server's request id." }),
  correlation_id: z.string().max(128).optional().openapi({ description: "The client's own X-Request-Id." }),
  from: isoTime.optional().openapi({ description: "Decisions at or after this time (ISO 8601)." }),
  to: isoTime.optional().openapi({ description: "Decisions before this time (ISO 8601)." }),
});

const AuditEntrySchema = z.object({
  seq: z.number().int(),
  request_id: z.string().openapi({ description: "The server's id of the request (with `row`, the key)." }),
  correlation_id: z.string().nullable().openapi({ description: "The X-Request-Id the client sent, if any." }),
  row: z.number().int().nullable().openapi({ description: "1-based batch row; null for /predict." }),
  time: z.string(),
  model_version: z.number().int().nullable(),
  run_id: z.string(),
  model_sha256: z.string().nullable().openapi({ description: "sha256 of the model artifact that decided." }),
  threshold: z.number().nullable().openapi({ description: "The model's threshold on P(bad) then." }),
  review_margin: z.number().nullable().openapi({ description: "REVIEW_MARGIN then." }),
  inputs: z.record(z.string(), z.unknown()),
  probability_bad: z.number(),
  pd: z.number().nullable(),
  decision: z.enum(["approve", "decline", "review"]),
  reasons: z.unknown().nullable(),
}).openapi("AuditEntry");

const AuditPageSchema = z.object({
  items: z.array(AuditEntrySchema),
  next_cursor: z.string().nullable(),
}).openapi("AuditPage");

/** Registers `GET /audit` when a token is configured. */
export function registerAuditRoutes(app: App, deps: AppDeps, audit: AuditStore | null): void {
  const token = deps.config.auditToken;
  if (!token) return;
  const json = (schema: z.ZodType, description: string) => ({
    description,
    content: { "application/json": { schema } },
  });
  app.openapi(
    createRoute({
      method: "get",
      path: "/audit",
      tags: ["operations"],
      summary: "The audit trail of served decisions, newest first",
      description: "Needs `Authorization: Bearer <AUDIT_TOKEN>`. " +
        "Page with `cursor` = the previous answer's `next_cursor`.",
      security: [{ bearer: [] }],
      request: { query: AuditQuerySchema },
      responses: {
        200: json(AuditPageSchema, "One page of decisions"),
        401: json(ErrorBody, "No bearer token"),
        403: json(ErrorBody, "Wrong token"),
        404: json(ErrorBody, "The audit trail is off"),
        422: json(ErrorBody, "A bad query parameter"),
      },
    }),
    async (c) => {
      await authorize(c, token);
      if (!audit) throw new ApiError(404, "not_found", "the audit trail is off (AUDIT=off)");
      const q = c.req.valid("query");
      c.header("Cache-Control", "no-store");
      const page = await audit.page({
        limit: q.limit ?? 100,
        cursor: q.cursor === undefined ? undefined : Number(q.cursor),
        decision: q.decision,
        modelVersion: q.model_version,
        requestId: q.request_id,
        correlationId: q.correlation_id,
        from: q.from === undefined ? undefined : new Date(q.from).toISOString(),
        to: q.to === undefined ? undefined : new Date(q.to).toISOString(),
      });
      // deno-lint-ignore no-explicit-any
      return c.json(page as any, 200);
    },
  );
}

function authorize(c: Context, token: string): Promise<void> {
  return requireBearer(c, token, "audit", "AUDIT_TOKEN");
}

/** The rows of a JSON batch, as sent (an `id` as its pseudonym). */
export function jsonBatchInputs(records: readonly unknown[]): BatchInputs {
  return {
    record: (row) => records[row],
    json: (row, pseudonym) => {
      const record = records[row];
      if (record === null || typeof record !== "object" || !(ID_COLUMN in record)) {
        return JSON.stringify(record);
      }
      const id = (record as Record<string, unknown>)[ID_COLUMN];
      return JSON.stringify({ ...record, [ID_COLUMN]: pseudonym(String(id)) });
    },
  };
}

const NUMERIC = new Set<string>(ATTRIBUTES.filter((a) => a.kind === "numeric").map((a) => a.name));
/** Columns copied into a CSV row's record: the attributes and the pass-through id. */
const KNOWN_COLUMNS = new Set<string>([...ATTRIBUTES.map((a) => a.name), ID_COLUMN]);

/**
 * The rows of a CSV batch (0-based, asked in increasing order): header names to cells, numeric
 * attributes as numbers, other columns dropped. Lines are found as `scoreCsv` counts them (one row
 * per line after the header), walking the text once; the JSON is written directly, without an
 * object per row, since a batch may hold a million rows.
 */
export function csvBatchInputs(text: string): BatchInputs {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const headerEnd = body.indexOf("\n");
  let position = headerEnd < 0 ? body.length : headerEnd + 1;
  let at = 0;
  return csvInputs(body.slice(0, headerEnd < 0 ? body.length : headerEnd), (row) => {
    for (; at < row; at++) {
      const next = body.indexOf("\n", position);
      position = next < 0 ? body.length : next + 1;
    }
    const end = body.indexOf("\n", position);
    return body.slice(position, end < 0 ? body.length : end);
  });
}

/** The rows of a CSV batch given as its header and data lines (a streamed chunk's), as {@link csvBatchInputs} reads them. */
export function csvLineInputs(header: string, lines: readonly string[]): BatchInputs {
  return csvInputs(header, (row) => lines[row] ?? "");
}

/** Most distinct cell texts remembered per column with their JSON (codes repeat; amounts mostly do). */
const FRAGMENTS_PER_COLUMN = 4096;

function csvInputs(header: string, lineAt: (row: number) => string): BatchInputs {
  const columns = splitCsvLine(header.trimEnd()).map((c) => c.trim());
  const kept = columns.flatMap((name, c) => KNOWN_COLUMNS.has(name) ? [c] : []);
  const keys = columns.map((name) => JSON.stringify(name) + ":");
  // Per column, a cell's JSON text by the cell: a million rows repeat a few thousand values.
  const fragments = columns.map(() => new Map<string, string>());
  let at = -1;
  let cells: string[] = [];
  const cellsOf = (row: number): string[] => {
    if (row !== at) {
      at = row;
      cells = splitCsvLine(lineAt(row).trimEnd()).map((x) => x.trim());
    }
    return cells;
  };
  return {
    record(row) {
      const line = cellsOf(row);
      const record: Record<string, unknown> = {};
      for (const c of kept) {
        record[columns[c]] = NUMERIC.has(columns[c]) ? Number(line[c] ?? "") : line[c] ?? "";
      }
      return record;
    },
    json(row, pseudonym) {
      const line = cellsOf(row);
      let out = "{";
      for (let k = 0; k < kept.length; k++) {
        const c = kept[k];
        const cell = line[c] ?? "";
        let value: string | undefined;
        if (columns[c] === ID_COLUMN) value = JSON.stringify(pseudonym(cell));
        else {
          const known = fragments[c];
          value = known.get(cell);
          if (value === undefined) {
            value = NUMERIC.has(columns[c]) ? String(Number(cell)) : JSON.stringify(cell);
            if (known.size < FRAGMENTS_PER_COLUMN) known.set(cell, value);
          }
        }
        out += (k ? "," : "") + keys[c] + value;
      }
      return out + "}";
    },
  };
}
