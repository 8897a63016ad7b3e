/**
 * `GET /monitoring`: drift of served traffic against the training data, as the population
 * stability index per attribute and for the score (see `pipeline/monitoring/` for the method).
 *
 * Served traffic is the in-memory window of the latest `DRIFT_WINDOW` decisions (default 10,000;
 * `/predict` and batch rows alike), seeded from the audit trail at start so a restart does not
 * empty it. The attributes compare every decision in the window; the score compares only the
 * decisions of the model serving now. The training reference is the artifact's `reference`
 * (written by `train.ts`); for an older artifact without one it is built from the rows of
 * `data/german.data` and the answer says so (`reference.origin`).
 *
 * The answer (JSON):
 *
 * | field | meaning |
 * | --- | --- |
 * | `model_version`, `run_id` | the model serving now |
 * | `bands` | the bands in words: stable `psi < 0.1`, watch `0.1 ≤ psi ≤ 0.25`, act `psi > 0.25` |
 * | `reference` | `{ origin: "artifact" \| "data", source, rows }` |
 * | `window` | `{ capacity, rows, score_rows, from, to, min_rows, enough_data }` (times ISO or null) |
 * | `attributes[]` | `{ name, kind, psi, band, rows, bins: [{ label, expected, actual, count }] }` in schema order; `psi` and `band` are null while the window is empty |
 * | `score` | the same for P(bad) (decile bins of the reference scores), or null when the reference has none |
 * | `worst` | `{ name, psi, band }` of the highest PSI, or null |
 *
 * With fewer than `min_rows` decisions (`enough_data: false`) the PSI is computed but too noisy
 * to act on.
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { type DriftReference, PSI_BAND_TEXT, referenceFor } from "../../monitoring/mod.ts";
import type { CreditModel } from "../../model/artifact.ts";
import { ErrorBody } from "../api_schemas.ts";
import { type App, type AppDeps, requireModel } from "../context.ts";
import type { ServedWindow } from "../drift_window.ts";
import { ApiError } from "../errors.ts";

/** Below this many decisions the window is reported but flagged as not enough to act on. */
export const MIN_DRIFT_ROWS = 100;

/** Rows for a reference when the artifact has none: the project's data file, found from this module. */
const FALLBACK_DATA = new URL("../../../data/german.data", import.meta.url);

const Bin = z.object({ label: z.string(), expected: z.number(), actual: z.number(), count: z.number() });
const Drift = z.object({
  name: z.string(),
  kind: z.enum(["numeric", "categorical"]),
  psi: z.number().nullable(),
  band: z.enum(["stable", "watch", "act"]).nullable(),
  rows: z.number().int(),
  bins: z.array(Bin),
}).openapi("Drift");

const MonitoringAnswer = z.object({
  model_version: z.number().int().nullable(),
  run_id: z.string(),
  bands: z.object({ stable: z.string(), watch: z.string(), act: z.string() }),
  reference: z.object({ origin: z.enum(["artifact", "data"]), source: z.string(), rows: z.number().int() }),
  window: z.object({
    capacity: z.number().int(),
    rows: z.number().int(),
    score_rows: z.number().int(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    min_rows: z.number().int(),
    enough_data: z.boolean(),
  }),
  attributes: z.array(Drift),
  score: Drift.nullable(),
  worst: z.object({ name: z.string(), psi: z.number(), band: z.enum(["stable", "watch", "act"]) }).nullable(),
}).openapi("Monitoring");

type Resolved = { reference: DriftReference; origin: "artifact" | "data" };

/** Registers `GET /monitoring` over the given window. */
export function registerMonitoringRoutes(app: App, deps: AppDeps, window: ServedWindow): void {
  const references = new WeakMap<CreditModel, Promise<Resolved>>();
  const referenceOf = (model: CreditModel) => {
    let found = references.get(model);
    if (!found) {
      found = referenceFor(model, FALLBACK_DATA.pathname);
      // A failure is not cached: the data file may appear later.
      found.catch(() => references.delete(model));
      references.set(model, found);
    }
    return found;
  };
  app.openapi(
    createRoute({
      method: "get",
      path: "/monitoring",
      tags: ["operations"],
      summary: "Drift of served traffic against the training data (PSI per attribute and for the score)",
      responses: {
        200: {
          description: "The drift report",
          content: { "application/json": { schema: MonitoringAnswer } },
        },
        503: {
          description: "No model or no reference",
          content: { "application/json": { schema: ErrorBody } },
        },
      },
    }),
    async (c) => {
      const serving = requireModel(deps.holder);
      let resolved: Resolved;
      try {
        resolved = await referenceOf(serving.model);
      } catch (error) {
        throw new ApiError(
          503,
          "model_unavailable",
          `no training reference for drift: the artifact has none and ${FALLBACK_DATA.pathname} ` +
            `cannot be used (${(error as Error).message.split("\n")[0]})`,
        );
      }
      const report = window.report(resolved.reference, serving.runId);
      const span = window.span();
      const iso = (t: number | null) => t === null ? null : new Date(t).toISOString();
      c.header("Cache-Control", "no-store");
      return c.json({
        model_version: serving.version,
        run_id: serving.runId,
        bands: { ...PSI_BAND_TEXT },
        reference: { origin: resolved.origin, ...report.reference },
        window: {
          capacity: window.capacity,
          rows: report.rows,
          score_rows: report.score?.rows ?? 0,
          from: iso(span.from),
          to: iso(span.to),
          min_rows: MIN_DRIFT_ROWS,
          enough_data: report.rows >= MIN_DRIFT_ROWS,
        },
        attributes: report.attributes,
        score: report.score,
        worst: report.worst,
      }, 200);
    },
  );
}
