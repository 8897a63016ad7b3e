/**
 * Nested cross-validation of the whole training pipeline: for every outer fold of repeated
 * stratified K-fold, the stages of `train()` (`train_stages.ts`: encoder, engineered-feature choice,
 * TPE search with its own inner CV, threshold, calibration, final fit) run on the outer-training rows
 * only; the outer test rows are scored once, after all of that. Outer folds run on Web Workers
 * (`nested_worker.ts`), one fold per worker at a time. Files are written by `tracking/run_files.ts`;
 * the command line is `deno task evaluate --nested` (`cli/evaluate.ts`).
 * @module
 */

import { type CreditTable, selectRows, toApplicants } from "../data/etl.ts";
import { fairnessCell, type Mitigation, reweighingWeights } from "./reweigh.ts";
import { type RepeatedFold, repeatedStratifiedKFold, stratifiedKFold } from "../data/split.ts";
import { DEFAULT_FOREST_OPTIONS, type ForestOptions, type Matrix } from "../forest/mod.ts";
import { brierScore, metricsReport } from "./metrics.ts";
import { mapRows, type Objective, type RowObserver, takeValues } from "./objective.ts";
import { replayParams } from "./search_space.ts";
import { calibrate, chooseThreshold, encode, type Encodings, fitFinal, search } from "./train_stages.ts";
import { type FoldSummary, summariseFolds, testTrainRatio } from "./compare.ts";
import type { Hyperparameters } from "../tracking/mod.ts";
import type { AttributeName } from "../data/schema.ts";
import { type AttributeProfile, describeProfile, FULL_PROFILE } from "../data/profile.ts";

/** The nested evaluation's settings; the defaults are `models/PROTOCOL.md`'s. */
export interface NestedOptions {
  repeats: number;
  folds: number;
  seed: number;
  trials: number;
  /** Folds of the search's inner CV (and of the threshold's out-of-fold predictions). */
  innerFolds: number;
  /** Reshuffled inner CV repeats per trial. */
  searchRepeats: number;
  searchTrees: number;
  trees: number;
  objective: Objective;
  minAccuracy: number;
  /** Web Workers running outer folds; 0 runs them in this thread (tests, the leakage observer). */
  workers: number;
  /** The attribute profile evaluated: the encoder of every outer fold never sees `excluded`. */
  profile: AttributeProfile;
  /** Bias mitigation inside each outer fold (`reweigh`: Kamiran–Calders weights of the outer-training rows). */
  mitigation: Mitigation;
}

/** `models/PROTOCOL.md`'s settings, fixed before any nested figure was produced. */
export const DEFAULT_NESTED_OPTIONS: NestedOptions = {
  repeats: 5,
  folds: 10,
  seed: 20261128,
  trials: 30,
  innerFolds: 5,
  searchRepeats: 2,
  searchTrees: 200,
  trees: 600,
  objective: "cost",
  minAccuracy: 0.7,
  workers: 2,
  profile: FULL_PROFILE,
  mitigation: "none",
};

/** What one outer fold's pipeline needs, as plain data a worker can receive. */
export interface FoldInput {
  repeat: number;
  fold: number;
  /** Index of the fold in (repeat, fold) order: seeds derive from it. */
  index: number;
  /** Table rows of the outer-training and outer-test parts. */
  train: Int32Array;
  test: Int32Array;
  encodings: Record<"true" | "false", { train: Matrix; test: Matrix }>;
  yTrain: Uint8Array;
  yTest: Uint8Array;
  /** Reweighing weights of the outer-training rows (from their protected attributes), when mitigating. */
  weights?: Float64Array;
}

/** One outer fold's outcome: the choices made on its training part and its test rows' scores. */
export interface FoldOutcome {
  repeat: number;
  fold: number;
  n_train: number;
  n_test: number;
  /** The searched hyperparameters the fold's TPE chose. */
  params: Hyperparameters;
  /** Decision threshold on P(bad), and the same cut on the PD (the 1/6 rule). */
  threshold: number;
  pd_threshold: number;
  /** The fold's search objective of its best trial (inner CV, cross-fitted thresholds). */
  inner_cv_value: number;
  trials: { complete: number; pruned: number; failed: number };
  cost: number;
  roc_auc: number;
  recall_bad: number;
  specificity: number;
  accuracy: number;
  brier_pd: number;
  brier_raw: number;
  duration_ms: number;
  /** Test rows' P(bad) and PD, in the order of `test`. */
  probabilities: Float64Array;
  pd: Float64Array;
}

/** The outer folds of the protocol: repeated stratified K-fold of all labelled rows. */
export function outerFolds(y: Uint8Array, options: Pick<NestedOptions, "repeats" | "folds" | "seed">) {
  return repeatedStratifiedKFold(y, { k: options.folds, repeats: options.repeats, seed: options.seed });
}

/**
 * Encodes one outer fold (the encoder learns its levels from the outer-training rows only): the
 * only stage that needs the data frame, so it runs in the main thread.
 */
export function prepareFold(
  table: CreditTable,
  y: Uint8Array,
  outer: RepeatedFold,
  index: number,
  observer?: RowObserver,
  excluded: readonly AttributeName[] = [],
  mitigation: Mitigation = "none",
): FoldInput {
  const encodings: Encodings = encode(table, outer, observer, excluded);
  const strip = (e: Encodings["true"]) => ({ train: e.train, test: e.test });
  const yTrain = takeValues(y, outer.train);
  let weights: Float64Array | undefined;
  if (mitigation === "reweigh") {
    // The protected attributes of the outer-training rows only, read here and never encoded.
    observer?.("reweigh", outer.train);
    const applicants = toApplicants(selectRows(table.frame, outer.train));
    weights = reweighingWeights(applicants.map(fairnessCell), yTrain);
  }
  return {
    repeat: outer.repeat,
    fold: outer.fold,
    index,
    train: outer.train,
    test: outer.test,
    encodings: { true: strip(encodings.true), false: strip(encodings.false) },
    yTrain,
    yTest: takeValues(y, outer.test),
    ...(weights ? { weights } : {}),
  };
}

/**
 * The rest of `train()` on the outer-training part — search, threshold, calibration, final fit —
 * then one scoring of the outer test part. `observer` sees table row numbers.
 */
export async function fitAndScoreFold(
  input: FoldInput,
  options: NestedOptions,
  observer?: RowObserver,
): Promise<FoldOutcome> {
  const started = performance.now();
  const { yTrain, yTest } = input;
  const local = mapRows(observer, input.train);
  const seed = options.seed + input.index;
  const searchFolds = Array.from(
    { length: options.searchRepeats },
    (_, r) => stratifiedKFold(yTrain, { k: options.innerFolds, seed: seed + r }),
  );
  const encodings = {
    true: { ...input.encodings.true, encoder: undefined as never },
    false: { ...input.encodings.false, encoder: undefined as never },
  };
  const weights = input.weights;
  const study = await search({ encodings, yTrain, searchFolds, observer: local, weights }, {
    objective: options.objective,
    minAccuracy: options.minAccuracy,
    trials: options.trials,
    folds: options.innerFolds,
    seed,
    searchTrees: options.searchTrees,
    studyName: `nested-r${input.repeat}-f${input.fold}`,
  });
  const best = study.bestTrial!;
  const { forest: chosen, engineered, hyperparameters } = replayParams(best.params);
  const X = input.encodings[String(engineered) as "true" | "false"];
  const forest: Partial<ForestOptions> = { ...chosen, nEstimators: options.trees, seed };
  const choice = await chooseThreshold(
    { X: X.train, y: yTrain, folds: searchFolds[0], forest, observer: local, weights },
    options,
  );
  const calibrator = calibrate(yTrain, choice.oof, local);
  const model = fitFinal(X.train, yTrain, forest, local, weights);
  // The outer test rows, scored once.
  const probabilities = model.predictProba(X.test);
  const pd = calibrator.transformAll(probabilities);
  const report = metricsReport(yTest, probabilities, choice.threshold);
  const states = study.trials.map((t) => t.state);
  return {
    repeat: input.repeat,
    fold: input.fold,
    n_train: yTrain.length,
    n_test: yTest.length,
    params: hyperparameters,
    threshold: choice.threshold,
    pd_threshold: calibrator.transform(choice.threshold),
    inner_cv_value: best.value!,
    trials: {
      complete: states.filter((s) => s === "complete").length,
      pruned: states.filter((s) => s === "pruned").length,
      failed: states.filter((s) => s === "failed").length,
    },
    cost: report.cost,
    roc_auc: report.roc_auc,
    recall_bad: report.recall_bad,
    specificity: report.specificity,
    accuracy: report.accuracy,
    brier_pd: brierScore(yTest, pd),
    brier_raw: report.brier,
    duration_ms: Math.round(performance.now() - started),
    probabilities,
    pd,
  };
}

/** Progress of a nested evaluation: folds done of all, and the one just finished. */
export type NestedProgress = (done: number, total: number, outcome: FoldOutcome) => void;

/**
 * Runs every outer fold — on `options.workers` Web Workers, or in this thread when 0 (then
 * `observer` sees every table row reaching a fit, search, calibration or threshold choice, tagged
 * with the outer fold it belongs to) — and returns the outcomes in (repeat, fold) order.
 */
export async function runNestedFolds(
  table: CreditTable,
  y: Uint8Array,
  outer: readonly RepeatedFold[],
  options: NestedOptions,
  hooks: { onFold?: NestedProgress; observer?: (fold: RepeatedFold, stage: string, rows: number[]) => void } =
    {},
): Promise<FoldOutcome[]> {
  const outcomes: FoldOutcome[] = new Array(outer.length);
  let done = 0;
  const finish = (i: number, outcome: FoldOutcome) => {
    outcomes[i] = outcome;
    hooks.onFold?.(++done, outer.length, outcome);
  };
  if (options.workers <= 0) {
    for (let i = 0; i < outer.length; i++) {
      const see = hooks.observer;
      const observer: RowObserver | undefined = see &&
        ((stage, rows) => see(outer[i], stage, Array.from(rows)));
      const input = prepareFold(
        table,
        y,
        outer[i],
        i,
        observer,
        options.profile.excluded,
        options.mitigation,
      );
      finish(i, await fitAndScoreFold(input, options, observer));
    }
    return outcomes;
  }
  let next = 0;
  const workers = Array.from(
    { length: Math.min(options.workers, outer.length) },
    () => new Worker(new URL("./nested_worker.ts", import.meta.url).href, { type: "module" }),
  );
  try {
    await Promise.all(workers.map(async (worker) => {
      while (next < outer.length) {
        const i = next++;
        const input = prepareFold(
          table,
          y,
          outer[i],
          i,
          undefined,
          options.profile.excluded,
          options.mitigation,
        );
        finish(i, await runOnWorker(worker, input, options));
      }
    }));
  } finally {
    for (const worker of workers) worker.terminate();
  }
  return outcomes;
}

/** A request to `nested_worker.ts`. */
export interface NestedRequest {
  input: FoldInput;
  options: NestedOptions;
}

/** A reply of `nested_worker.ts`. */
export type NestedResponse = { outcome: FoldOutcome } | { error: string };

function runOnWorker(worker: Worker, input: FoldInput, options: NestedOptions): Promise<FoldOutcome> {
  return new Promise<FoldOutcome>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<NestedResponse>) => {
      const message = event.data;
      if ("error" in message) reject(new Error(`nested fold failed: ${message.error}`));
      else resolve(message.outcome);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      reject(new Error(`nested worker failed: ${event.message}`));
    };
    worker.postMessage({ input, options } satisfies NestedRequest);
  });
}

/** The choices held fixed before the nested evaluation (`models/PROTOCOL.md`), as recorded in nested.json. */
export function fixedChoices(options: NestedOptions): Record<string, unknown> {
  const { nEstimators: _n, seed: _s, nJobs: _j, ...forestDefaults } = DEFAULT_FOREST_OPTIONS as ForestOptions;
  return {
    protocol: "models/PROTOCOL.md",
    attribute_profile: { ...options.profile, rule: describeProfile(options.profile) },
    mitigation: options.mitigation === "reweigh"
      ? "reweighing (Kamiran & Calders): outer-training rows weighted P(s)P(y)/P(s,y), s = age < 25 × female; weights multiply bootstrap counts"
      : "none",
    decision_rule: "decline when the Platt-calibrated PD ≥ 1/6 (FP / (FP + FN) of the cost matrix)",
    calibration: "Platt scaling on logit P(bad), fitted on inner out-of-fold predictions",
    objective: options.objective,
    final_trees: options.trees,
    search_trees: options.searchTrees,
    trials: options.trials,
    sampler: "TPE",
    pruner: "median (5 startup trials, 1 warm-up step)",
    inner_cv: `${options.searchRepeats} × ${options.innerFolds}-fold stratified, reshuffled`,
    search_objective:
      "mean over inner repeats of the cross-fitted objective (each inner fold at a threshold chosen on the other folds)",
    forest_defaults: forestDefaults,
    search_space: "suggestParams in pipeline/model/search_space.ts",
    costs: { bad_approved: 5, good_declined: 1 },
  };
}

/**
 * Per-metric summary of the outer folds: mean, SD across folds (labelled `sd`), naive SE and the
 * corrected resampled-t SE (`corrected_se`, Nadeau & Bengio 2003), by `compare.ts`.
 */
export function summariseOutcomes(outcomes: readonly FoldOutcome[]): Record<string, FoldSummary> {
  const ratio = testTrainRatio(outcomes);
  return Object.fromEntries(NESTED_METRICS.map((m) => [m, summariseFolds(outcomes.map((o) => o[m]), ratio)]));
}

/** The metrics nested.json summarises per fold. */
export const NESTED_METRICS = [
  "cost",
  "roc_auc",
  "recall_bad",
  "specificity",
  "accuracy",
  "brier_pd",
  "brier_raw",
] as const;
