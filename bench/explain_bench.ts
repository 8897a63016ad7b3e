/**
 * Benchmark of exact TreeSHAP on German Credit: the time of one attribute-level explanation (the
 * Shapley values of the 20 attributes of one applicant), by the production algorithm
 * (forest/explain.ts, quadrature) and by the previous one it replaced (forest/explain_reference.ts),
 * on the production model and on two freshly fitted 300-tree forests (the project's defaults, and
 * unlimited depth). The production algorithm runs in its WebAssembly kernel; its TypeScript twin
 * (the fallback) is timed too. Also the API path (encoding + values + reasons) and a batch's rows/s
 * on one thread. Every explanation is checked against local accuracy while timed, and the two algorithms
 * against each other. Prints a table and writes bench/results/explain.json. Targets: ≤ 1 ms per
 * explanation (≤ 3 ms at the very least).
 *
 * The machine is shared: the load average is recorded before and after, and CPU time beside wall
 * time (CPU time is what the explanation cost; wall time also counts waiting for a core), both over
 * all explanations and as the median over rounds of 50 (less moved by a burst of load); the verdict
 * against the targets is on that median. For the production model it also prints where the time
 * goes: the forest's shape (attributes per path, share of leaves under an engineered column,
 * quadrature points per tree, the size of Fast TreeSHAP v2's per-leaf subset tables) and the same
 * kernel with every column its own player (no tied attributes, so no block states).
 *
 * Run: `deno run --allow-read=. --allow-write=bench/results --allow-ffi --allow-env --allow-sys bench/explain_bench.ts`
 * @module
 */

import process from "node:process";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { loadCreditTable, toApplicants } from "../pipeline/data/etl.ts";
import { AttributeExplainer, attributePlayers } from "../pipeline/model/reasons.ts";
import { FeatureEncoder } from "../pipeline/features/encoder.ts";
import {
  BalancedRandomForest,
  type FlatTree,
  type ForestOptions,
  TREE_LEAF,
  treeDepth,
  TreeShapExplainer,
} from "../pipeline/forest/mod.ts";
import { ReferenceTreeShapExplainer } from "../pipeline/forest/explain_reference.ts";
import { ModelHolder } from "../pipeline/serving/model_holder.ts";
import { type Applicant, ATTRIBUTES } from "../pipeline/data/schema.ts";
import { quantile } from "../pipeline/stats.ts";

const RESULTS_PATH = "bench/results/explain.json";
const TARGET_MS = 1;
const FLOOR_MS = 3;
/** Rows timed for the previous algorithm on the fitted forests (all 1,000 on the production model). */
const REFERENCE_ROWS = 300;
const NEW_PASSES = 3;
/** Explanations per round for the CPU-time median. */
const ROUND_ROWS = 50;
/** Explanations before timing starts. */
const WARM_UP_ROWS = 300;

interface Case {
  name: string;
  encoder: FeatureEncoder;
  forest: BalancedRandomForest;
  /** Rows to time the previous algorithm on. */
  referenceRows: number;
}

interface Timing {
  rows: number;
  medianMs: number;
  p99Ms: number;
  meanMs: number;
  /** CPU time per explanation (user + system), over all the timed explanations. */
  cpuMs: number;
  /** Median over rounds of {@link ROUND_ROWS} explanations of the CPU time per explanation: less moved by bursts of load. */
  cpuMedianMs: number;
  maxLocalAccuracyError: number;
}

const loadBefore = Deno.loadavg()[0];
const table = await loadCreditTable("data/german.data");
const applicants = toApplicants(table.frame);

const cases: Case[] = [];
const production = await productionCase();
if (production) cases.push(production);
for (
  const [name, options] of [
    ["300 trees, defaults (depth 8, engineered features)", {}],
    ["300 trees, unlimited depth, engineered features", { maxDepth: null }],
  ] as [string, Partial<ForestOptions>][]
) {
  const encoder = FeatureEncoder.fit(table.frame);
  const X = encoder.transformFrame(table.frame);
  const forest = new BalancedRandomForest({ nEstimators: 300, seed: 1, ...options }).fit(X, table.bad!);
  cases.push({ name, encoder, forest, referenceRows: REFERENCE_ROWS });
}

const results = [];
for (const c of cases) {
  const rows = c.encoder.transformRecords(applicants);
  const row = (i: number) => rows.data.subarray(i * rows.cols, (i + 1) * rows.cols);
  const probabilities = c.forest.predictProba(rows);
  const startedAt = performance.now();
  const explainer = new AttributeExplainer(c.encoder, c.forest);
  const prepareMs = performance.now() - startedAt;
  const reference = new ReferenceTreeShapExplainer(c.forest, attributePlayers(c.encoder));
  const twin = new TreeShapExplainer(c.forest, attributePlayers(c.encoder), { kernel: "typescript" });
  const phi = new Float64Array(ATTRIBUTES.length);
  const slow = new Float64Array(ATTRIBUTES.length);

  const now = time(rows.rows, NEW_PASSES, (i) => {
    explainer.contributionsOfRow(row(i), phi);
    return explainer.baseValue + sum(phi) - probabilities[i];
  });
  const typescript = time(rows.rows, 1, (i) => {
    twin.shapValues(row(i), phi);
    return twin.baseValue + sum(phi) - probabilities[i];
  });
  const apiPath = time(rows.rows, 1, (i) => {
    const e = explainer.explain(applicants[i] as Applicant);
    return e.baseValue + sum(e.contributions) - probabilities[i];
  });
  const before = time(c.referenceRows, 1, (i) => {
    reference.shapValues(row(i), slow);
    return reference.baseValue + sum(slow) - probabilities[i];
  });
  // Where the time goes: the same kernel with every column its own player has no tied players (no
  // block states), so the difference is the cost of engineered columns' ties.
  const columnsAsPlayers = new TreeShapExplainer(c.forest);
  const columnPhi = new Float64Array(columnsAsPlayers.nPlayers);
  const untied = time(rows.rows, 1, (i) => {
    columnsAsPlayers.shapValues(row(i), columnPhi);
    return columnsAsPlayers.baseValue + sum(columnPhi) - probabilities[i];
  });
  let maxDifference = 0;
  for (let i = 0; i < c.referenceRows; i++) {
    reference.shapValues(row(i), slow);
    explainer.contributionsOfRow(row(i), phi);
    for (let a = 0; a < phi.length; a++) maxDifference = Math.max(maxDifference, Math.abs(phi[a] - slow[a]));
  }
  // A batch on one thread: every row once, as /predict/batch and the scoring CLI do.
  const batchStart = performance.now();
  for (let i = 0; i < rows.rows; i++) explainer.contributionsOfRow(row(i), phi);
  const rowsPerSecond = rows.rows / ((performance.now() - batchStart) / 1000);

  const depths = c.forest.trees.map(treeDepth);
  results.push({
    forest: c.name,
    trees: c.forest.trees.length,
    columns: c.encoder.nFeatures,
    mean_depth: mean(depths),
    mean_leaves: mean(c.forest.trees.map((t) => (t.nodeCount + 1) / 2)),
    prepare_ms: prepareMs,
    quadrature: now,
    quadrature_kernel: "wasm",
    quadrature_typescript_kernel: typescript,
    quadrature_api_path: apiPath,
    quadrature_columns_as_players: untied,
    structure: structureOf(c.forest.trees, attributePlayers(c.encoder).ofColumn),
    reference: before,
    speedup_median: before.medianMs / now.medianMs,
    max_difference: maxDifference,
    batch_rows_per_second_one_thread: rowsPerSecond,
  });
}

const loadAfter = Deno.loadavg()[0];
console.log(
  `Attribute-level TreeSHAP, ms per explanation: median / p99 (CPU per explanation). ` +
    `Load ${loadBefore.toFixed(1)} before, ${
      loadAfter.toFixed(1)
    } after, on ${navigator.hardwareConcurrency} cores. ` +
    `Target ≤ ${TARGET_MS} ms, ≤ ${FLOOR_MS} ms at least.`,
);
for (const r of results) {
  console.log(
    `${r.forest}: ${r.trees} trees, mean depth ${r.mean_depth.toFixed(1)}, ${
      r.mean_leaves.toFixed(0)
    } leaves ` +
      `(prepared in ${r.prepare_ms.toFixed(0)} ms)\n` +
      `  quadrature (new):          ${show(r.quadrature)}${verdict(r.quadrature)}\n` +
      `  quadrature, TypeScript:    ${show(r.quadrature_typescript_kernel)}\n` +
      `  quadrature, API path:      ${show(r.quadrature_api_path)}\n` +
      `  same, columns as players:  ${show(r.quadrature_columns_as_players)} (no tied attributes)\n` +
      `  reference (old):           ${show(r.reference)}\n` +
      `  speed-up ${r.speedup_median.toFixed(1)}× (medians); largest difference ${
        r.max_difference.toExponential(1)
      }; ` +
      `batch ${Math.round(r.batch_rows_per_second_one_thread)} rows/s on one thread\n` +
      `  structure: ${r.structure.nodes} nodes, ${r.structure.leaves} leaves; attributes per root-to-leaf path ` +
      `mean ${r.structure.meanAttributesPerPath.toFixed(1)}, max ${r.structure.maxAttributesPerPath}; ` +
      `${
        (100 * r.structure.tiedLeafShare).toFixed(0)
      } % of leaves under an engineered (multi-attribute) split; ` +
      `quadrature points per tree ${JSON.stringify(r.structure.pointsPerTree)}; ` +
      `per-leaf subset tables (Fast TreeSHAP v2) would hold ${r.structure.subsetTableEntries} doubles ` +
      `(${(r.structure.subsetTableEntries * 8 / 2 ** 20).toFixed(0)} MiB)`,
  );
}

await writeJsonAtomic(RESULTS_PATH, {
  benchmark: "explain",
  created_at: new Date().toISOString(),
  deno: Deno.version.deno,
  cores: navigator.hardwareConcurrency,
  load_average_before: loadBefore,
  load_average_after: loadAfter,
  target_ms: TARGET_MS,
  floor_ms: FLOOR_MS,
  results,
});
console.log(`wrote ${RESULTS_PATH}`);

/** Times `explain(i)` for rows [0, rows), `passes` times after a warm-up; it returns the local-accuracy error. */
function time(rows: number, passes: number, explain: (i: number) => number): Timing {
  // Long enough a warm-up for the WebAssembly kernel to be tiered up (compiled on other threads, which
  // process CPU time would count).
  for (let i = 0; i < Math.min(rows, WARM_UP_ROWS); i++) explain(i);
  const samples: number[] = [];
  const rounds: number[] = [];
  let maxError = 0;
  const cpu = process.cpuUsage();
  let round = process.cpuUsage();
  for (let pass = 0; pass < passes; pass++) {
    for (let i = 0; i < rows; i++) {
      const start = performance.now();
      const error = Math.abs(explain(i));
      samples.push(performance.now() - start);
      if (error > maxError) maxError = error;
      if (samples.length % ROUND_ROWS === 0) {
        const used = process.cpuUsage(round);
        rounds.push((used.user + used.system) / 1000 / ROUND_ROWS);
        round = process.cpuUsage();
      }
    }
  }
  const used = process.cpuUsage(cpu);
  samples.sort((a, b) => a - b);
  rounds.sort((a, b) => a - b);
  const cpuMs = (used.user + used.system) / 1000 / samples.length;
  return {
    rows,
    medianMs: quantile(samples, 0.5),
    p99Ms: quantile(samples, 0.99),
    meanMs: mean(samples),
    cpuMs,
    cpuMedianMs: rounds.length > 0 ? quantile(rounds, 0.5) : cpuMs,
    maxLocalAccuracyError: maxError,
  };
}

async function productionCase(): Promise<Case | null> {
  const holder = await ModelHolder.open({}, { allowEmpty: true });
  const serving = holder.current;
  if (!serving) return null;
  return {
    name: `production model v${serving.version ?? "?"}`,
    encoder: serving.model.encoder,
    forest: serving.model.forest,
    referenceRows: applicants.length,
  };
}

/** Judged on the CPU time (median of rounds): wall time on a shared machine also counts waiting for a core. */
function verdict(t: Timing): string {
  const ms = t.cpuMedianMs;
  return ms <= TARGET_MS
    ? "  (CPU within 1 ms)"
    : ms <= FLOOR_MS
    ? "  (CPU within 3 ms, over the 1 ms target)"
    : "  (CPU over 3 ms)";
}

function show(t: Timing): string {
  return `${t.medianMs.toFixed(2)} / ${t.p99Ms.toFixed(2)} ms (cpu ${
    t.cpuMs.toFixed(2)
  } ms, median of rounds ${t.cpuMedianMs.toFixed(2)} ms), ` +
    `local accuracy ≤ ${t.maxLocalAccuracyError.toExponential(1)}`;
}

/**
 * The forest's shape as the explainer sees it: nodes, leaves, distinct attributes per root-to-leaf
 * path, the share of leaves with an engineered (multi-attribute) column on their path, the number
 * of quadrature points per tree (⌈most attributes on a path / 2⌉) and the size Σ 2^d of
 * per-leaf tables over subsets of a leaf's d path attributes.
 */
function structureOf(trees: readonly FlatTree[], ofColumn: readonly (readonly number[])[]) {
  let nodes = 0, leaves = 0, attributes = 0, most = 0, tiedLeaves = 0, subsetTableEntries = 0;
  const pointsPerTree: Record<number, number> = {};
  for (const tree of trees) {
    nodes += tree.nodeCount;
    const seen = new Map<number, number>();
    let treeMost = 0;
    const walk = (node: number, distinct: number, tied: boolean): void => {
      if (tree.childrenLeft[node] === TREE_LEAF) {
        leaves++;
        attributes += distinct;
        treeMost = Math.max(treeMost, distinct);
        subsetTableEntries += 2 ** distinct;
        if (tied) tiedLeaves++;
        return;
      }
      const owners = ofColumn[tree.feature[node]];
      let added = 0;
      for (const p of owners) {
        const n = seen.get(p) ?? 0;
        if (n === 0) added++;
        seen.set(p, n + 1);
      }
      for (const child of [tree.childrenLeft[node], tree.childrenRight[node]]) {
        walk(child, distinct + added, tied || owners.length > 1);
      }
      for (const p of owners) seen.set(p, seen.get(p)! - 1);
    };
    walk(0, 0, false);
    most = Math.max(most, treeMost);
    const k = Math.max(1, Math.ceil(treeMost / 2));
    pointsPerTree[k] = (pointsPerTree[k] ?? 0) + 1;
  }
  return {
    nodes,
    leaves,
    meanAttributesPerPath: attributes / leaves,
    maxAttributesPerPath: most,
    tiedLeafShare: tiedLeaves / leaves,
    pointsPerTree,
    subsetTableEntries,
  };
}

function sum(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
