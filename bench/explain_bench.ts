/**
 * Benchmark of exact TreeSHAP on German Credit: milliseconds per explanation of one applicant by
 * a 300-tree balanced forest, for the attribute-level explanation the API gives (encoding,
 * Shapley values over the 20 attributes, reasons) and for plain column-level SHAP values. Forests:
 * the project's defaults (depth 8, engineered features), unlimited depth, and the production model
 * when the registry has one. Checks local accuracy on every row while timing. Prints a table and
 * writes bench/results/explain.json. Target: ≤ 5 ms per explanation.
 *
 * Run: `deno run --allow-read=. --allow-write=bench/results --allow-ffi --allow-env --allow-sys bench/explain_bench.ts`
 * @module
 */

import process from "node:process";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { loadCreditTable, toApplicants } from "../pipeline/data/etl.ts";
import { AttributeExplainer } from "../pipeline/model/reasons.ts";
import { FeatureEncoder } from "../pipeline/features/encoder.ts";
import {
  BalancedRandomForest,
  type ForestOptions,
  treeDepth,
  TreeShapExplainer,
} from "../pipeline/forest/mod.ts";
import { CreditModel } from "../pipeline/model/artifact.ts";
import { DEFAULT_MODELS_DIR, productionModel, readRegistry } from "../pipeline/tracking/mod.ts";

const RESULTS_PATH = "bench/results/explain.json";
const TARGET_MS = 5;
const PASSES = 3;
/** Rows explained per pass (the first of the data set). */
const ROWS = 500;

interface Case {
  name: string;
  encoder: FeatureEncoder;
  forest: BalancedRandomForest;
}

interface Timing {
  /** Mean over every explanation. */
  meanMs: number;
  /** The fastest pass's mean: the figure least disturbed by other work on a shared machine. */
  bestPassMs: number;
  p50Ms: number;
  p95Ms: number;
  cpuMsPerRow: number;
  maxLocalAccuracyError: number;
}

const table = await loadCreditTable("data/german.data");
const applicants = toApplicants(table.frame).slice(0, ROWS);

const cases: Case[] = [];
for (
  const [name, options] of [
    ["defaults (depth 8, engineered features)", {}],
    ["unlimited depth, engineered features", { maxDepth: null }],
  ] as [string, Partial<ForestOptions>][]
) {
  const encoder = FeatureEncoder.fit(table.frame);
  const X = encoder.transformFrame(table.frame);
  const forest = new BalancedRandomForest({ nEstimators: 300, seed: 1, ...options }).fit(X, table.bad!);
  cases.push({ name, encoder, forest });
}
const production = await productionCase();
if (production) cases.push(production);

const results = [];
for (const c of cases) {
  const attribute = new AttributeExplainer(c.encoder, c.forest);
  const column = new TreeShapExplainer(c.forest);
  const rows = c.encoder.transformRecords(applicants);
  const probabilities = c.forest.predictProba(rows);
  const attributeTiming = time(applicants.length, (i) => {
    const e = attribute.explain(applicants[i]);
    return e.baseValue + sum(e.contributions) - probabilities[i];
  });
  const phi = new Float64Array(column.nPlayers);
  const columnTiming = time(applicants.length, (i) => {
    column.shapValues(rows.data.subarray(i * rows.cols, (i + 1) * rows.cols), phi);
    return column.baseValue + sum(phi) - probabilities[i];
  });
  const depths = c.forest.trees.map(treeDepth);
  const leaves = c.forest.trees.map((t) => (t.nodeCount + 1) / 2);
  results.push({
    forest: c.name,
    trees: c.forest.trees.length,
    columns: c.encoder.nFeatures,
    mean_depth: mean(depths),
    mean_leaves: mean(leaves),
    attribute_level: attributeTiming,
    column_level: columnTiming,
  });
}

const load = Deno.loadavg()[0];
console.log(
  `TreeSHAP, ms per explanation: mean / best pass / p50 / p95 (${applicants.length} rows × ${PASSES} passes; ` +
    `load ${load.toFixed(1)} on ${navigator.hardwareConcurrency} cores). Target ≤ ${TARGET_MS} ms.`,
);
for (const r of results) {
  const verdict = (
    t: Timing,
  ) => (t.meanMs <= TARGET_MS ? "" : t.bestPassMs <= TARGET_MS ? "  (mean over)" : "  (over)");
  console.log(
    `${r.forest}: ${r.trees} trees, mean depth ${r.mean_depth.toFixed(1)}, ${
      r.mean_leaves.toFixed(0)
    } leaves\n` +
      `  attributes (API path): ${show(r.attribute_level)}${verdict(r.attribute_level)}\n` +
      `  columns:               ${show(r.column_level)}${verdict(r.column_level)}`,
  );
}

await writeJsonAtomic(RESULTS_PATH, {
  benchmark: "explain",
  created_at: new Date().toISOString(),
  deno: Deno.version.deno,
  cores: navigator.hardwareConcurrency,
  load_average: load,
  target_ms: TARGET_MS,
  rows: applicants.length,
  passes: PASSES,
  results,
});
console.log(`wrote ${RESULTS_PATH}`);

/** Times `explain(i)` over every row, PASSES times after a warm-up; it returns the local-accuracy error. */
function time(rows: number, explain: (i: number) => number): Timing {
  for (let i = 0; i < Math.min(rows, 200); i++) explain(i);
  const samples: number[] = [];
  let bestPassMs = Infinity;
  let maxError = 0;
  const cpu = process.cpuUsage();
  for (let pass = 0; pass < PASSES; pass++) {
    const passStart = performance.now();
    for (let i = 0; i < rows; i++) {
      const start = performance.now();
      const error = Math.abs(explain(i));
      samples.push(performance.now() - start);
      if (error > maxError) maxError = error;
    }
    bestPassMs = Math.min(bestPassMs, (performance.now() - passStart) / rows);
  }
  const cpuMs = process.cpuUsage(cpu).user / 1000;
  samples.sort((a, b) => a - b);
  return {
    meanMs: mean(samples),
    bestPassMs,
    p50Ms: samples[Math.floor(samples.length * 0.5)],
    p95Ms: samples[Math.floor(samples.length * 0.95)],
    cpuMsPerRow: cpuMs / samples.length,
    maxLocalAccuracyError: maxError,
  };
}

async function productionCase(): Promise<Case | null> {
  const registry = await readRegistry(DEFAULT_MODELS_DIR).catch(() => null);
  const entry = registry ? productionModel(registry) : undefined;
  if (!entry) return null;
  const { model } = await CreditModel.load(`${DEFAULT_MODELS_DIR}/${entry.artifact}`, entry.sha256);
  return { name: `production model v${entry.version}`, encoder: model.encoder, forest: model.forest };
}

function show(t: Timing): string {
  return `${t.meanMs.toFixed(2)} / ${t.bestPassMs.toFixed(2)} / ${t.p50Ms.toFixed(2)} / ${
    t.p95Ms.toFixed(2)
  } ms (cpu ${t.cpuMsPerRow.toFixed(2)} ms), local accuracy ≤ ${t.maxLocalAccuracyError.toExponential(1)}`;
}

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
