/**
 * `GET /monitoring`: drift of served traffic against the training data, as the population
 * stability index per attribute and for the score (see `pipeline/monitoring/` for the method).
 * Private: it needs `Authorization: Bearer <MONITORING_TOKEN>`, and without that token the route
 * does not exist (404).
 *
 * Served traffic is the in-memory window of the latest `DRIFT_WINDOW` decisions (default 10,000;
 * `/predict` and batch rows alike), seeded from the audit trail at start so a restart does not
 * empty it. The attributes compare every decision in the window; the score compares only the
 * decisions of the model serving at the report's time. The training reference is the artifact's
 * `reference` (written by `train.ts`); for an older artifact without one it is built from the rows
 * of `data/german.data` and the answer says so (`reference.origin`).
 *
 * **What one applicant can reveal.** Diffing the report before and after one `/predict` showed that
 * applicant's bins (issue 17). So the answer is a published report, not a live one:
 * - it is recomputed at most once per `MONITORING_REFRESH_SECONDS` (default 60; by the first
 *   request of each period), and only when at least k = `MONITORING_MIN_BIN` (default 20)
 *   decisions arrived since the last published one (the first needs k in the window), so any
 *   two consecutive reports differ by at least k decisions;
 * - an attribute's (or the score's) bin counts and proportions are published only when every one of
 *   its bins holds at least k decisions; otherwise its `bins` is empty and `suppressed` is true.
 * The PSI of every attribute is published. This is k-anonymity of the published aggregates, not
 * differential privacy: whoever controls the other k − 1 decisions of a period can still isolate one.
 *
 * The answer (JSON):
 *
 * | field | meaning |
 * | --- | --- |
 * | `model_version`, `run_id` | the model serving when the report was made |
 * | `published_at` | when the report was made (ISO), or null before the first one |
 * | `privacy` | `{ min_bin, refresh_seconds }`: k and the period above |
 * | `bands` | the bands in words: stable `psi < 0.1`, watch `0.1 ≤ psi ≤ 0.25`, act `psi > 0.25` |
 * | `reference` | `{ origin: "artifact" \| "data", source, rows }`, or null before the first report |
 * | `window` | `{ capacity, rows, score_rows, from, to, min_rows, enough_data }` (times ISO or null), or null before the first report |
 * | `attributes[]` | `{ name, kind, psi, band, rows, suppressed, bins: [{ label, expected, actual, count }] }` in schema order; `psi` and `band` are null while the window is empty |
 * | `score` | the same for P(bad) (decile bins of the reference scores), or null when the reference has none |
 * | `worst` | `{ name, psi, band }` of the highest PSI, or null |
 *
 * With fewer than `min_rows` decisions (`enough_data: false`) the PSI is computed but too noisy
 * to act on.
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import { type DriftReference, type DriftReport, PSI_BAND_TEXT, referenceFor } from "../../monitoring/mod.ts";
import type { CreditModel } from "../../model/artifact.ts";
import { ErrorBody } from "../api_schemas.ts";
import { type App, type AppDeps, requireModel } from "../context.ts";
import type { ServedWindow } from "../drift_window.ts";
import { ApiError } from "../errors.ts";
import { requireBearer } from "../auth.ts";

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
  suppressed: z.boolean().openapi({
    description: "true when a bin holds fewer than privacy.min_bin decisions",
  }),
  bins: z.array(Bin),
}).openapi("Drift");

const Window = z.object({
  capacity: z.number().int(),
  rows: z.number().int(),
  score_rows: z.number().int(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  min_rows: z.number().int(),
  enough_data: z.boolean(),
});

const MonitoringAnswer = z.object({
  model_version: z.number().int().nullable(),
  run_id: z.string(),
  published_at: z.string().nullable(),
  privacy: z.object({ min_bin: z.number().int(), refresh_seconds: z.number().int() }),
  bands: z.object({ stable: z.string(), watch: z.string(), act: z.string() }),
  reference: z.object({ origin: z.enum(["artifact", "data"]), source: z.string(), rows: z.number().int() })
    .nullable(),
  window: Window.nullable(),
  attributes: z.array(Drift),
  score: Drift.nullable(),
  worst: z.object({ name: z.string(), psi: z.number(), band: z.enum(["stable", "watch", "act"]) }).nullable(),
}).openapi("Monitoring");

type Answer = z.infer<typeof MonitoringAnswer>;
type Resolved = { reference: DriftReference; origin: "artifact" | "data" };
type DriftEntry = DriftReport["attributes"][number];

/** A drift entry with its bins withheld unless every bin holds at least `minBin` decisions. */
export function publishableDrift(drift: DriftEntry, minBin: number): z.infer<typeof Drift> {
  const suppressed = drift.bins.some((b) => b.count < minBin);
  return { ...drift, suppressed, bins: suppressed ? [] : drift.bins };
}

/**
 * The report `/monitoring` publishes: recomputed at most once per period, and only when at least
 * `minBin` decisions arrived since the last one (see the module doc for why).
 */
export class PublishedReport {
  #published: { answer: Answer; added: number } | null = null;
  #period = -1;
  #refreshing: Promise<void> | null = null;

  constructor(
    readonly window: ServedWindow,
    readonly build: () => Promise<Answer>,
    readonly options: { minBin: number; refreshMs: number; now: () => number },
  ) {}

  /** The published report, refreshed first when a new period has begun; null before the first. */
  async current(): Promise<Answer | null> {
    const period = Math.floor(this.options.now() / this.options.refreshMs);
    if (period !== this.#period) {
      this.#period = period;
      this.#refreshing ??= this.#refresh().finally(() => this.#refreshing = null);
    }
    if (this.#refreshing) await this.#refreshing;
    return this.#published?.answer ?? null;
  }

  async #refresh(): Promise<void> {
    const added = this.window.added;
    const fresh = this.#published ? added - this.#published.added : this.window.size;
    if (fresh < this.options.minBin) return;
    try {
      this.#published = { answer: await this.build(), added };
    } catch (error) {
      this.#period = -1; // try again at the next request
      if (this.#published === null) throw error;
    }
  }
}

/** Registers `GET /monitoring` over the given window (only when `MONITORING_TOKEN` is set). */
export function registerMonitoringRoutes(
  app: App,
  deps: AppDeps,
  window: ServedWindow | null,
  now: () => number = Date.now,
): void {
  const token = deps.config.monitoringToken;
  if (!token || !window) return;
  const minBin = deps.config.monitoringMinBin;
  const refreshSeconds = deps.config.monitoringRefreshSeconds;
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
  const iso = (t: number | null) => t === null ? null : new Date(t).toISOString();
  const privacy = { min_bin: minBin, refresh_seconds: refreshSeconds };
  const build = async (): Promise<Answer> => {
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
    return {
      model_version: serving.version,
      run_id: serving.runId,
      published_at: iso(now()),
      privacy,
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
      attributes: report.attributes.map((d) => publishableDrift(d, minBin)),
      score: report.score && publishableDrift(report.score, minBin),
      worst: report.worst,
    };
  };
  const published = new PublishedReport(window, build, { minBin, refreshMs: refreshSeconds * 1000, now });
  app.openapi(
    createRoute({
      method: "get",
      path: "/monitoring",
      tags: ["operations"],
      summary: "Drift of served traffic against the training data (PSI per attribute and for the score)",
      description:
        "A report published at most every MONITORING_REFRESH_SECONDS, with bin counts only where " +
        "every bin holds MONITORING_MIN_BIN decisions. Needs `Authorization: Bearer <MONITORING_TOKEN>`.",
      security: [{ bearer: [] }],
      responses: {
        200: {
          description: "The drift report last published",
          content: { "application/json": { schema: MonitoringAnswer } },
        },
        401: { description: "No bearer token", content: { "application/json": { schema: ErrorBody } } },
        403: { description: "Wrong token", content: { "application/json": { schema: ErrorBody } } },
        503: {
          description: "No model or no reference",
          content: { "application/json": { schema: ErrorBody } },
        },
      },
    }),
    async (c) => {
      await requireBearer(c, token, "monitoring", "MONITORING_TOKEN");
      const serving = requireModel(deps.holder);
      const answer = await published.current() ?? {
        model_version: serving.version,
        run_id: serving.runId,
        published_at: null,
        privacy,
        bands: { ...PSI_BAND_TEXT },
        reference: null,
        window: null,
        attributes: [],
        score: null,
        worst: null,
      };
      c.header("Cache-Control", "no-store");
      return c.json(answer, 200);
    },
  );
}
