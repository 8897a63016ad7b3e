/**
 * What the runs dashboard (`static/runs.html`) needs beyond the run records: the model registry,
 * each run's charts as SVG rendered here from its artifacts by `pipeline/report/charts/mod.ts` (cached per run
 * and chart until an input file changes), and a few of its artifacts (model card, trials, curves).
 * Run ids and artifact names are checked against a pattern and an allow-list before any path is
 * built, so nothing outside a run's folder is reachable. Every file is read through
 * `tracking/run_files.ts`: an absent artifact is a chart without data, a malformed one too (logged).
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  ChartInputError,
  confusionMatrixSpec,
  costCurveSpec,
  featureImportanceSpec,
  optimisationHistorySpec,
  parallelCoordinatesSpec,
  prCurveSpec,
  reliabilitySpec,
  renderSvg,
  rocCurveSpec,
  type VegaLiteSpec,
} from "../../report/charts/mod.ts";
import { bayesThreshold, costStaircase, featureLabel } from "../../report/eda/mod.ts";
import { type Objective, objectiveDirection, OBJECTIVES } from "../../model/objective.ts";
import {
  CURVES,
  FEATURE_IMPORTANCES,
  type FeatureImportance,
  isRunId,
  readRegistry,
  readRun,
  readRunFile,
  readRunFileBytes,
  RUN_RECORD_FILE,
  type RunCurves,
  type RunFile,
  RunFileError,
  type RunRecord,
  statRunFile,
  type TrialRow,
  TRIALS,
} from "../../tracking/mod.ts";
import { ErrorBody } from "../api_schemas.ts";
import type { App, AppDeps } from "../context.ts";
import { ApiError } from "../errors.ts";

/** The run artifacts served as files, with their content types. */
export const SERVED_ARTIFACTS: Readonly<Record<string, string>> = {
  "MODEL_CARD.md": "text/markdown; charset=utf-8",
  "trials.csv": "text/csv; charset=utf-8",
  "predictions.csv": "text/csv; charset=utf-8",
  "curves.json": "application/json; charset=utf-8",
  "feature_importances.json": "application/json; charset=utf-8",
};

/** A chart's SVG may be opened on its own: no script at all, vega's inline styles only. */
const SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

type InputFile = "curves.json" | "trials.csv" | "feature_importances.json";

/** The artifacts charts are drawn from. */
const CHART_FILES: readonly InputFile[] = ["curves.json", "trials.csv", "feature_importances.json"];

/** A run's record and the artifacts the charts are drawn from (null when absent or malformed). */
interface ChartInputs {
  run: RunRecord;
  curves: RunCurves | null;
  trials: TrialRow[] | null;
  importances: FeatureImportance[] | null;
}

interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** One chart of the run view: its title, the files it reads, and its spec (null when the run lacks the data). */
interface ChartDefinition {
  readonly title: string;
  readonly files: readonly InputFile[];
  spec(inputs: ChartInputs): VegaLiteSpec | null;
}

const testMetrics = (run: RunRecord) => (run.metrics.test ?? {}) as Record<string, unknown>;
const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

/** The run's decision threshold on P(bad): a fitted value, so a metric (older records are migrated on read). */
function runThreshold(run: RunRecord): number | undefined {
  return num(run.metrics.threshold) ?? num(testMetrics(run).threshold);
}

function confusionOf(run: RunRecord): Confusion | undefined {
  const c = testMetrics(run).confusion as Partial<Confusion> | undefined;
  if (!c || [c.tp, c.fp, c.tn, c.fn].some((n) => num(n) === undefined)) return undefined;
  return c as Confusion;
}

function directionOf(run: RunRecord): "minimize" | "maximize" {
  const objective = run.params.objective;
  return OBJECTIVES.includes(objective as Objective)
    ? objectiveDirection(objective as Objective)
    : "minimize";
}

/** Area under a ROC curve by the trapezoid rule, for runs that did not record it. */
function trapezoidAuc(points: readonly { fpr: number; tpr: number }[]): number {
  const sorted = [...points].sort((a, b) => a.fpr - b.fpr || a.tpr - b.tpr);
  let area = 0;
  for (let i = 1; i < sorted.length; i++) {
    area += (sorted[i].fpr - sorted[i - 1].fpr) * (sorted[i].tpr + sorted[i - 1].tpr) / 2;
  }
  return Math.min(1, Math.max(0, area));
}

const completed = (trials: readonly TrialRow[]) =>
  trials.filter((t): t is TrialRow & { value: number } =>
    t.state.toLowerCase() === "complete" && t.value !== null && Number.isFinite(t.value)
  );

/** The charts of a run view, by the name in their URL (`/runs/:id/charts/<name>.svg`). */
export const RUN_CHARTS: Readonly<Record<string, ChartDefinition>> = {
  roc: {
    title: "ROC curve",
    files: ["curves.json"],
    spec: ({ run, curves }) => {
      if (!curves?.roc?.length) return null;
      const auc = num(testMetrics(run).roc_auc) ?? trapezoidAuc(curves.roc);
      return rocCurveSpec(curves.roc, { auc, title: "ROC curve, test part" });
    },
  },
  pr: {
    title: "Precision–recall curve",
    files: ["curves.json"],
    spec: ({ run, curves }) => {
      const ap = num(testMetrics(run).pr_auc);
      const c = confusionOf(run);
      if (!curves?.pr?.length || ap === undefined || !c) return null;
      const baseRate = (c.tp + c.fn) / (c.tp + c.fp + c.tn + c.fn);
      return prCurveSpec(curves.pr, { ap, baseRate, title: "Precision–recall, test part" });
    },
  },
  confusion: {
    title: "Confusion matrix at the threshold",
    files: [],
    spec: ({ run }) => {
      const c = confusionOf(run);
      const threshold = runThreshold(run);
      if (!c) return null;
      const at = threshold === undefined ? "" : ` at threshold ${threshold.toFixed(3)}`;
      return confusionMatrixSpec(c, { title: `Confusion matrix${at}, test part` });
    },
  },
  cost: {
    title: "Expected cost by threshold (test part)",
    files: ["curves.json"],
    spec: ({ run, curves }) => costSpec(run, curves?.threshold_sweep, "test part"),
  },
  "cost-cv": {
    title: "Expected cost by threshold (out-of-fold)",
    files: ["curves.json"],
    spec: ({ run, curves }) => costSpec(run, curves?.cv_threshold_sweep, "out-of-fold, training part"),
  },
  history: {
    title: "Optimisation history",
    files: ["trials.csv"],
    spec: ({ run, trials }) => {
      if (!trials || completed(trials).length === 0) return null;
      return optimisationHistorySpec(
        trials.map((t) => ({ number: t.number, state: t.state, value: t.value })),
        { direction: directionOf(run), title: `Optimisation history (objective ${run.params.objective})` },
      );
    },
  },
  hyperparameters: {
    title: "Hyperparameters of completed trials",
    files: ["trials.csv"],
    spec: ({ run, trials }) => {
      const done = trials ? completed(trials).filter((t) => Object.keys(t.params).length > 0) : [];
      if (done.length < 2) return null;
      return parallelCoordinatesSpec(done.map((t) => ({ params: t.params, value: t.value })), {
        direction: directionOf(run),
        title: "Hyperparameters of completed trials, coloured by objective",
        width: 640,
      });
    },
  },
  importance: {
    title: "Feature importance",
    files: ["feature_importances.json"],
    spec: ({ importances }) => {
      if (!importances?.length) return null;
      return featureImportanceSpec(
        importances.map((f) => ({ name: featureLabel(f.name), importance: f.importance })),
        { title: "Feature importance (mean decrease in impurity), top 20", top: 20 },
      );
    },
  },
  reliability: {
    title: "Calibration of the raw P(bad)",
    files: ["curves.json"],
    spec: ({ curves }) =>
      curves?.reliability?.raw?.some((b) => b.count > 0)
        ? reliabilitySpec(curves.reliability.raw, { title: "Reliability of the raw P(bad), test part" })
        : null,
  },
  "reliability-calibrated": {
    title: "Calibration of the PD",
    files: ["curves.json"],
    spec: ({ curves }) =>
      curves?.reliability?.calibrated?.some((b) => b.count > 0)
        ? reliabilitySpec(curves.reliability.calibrated, {
          title: "Reliability of the calibrated PD, test part",
        })
        : null,
  },
};

function costSpec(
  run: RunRecord,
  sweep: readonly { threshold: number; cost: number }[] | undefined,
  part: string,
): VegaLiteSpec | null {
  const chosenThreshold = runThreshold(run);
  if (!sweep?.length || chosenThreshold === undefined) return null;
  return costCurveSpec(costStaircase(sweep), {
    chosenThreshold,
    references: [{ threshold: bayesThreshold(), label: "1/6" }, { threshold: 0.5, label: "0.5" }],
    title: `Expected cost by threshold, ${part}`,
  });
}

/** A rendered chart and the input file times it was drawn from. */
interface CachedChart {
  stamp: string;
  svg: Promise<{ svg: string; etag: string }>;
}

/** Charts kept in memory; a dashboard shows ~10 per run, so this holds dozens of runs. */
const CHART_CACHE_SIZE = 400;

/** Registers `/registry`, `/runs/:id/charts`, `/runs/:id/charts/:name.svg` and `/runs/:id/artifacts/:name`. */
export function registerDashboardRoutes(app: App, deps: AppDeps): void {
  const { config, logger } = deps;
  const cache = new Map<string, CachedChart>();

  async function requireRun(c: Context, id: string): Promise<RunRecord> {
    if (!isRunId(id)) {
      throw new ApiError(400, "bad_request", "a run id is 1–64 letters, digits, '_' or '-'");
    }
    const run = await readRun(id, config.modelsDir);
    if (!run) throw new ApiError(404, "not_found", `no run ${id} (${c.req.path})`);
    return run;
  }

  /** Modification times of the run's record and the given artifacts: the cache key of a chart. */
  async function stampOf(id: string, files: readonly string[]): Promise<string> {
    const times = await Promise.all(
      [RUN_RECORD_FILE, ...files].map(async (name) => {
        const info = await statRunFile(id, name, config.modelsDir).catch(() => null);
        return info ? `${info.mtime?.getTime() ?? 0}:${info.size}` : "-";
      }),
    );
    return times.join("|");
  }

  async function inputsOf(run: RunRecord, files: readonly InputFile[]): Promise<ChartInputs> {
    const read = async <Out>(file: RunFile<never, Out>): Promise<Out | null> => {
      if (!files.includes(file.name as InputFile)) return null;
      try {
        return await readRunFile(file, run.run_id, config.modelsDir);
      } catch (error) {
        if (!(error instanceof RunFileError)) throw error;
        logger.warn("run file rejected", { run_id: run.run_id, file: file.name, reason: error.message });
        return null;
      }
    };
    const [curves, trials, importances] = await Promise.all([
      read(CURVES),
      read(TRIALS),
      read(FEATURE_IMPORTANCES),
    ]);
    return { run, curves, trials, importances };
  }

  /** The chart's spec, or null when the run lacks its data (malformed data is logged and counts as absent). */
  function specOf(name: string, inputs: ChartInputs): VegaLiteSpec | null {
    try {
      return RUN_CHARTS[name].spec(inputs);
    } catch (error) {
      if (!(error instanceof ChartInputError)) throw error;
      logger.warn("chart data rejected", { run_id: inputs.run.run_id, chart: name, reason: error.message });
      return null;
    }
  }

  async function renderChart(
    run: RunRecord,
    name: string,
  ): Promise<{ svg: string; etag: string; cached: boolean } | null> {
    const definition = RUN_CHARTS[name];
    const key = `${run.run_id}/${name}`;
    const stamp = await stampOf(run.run_id, definition.files);
    const hit = cache.get(key);
    if (hit?.stamp === stamp) return { ...await hit.svg, cached: true };
    const spec = specOf(name, await inputsOf(run, definition.files));
    if (!spec) return null;
    const svg = (async () => {
      const svg = await renderSvg(spec, {
        idPrefix: `${name}-${run.run_id}`.replace(/[^\w-]/g, "_").replace(/^[^A-Za-z]/, "c"),
        onWarning: (message) => logger.warn("chart warning", { run_id: run.run_id, chart: name, message }),
      });
      return { svg, etag: `"${await shortDigest(svg)}"` };
    })();
    cache.delete(key);
    cache.set(key, { stamp, svg });
    if (cache.size > CHART_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    try {
      return { ...await svg, cached: false };
    } catch (error) {
      cache.delete(key);
      throw error;
    }
  }

  app.openapi(
    createRoute({
      method: "get",
      path: "/registry",
      tags: ["runs"],
      summary: "The model registry: every registered version, its run and stage",
      responses: {
        200: {
          description: "The registry",
          content: { "application/json": { schema: z.record(z.string(), z.unknown()).openapi("Registry") } },
        },
      },
    }),
    async (c) => {
      c.header("Cache-Control", "no-cache");
      return c.json(await readRegistry(config.modelsDir) as unknown as Record<string, unknown>, 200);
    },
  );

  const runParam = z.object({ id: z.string().openapi({ example: "20260101-120000-abc123" }) });
  const errorJson = (description: string) => ({
    description,
    content: { "application/json": { schema: ErrorBody } },
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs/{id}/charts",
      tags: ["runs"],
      summary: "The charts a run can draw, with their SVG URLs",
      request: { params: runParam },
      responses: {
        200: {
          description: "Charts available for the run",
          content: {
            "application/json": {
              schema: z.object({
                run_id: z.string(),
                charts: z.array(z.object({ name: z.string(), title: z.string(), url: z.string() })),
              }).openapi("RunCharts"),
            },
          },
        },
        400: errorJson("Not a run id"),
        404: errorJson("No such run"),
      },
    }),
    async (c) => {
      const run = await requireRun(c, c.req.valid("param").id);
      const inputs = await inputsOf(run, CHART_FILES);
      const charts = Object.entries(RUN_CHARTS)
        .filter(([name]) => specOf(name, inputs) !== null)
        .map(([name, chart]) => ({
          name,
          title: chart.title,
          url: `/runs/${run.run_id}/charts/${name}.svg`,
        }));
      c.header("Cache-Control", "no-cache");
      return c.json({ run_id: run.run_id, charts }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs/{id}/charts/{chart}",
      tags: ["runs"],
      summary: "One chart of a run as SVG (e.g. roc.svg), rendered on the server from the run's artifacts",
      request: {
        params: runParam.extend({ chart: z.string().openapi({ example: "roc.svg" }) }),
      },
      responses: {
        200: { description: "The chart", content: { "image/svg+xml": { schema: z.string() } } },
        304: { description: "Not modified (ETag)" },
        400: errorJson("Not a run id"),
        404: errorJson("No such run, no such chart, or the run lacks its data"),
      },
    }),
    // deno-lint-ignore no-explicit-any
    async (c): Promise<any> => {
      const { id, chart } = c.req.valid("param");
      const name = chart.endsWith(".svg") ? chart.slice(0, -4) : "";
      if (!Object.hasOwn(RUN_CHARTS, name)) {
        throw new ApiError(
          404,
          "not_found",
          `no chart ${chart}; charts: ${Object.keys(RUN_CHARTS).join(", ")}`,
        );
      }
      const run = await requireRun(c, id);
      const rendered = await renderChart(run, name);
      if (!rendered) throw new ApiError(404, "not_found", `run ${id} has no data for the chart ${name}`);
      const headers = new Headers({
        "Content-Type": "image/svg+xml; charset=utf-8",
        // A finished run's charts only change if its files are rewritten; the ETag catches that.
        "Cache-Control": run.status === "running" ? "no-cache" : "public, max-age=300, must-revalidate",
        ETag: rendered.etag,
        "Content-Security-Policy": SVG_CSP,
        "X-Content-Type-Options": "nosniff",
        // Whether this answer was drawn now or reused: the cache is observable, not inferred from timing.
        "X-Cache": rendered.cached ? "hit" : "miss",
      });
      if (c.req.header("if-none-match") === rendered.etag) {
        return new Response(null, { status: 304, headers });
      }
      return new Response(rendered.svg, { status: 200, headers });
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/runs/{id}/artifacts/{name}",
      tags: ["runs"],
      summary: `A run's artifact: ${Object.keys(SERVED_ARTIFACTS).join(", ")}`,
      request: { params: runParam.extend({ name: z.string().openapi({ example: "MODEL_CARD.md" }) }) },
      responses: {
        200: { description: "The file", content: { "text/plain": { schema: z.string() } } },
        400: errorJson("Not a run id"),
        404: errorJson("No such run or artifact"),
      },
    }),
    // deno-lint-ignore no-explicit-any
    async (c): Promise<any> => {
      const { id, name } = c.req.valid("param");
      const type = Object.hasOwn(SERVED_ARTIFACTS, name) ? SERVED_ARTIFACTS[name] : undefined;
      if (!type) {
        throw new ApiError(
          404,
          "not_found",
          `no artifact ${name}; served: ${Object.keys(SERVED_ARTIFACTS).join(", ")}`,
        );
      }
      const run = await requireRun(c, id);
      const file = await readRunFileBytes(run.run_id, name, config.modelsDir);
      if (!file) throw new ApiError(404, "not_found", `run ${id} has no ${name}`);
      const { bytes, info } = file;
      const etag = `W/"${info.size.toString(36)}-${(info.mtime?.getTime() ?? 0).toString(36)}"`;
      const headers = new Headers({
        "Content-Type": type,
        "Cache-Control": "no-cache",
        ETag: etag,
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
      });
      if (c.req.header("if-none-match") === etag) return new Response(null, { status: 304, headers });
      return new Response(bytes as Uint8Array<ArrayBuffer>, { status: 200, headers });
    },
  );
}

async function shortDigest(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
}
