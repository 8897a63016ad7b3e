/**
 * Benchmark of our balanced random forest against npm ml-random-forest on German Credit:
 * stratified 5-fold CV (fit/predict time, ROC AUC, recall on bad risks), fit time of 300 trees
 * on 800 rows, batch prediction throughput on 1,000,000 rows, and ROC AUC under 5 × 10-fold
 * repeated stratified CV. Prints a table and writes bench/results/forest.json.
 *
 * Run: `deno task bench:forest`
 * @module
 */

import process from "node:process";
import { RandomForestClassifier } from "ml-random-forest";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { BalancedRandomForest, type ForestOptions, type Matrix, treeDepth } from "../pipeline/forest/mod.ts";
import { packForest, predictPackedInto } from "../pipeline/forest/packed.ts";
import { loadCreditTable } from "../pipeline/data/etl.ts";
import { FeatureEncoder } from "../pipeline/features/encoder.ts";
import { rocAuc } from "../pipeline/model/metrics.ts";
import { takeRows, takeValues } from "../pipeline/model/objective.ts";
import { Random } from "../pipeline/random.ts";
import { stratifiedKFold } from "../pipeline/data/split.ts";

const RESULTS_PATH = "bench/results/forest.json";
const ML_RF_TREES = 20;
const PREDICT_ROWS = 1_000_000;

/** The German Credit matrix as the Python peers saw it: one-hot attributes, no engineered features. */
async function loadGermanCredit(): Promise<{ X: Matrix; y: Uint8Array }> {
  const table = await loadCreditTable();
  const encoder = FeatureEncoder.fit(table.frame, { orderedAsOrdinal: false, engineered: false });
  return { X: encoder.transformFrame(table.frame), y: table.bad! };
}

/** Rows of a matrix and their labels. */
function selectRows(X: Matrix, y: Uint8Array, rows: Int32Array): { X: Matrix; y: Uint8Array } {
  return { X: takeRows(X, rows), y: takeValues(y, rows) };
}

function toRows(X: Matrix): number[][] {
  return Array.from({ length: X.rows }, (_, r) => Array.from(X.data.subarray(r * X.cols, (r + 1) * X.cols)));
}

function recallAtHalf(y: Uint8Array, p: ArrayLike<number>): number {
  let positives = 0;
  let caught = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 1) {
      positives++;
      if (p[i] >= 0.5) caught++;
    }
  }
  return caught / positives;
}

/** Wall and CPU (user) time of `fn` in milliseconds; CPU time resists other load on the box. */
function timed<T>(fn: () => T): { value: T; wallMs: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = fn();
  const wallMs = performance.now() - start;
  return { value, wallMs, cpuMs: process.cpuUsage(cpu).user / 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function sd(xs: number[]): number {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

interface FoldFigures {
  fitMs: number;
  predictMs: number;
  auc: number;
  recallBad: number;
}

function summarise(name: string, trees: number, folds: FoldFigures[], testRows: number) {
  const fitMs = mean(folds.map((f) => f.fitMs));
  const predictMs = mean(folds.map((f) => f.predictMs));
  return {
    model: name,
    trees,
    fitSecondsPerFold: fitMs / 1000,
    fitMsPerTree: fitMs / trees,
    predictMsPerFold: predictMs,
    predictMicrosecondsPerRowPerTree: (predictMs * 1000) / (testRows * trees),
    rocAuc: mean(folds.map((f) => f.auc)),
    rocAucSd: sd(folds.map((f) => f.auc)),
    recallBadAtHalf: mean(folds.map((f) => f.recallBad)),
  };
}

async function main(): Promise<void> {
  const { X, y } = await loadGermanCredit();
  const nBad = y.reduce((a, b) => a + b, 0);
  const defaults = new BalancedRandomForest().options;
  console.log(
    `German Credit: ${X.rows} rows × ${X.cols} features (${nBad} bad); ${navigator.hardwareConcurrency} cores; ` +
      `deno ${Deno.version.deno}; load average at start ${Deno.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  );

  // 1. Stratified 5-fold CV, ours vs ml-random-forest.
  const folds = stratifiedKFold(y, { k: 5, seed: 20240501 });
  const ours: FoldFigures[] = [];
  const mlrf: FoldFigures[] = [];
  for (const [k, fold] of folds.entries()) {
    const train = selectRows(X, y, fold.train);
    const test = selectRows(X, y, fold.test);
    const fit = timed(() => new BalancedRandomForest({ seed: k }).fit(train.X, train.y));
    const pred = timed(() => fit.value.predictProba(test.X));
    ours.push({
      fitMs: fit.wallMs,
      predictMs: pred.wallMs,
      auc: rocAuc(test.y, pred.value),
      recallBad: recallAtHalf(test.y, pred.value),
    });
    const trainRows = toRows(train.X);
    const testRowsArr = toRows(test.X);
    const mlFit = timed(() => {
      const model = new RandomForestClassifier({ nEstimators: ML_RF_TREES, seed: 42 + k, noOOB: true });
      model.train(trainRows, Array.from(train.y));
      return model;
    });
    const mlPred = timed(() => mlFit.value.predictProbability(testRowsArr, 1) as number[]);
    mlrf.push({
      fitMs: mlFit.wallMs,
      predictMs: mlPred.wallMs,
      auc: rocAuc(test.y, mlPred.value),
      recallBad: recallAtHalf(test.y, mlPred.value),
    });
    console.log(`  fold ${k + 1}/5 done`);
  }
  const testRowsPerFold = X.rows / 5;
  const cvTable = [
    summarise("ours (balanced, defaults)", defaults.nEstimators, ours, testRowsPerFold),
    summarise("ml-random-forest 2.1.0", ML_RF_TREES, mlrf, testRowsPerFold),
  ];

  // 2. Fit time of 300 trees on 800 rows (first CV training set), median after warm-up.
  const train800 = selectRows(X, y, folds[0].train);
  const fitRuns = (options: Partial<ForestOptions>) => {
    for (let i = 0; i < 3; i++) {
      new BalancedRandomForest({ ...options, seed: 100 + i }).fit(train800.X, train800.y);
    }
    const runs = Array.from(
      { length: 15 },
      (_, i) => timed(() => new BalancedRandomForest({ ...options, seed: i }).fit(train800.X, train800.y)),
    );
    return {
      medianWallMs: median(runs.map((r) => r.wallMs)),
      minWallMs: Math.min(...runs.map((r) => r.wallMs)),
      medianCpuMs: median(runs.map((r) => r.cpuMs)),
    };
  };
  const fitHistogram = fitRuns({ nEstimators: 300 });
  const fitExact = fitRuns({ nEstimators: 300, splitter: "exact" });
  const fitUnlimited = fitRuns({ nEstimators: 300, maxDepth: null });
  const parallelRuns: number[] = [];
  for (let i = 0; i < 6; i++) {
    const start = performance.now();
    await new BalancedRandomForest({ nEstimators: 300, nJobs: 2, seed: i }).fitAsync(train800.X, train800.y);
    if (i > 0) parallelRuns.push(performance.now() - start);
  }
  const mlMsPerTree = cvTable[1].fitMsPerTree;
  const mlFit300Ms = mlMsPerTree * 300;

  // 3. Batch prediction throughput: 1,000,000 rows resampled from the data, 300-tree forest.
  const forest300 = new BalancedRandomForest({ nEstimators: 300, seed: 7 }).fit(train800.X, train800.y);
  const sampler = new Random(99);
  const bigData = new Float64Array(PREDICT_ROWS * X.cols);
  for (let r = 0; r < PREDICT_ROWS; r++) {
    const src = sampler.int(X.rows) * X.cols;
    bigData.set(X.data.subarray(src, src + X.cols), r * X.cols);
  }
  const big: Matrix = { data: bigData, rows: PREDICT_ROWS, cols: X.cols };
  const predictRuns = Array.from({ length: 5 }, () => timed(() => forest300.predictProba(big)));
  const predictWallMs = median(predictRuns.map((r) => r.wallMs));
  // Other jobs share this machine: the fastest run shows the code, the median the machine.
  const predictBestWallMs = Math.min(...predictRuns.map((r) => r.wallMs));
  const predictCpuMs = median(predictRuns.map((r) => r.cpuMs));
  const jsOut = new Float64Array(PREDICT_ROWS);
  const packed = packForest(forest300.trees, X.cols);
  const jsPredict = timed(() => predictPackedInto(packed, bigData, PREDICT_ROWS, jsOut));
  const jsIdentical = jsOut.every((p, i) => Object.is(p, predictRuns[0].value[i]));
  let maxOneVsBatch = 0;
  for (let r = 0; r < 1000; r++) {
    const one = forest300.predictProbaOne(bigData.subarray(r * X.cols, (r + 1) * X.cols));
    maxOneVsBatch = Math.max(maxOneVsBatch, Math.abs(one - predictRuns[0].value[r]));
  }

  // 4. Model size.
  const json300 = JSON.stringify(forest300);
  const forest500 = new BalancedRandomForest({ nEstimators: 500, seed: 7 }).fit(train800.X, train800.y);
  const json500 = JSON.stringify(forest500);
  const restored = BalancedRandomForest.fromJSON(json500).predictProba(X);
  const original = forest500.predictProba(X);
  const roundTripIdentical = restored.every((p, i) => Object.is(p, original[i]));

  // 5. ROC AUC under 5 × 10-fold repeated stratified CV (fold seeds differ from the tuning runs).
  const repeated = (options: Partial<ForestOptions>) => {
    const aucs: number[] = [];
    let fitMs = 0;
    for (let rep = 0; rep < 5; rep++) {
      const tenFolds = stratifiedKFold(y, { k: 10, seed: 777_000 + rep });
      for (const [k, fold] of tenFolds.entries()) {
        const train = selectRows(X, y, fold.train);
        const test = selectRows(X, y, fold.test);
        const fit = timed(() =>
          new BalancedRandomForest({ ...options, seed: rep * 10 + k }).fit(train.X, train.y)
        );
        fitMs += fit.wallMs;
        aucs.push(rocAuc(test.y, fit.value.predictProba(test.X)));
      }
    }
    return {
      rocAuc: mean(aucs),
      rocAucSd: sd(aucs),
      rocAucSe: sd(aucs) / Math.sqrt(aucs.length),
      fitMs: fitMs / 50,
    };
  };
  const repeatedCv = {
    "defaults": repeated({}),
    "splitter exact": repeated({ splitter: "exact" }),
    "maxDepth null (unlimited)": repeated({ maxDepth: null }),
    "balanced false (plain RF)": repeated({ balanced: false }),
  };

  // ---- Report ----
  const f3 = (x: number) => x.toFixed(3);
  const lines: string[] = [];
  lines.push("");
  lines.push("Stratified 5-fold CV (800 train / 200 test rows per fold), means over folds");
  lines.push(
    "| model                      | trees | fit s/fold | fit ms/tree | predict ms/fold | predict µs/row/tree | ROC AUC       | recall bad @0.5 |",
  );
  lines.push(
    "|----------------------------|------:|-----------:|------------:|----------------:|--------------------:|---------------|----------------:|",
  );
  for (const row of cvTable) {
    lines.push(
      `| ${row.model.padEnd(26)} | ${String(row.trees).padStart(5)} | ${
        row.fitSecondsPerFold.toFixed(3).padStart(10)
      } | ${row.fitMsPerTree.toFixed(3).padStart(11)} | ${row.predictMsPerFold.toFixed(2).padStart(15)} | ${
        row.predictMicrosecondsPerRowPerTree.toFixed(4).padStart(19)
      } | ${f3(row.rocAuc)} ± ${f3(row.rocAucSd)} | ${f3(row.recallBadAtHalf).padStart(15)} |`,
    );
  }
  lines.push("");
  lines.push(
    "Speed (300 trees, 800 rows; median of 15 runs after 3 warm-up runs; wall time, CPU time in brackets)",
  );
  lines.push(
    `  fit, histogram splitter (default)   ${fitHistogram.medianWallMs.toFixed(1)} ms [cpu ${
      fitHistogram.medianCpuMs.toFixed(1)
    } ms, min ${fitHistogram.minWallMs.toFixed(1)} ms]   target ≤ 150 ms`,
  );
  lines.push(
    `  fit, exact splitter                 ${fitExact.medianWallMs.toFixed(1)} ms [cpu ${
      fitExact.medianCpuMs.toFixed(1)
    } ms]`,
  );
  lines.push(
    `  fit, histogram, maxDepth null       ${fitUnlimited.medianWallMs.toFixed(1)} ms [cpu ${
      fitUnlimited.medianCpuMs.toFixed(1)
    } ms]`,
  );
  lines.push(
    `  fitAsync, nJobs 2 (Web Workers)     ${
      median(parallelRuns).toFixed(1)
    } ms (median of 5, incl. worker start)`,
  );
  lines.push(
    `  ml-random-forest, per tree          ${mlMsPerTree.toFixed(1)} ms → 300 trees ≈ ${
      (mlFit300Ms / 1000).toFixed(1)
    } s; ` +
      `ours is ${(mlFit300Ms / fitHistogram.medianWallMs).toFixed(0)}× faster   target ≥ 200×`,
  );
  lines.push(
    `  batch predict, ${PREDICT_ROWS.toLocaleString("en")} rows        ${
      (predictWallMs / 1000).toFixed(2)
    } s → ${Math.round(PREDICT_ROWS / predictWallMs * 1000).toLocaleString("en")} rows/s median of 5, ${
      Math.round(PREDICT_ROWS / predictBestWallMs * 1000).toLocaleString("en")
    } best [cpu ${Math.round(PREDICT_ROWS / predictCpuMs * 1000).toLocaleString("en")}]   target ≥ 250,000`,
  );
  lines.push(
    `  same, JavaScript fallback walk       ${(jsPredict.wallMs / 1000).toFixed(2)} s → ${
      Math.round(PREDICT_ROWS / jsPredict.wallMs * 1000).toLocaleString("en")
    } rows/s; identical to WebAssembly: ${jsIdentical}`,
  );
  lines.push(`  predictProbaOne vs batch, max |Δ|   ${maxOneVsBatch}`);
  lines.push(
    `  model JSON: 300 trees ${(json300.length / 1e6).toFixed(2)} MB, 500 trees ${
      (json500.length / 1e6).toFixed(2)
    } MB; round trip identical: ${roundTripIdentical}; mean depth ${
      f3(mean(forest300.trees.map(treeDepth)))
    }, mean nodes/tree ${mean(forest300.trees.map((t) => t.nodeCount)).toFixed(1)}`,
  );
  lines.push("");
  lines.push("ROC AUC, 5 × 10-fold repeated stratified CV (300 trees)");
  lines.push("| configuration              | ROC AUC mean | sd    | se     | fit ms/model |");
  lines.push("|----------------------------|-------------:|------:|-------:|-------------:|");
  for (const [name, r] of Object.entries(repeatedCv)) {
    lines.push(
      `| ${name.padEnd(26)} | ${r.rocAuc.toFixed(4).padStart(12)} | ${f3(r.rocAucSd)} | ${
        r.rocAucSe.toFixed(4)
      } | ${r.fitMs.toFixed(1).padStart(12)} |`,
    );
  }
  lines.push("  target (defaults) ≥ 0.79; imbalanced-learn 0.796");
  console.log(lines.join("\n"));

  await writeJsonAtomic(RESULTS_PATH, {
    generatedAt: new Date().toISOString(),
    environment: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      cores: navigator.hardwareConcurrency,
      loadAverage: Deno.loadavg(),
    },
    data: { rows: X.rows, features: X.cols, bad: nBad },
    defaults,
    crossValidation5Fold: cvTable,
    fit300Trees800Rows: {
      histogram: fitHistogram,
      exact: fitExact,
      histogramUnlimitedDepth: fitUnlimited,
      parallel2WorkersMedianWallMs: median(parallelRuns),
      mlRandomForestMsPerTree: mlMsPerTree,
      mlRandomForestExtrapolated300TreesMs: mlFit300Ms,
      speedupVsMlRandomForest: mlFit300Ms / fitHistogram.medianWallMs,
    },
    batchPrediction: {
      rows: PREDICT_ROWS,
      trees: 300,
      medianWallMs: predictWallMs,
      rowsPerSecond: PREDICT_ROWS / predictWallMs * 1000,
      bestRowsPerSecond: PREDICT_ROWS / predictBestWallMs * 1000,
      rowsPerCpuSecond: PREDICT_ROWS / predictCpuMs * 1000,
      maxAbsDiffPredictProbaOne: maxOneVsBatch,
      javascriptFallbackRowsPerSecond: PREDICT_ROWS / jsPredict.wallMs * 1000,
      javascriptFallbackIdentical: jsIdentical,
    },
    modelSize: { json300Bytes: json300.length, json500Bytes: json500.length, roundTripIdentical },
    repeatedCv5x10: repeatedCv,
    report: lines.join("\n"),
  });
  console.log(`\nwrote ${RESULTS_PATH}`);
}

if (import.meta.main) await main();
