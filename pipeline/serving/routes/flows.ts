/**
 * The retraining flows' history for the dashboard: `GET /flows` (every `flows/<id>/flow.json`,
 * newest first; the Flows page for browsers) and `GET /flows/{id}`. Read through
 * `flow/record.ts`, which validates every record; the id is checked against its pattern before
 * any path is built.
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { isFlowId, listFlows, readFlowRecord } from "../../flow/record.ts";
import { ErrorBody } from "../api_schemas.ts";
import type { App, AppDeps } from "../context.ts";
import { ApiError } from "../errors.ts";
import { htmlPageFor } from "../static_files.ts";

const FlowRecordBody = z.record(z.string(), z.unknown()).openapi("FlowRecord");

/** Registers `/flows` and `/flows/{id}`. */
export function registerFlowRoutes(app: App, deps: AppDeps): void {
  const { config } = deps;
  app.openapi(
    createRoute({
      method: "get",
      path: "/flows",
      tags: ["runs"],
      summary:
        "Retraining flows, newest first: steps, attempts, durations, outcome (the Flows page for browsers)",
      responses: {
        200: {
          description: "Flows, newest first, and any record that could not be read",
          content: {
            "application/json": {
              schema: z.object({ flows: z.array(FlowRecordBody), problems: z.array(z.string()) }),
            },
          },
        },
      },
    }),
    // deno-lint-ignore no-explicit-any
    async (c): Promise<any> => {
      const page = await htmlPageFor(c, deps.staticRoot, "flows.html");
      if (page) return page;
      c.header("Cache-Control", "no-cache");
      return c.json(await listFlows(config.modelsDir), 200);
    },
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/flows/{id}",
      tags: ["runs"],
      summary: "One retraining flow's record",
      request: { params: z.object({ id: z.string().openapi({ example: "20261128-021500-1b13816f5a48" }) }) },
      responses: {
        200: {
          description: "The flow's record",
          content: { "application/json": { schema: FlowRecordBody } },
        },
        400: { description: "Not a flow id", content: { "application/json": { schema: ErrorBody } } },
        404: { description: "No such flow", content: { "application/json": { schema: ErrorBody } } },
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      if (!isFlowId(id)) throw new ApiError(400, "bad_request", `${JSON.stringify(id)} is not a flow id`);
      const record = await readFlowRecord(id, config.modelsDir);
      if (!record) throw new ApiError(404, "not_found", `no flow ${id}`);
      c.header("Cache-Control", "no-cache");
      return c.json(record as unknown as Record<string, unknown>, 200);
    },
  );
}
