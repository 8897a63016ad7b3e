/**
 * The stages of training, each a function with typed inputs and outputs, in the order `train()`
 * runs them: {@link encode} → {@link search} → {@link chooseThreshold} → {@link calibrate} →
 * {@link fitFinal} → {@link evaluateOnTest} → {@link plainBaseline} → {@link buildArtifact} →
 * {@link writeRun}. None starts or ends a run; `train.ts` wraps each in its run step.
 * @module
 */

import { PlattCalibrator, reliabilityCurve } from "./calibration.ts";
import { buildReference } from "../monitoring/reference.ts";
import { type CreditTable, selectRows, type toApplicants } from "../data/etl.ts";
import { fairnessReport } from "../monitoring/fairness.ts";
import { type FairnessIntervals, fairnessIntervalsOfDecisions } from "../monitoring/fairness_intervals.ts";
import type { AttributeInfluence } from "./reasons.ts";
import { FeatureEncoder } from "../features/encoder.ts";
import { BalancedRandomForest, type ForestOptions, type Matrix } from "../forest/mod.ts";
import {
  brierScore,
  type MetricsReport,
  metricsReport,
  prCurve,
  rocCurve,
  thresholdSweep,
} from "./metrics.ts";
import { MODEL_FORMAT_VERSION, type ModelArtifact } from "./artifact.ts";
import { DEFAULT_SCORE_SCALE } from "./scorecard.ts";
import {
  allRows,
  crossFittedObjective,
  type Objective,
  objectiveAt,
  objectiveDirection,
  outOfFoldProbabilities,
  type RowObserver,
  scoreObjective,
  takeRows,
  takeValues,
} from "./objective.ts";
import { suggestParams } from "./search_space.ts";
import { type AttributeName, SCHEMA_VERSION } from "../data/schema.ts";
import { type AttributeProfile, FULL_PROFILE } from "../data/profile.ts";
import type { Mitigation } from "./reweigh.ts";
import type { Fold } from "../data/split.ts";
import { mean } from "../stats.ts";
import { UserError } from "../errors.ts";
import {
  CURVES,
  FEATURE_IMPORTANCES,
  type Hyperparameters,
  PREDICTIONS,
  type Run,
  TRIALS,
} from "../tracking/mod.ts";
import {
  createStudy,
  type FrozenTrial,
  MedianPruner,
  type Study,
  TPESampler,
  TrialPruned,
} from "../tune/mod.ts";

/** One encoding of the data, fitted on the training part's category levels. */
export interface EncodedSplit {
  encoder: FeatureEncoder;
  train: Matrix;
  test: Matrix;
}

/** Both encodings (with and without engineered features): the search chooses between them. */
export type Encodings = Record<"true" | "false", EncodedSplit>;

/**
 * The encodings of the data; the encoders learn only which levels the training part holds, and
 * never see the `excluded` attributes (the attribute profile) nor features derived from them.
 */
export function encode(
  table: CreditTable,
  split: Fold,
  observer?: RowObserver,
  excluded: readonly AttributeName[] = [],
): Encodings {
  observer?.("encoder", split.train);
  const trainFrame = selectRows(table.frame, split.train);
  const one = (engineered: boolean): EncodedSplit => {
    const encoder = FeatureEncoder.fit(trainFrame, { engineered, excluded });
    const all = encoder.transformFrame(table.frame);
    return { encoder, train: takeRows(all, split.train), test: takeRows(all, split.test) };
  };
  return { true: one(true), false: one(false) };
}

/** How an objective is scored and a threshold chosen on labelled probabilities. */
export interface ObjectiveOptions {
  objective: Objective;
  /** The accuracy floor of the recall objective. */
  minAccuracy: number;
}

/** The search's settings. */
export interface SearchOptions extends ObjectiveOptions {
  trials: number;
  folds: number;
  seed: number;
  timeoutMs?: number;
  /** Trees per forest while searching. */
  searchTrees: number;
  studyName: string;
  /** Called after each trial. */
  onTrial?: (study: Study) => void;
}

/**
 * The hyperparameter search: TPE with median pruning; each trial is scored by the mean objective
 * over `searchFolds` (reshuffled CV repeats on the training part). No fold is scored at a threshold
 * fitted on its own rows: a repeat's value is {@link crossFittedObjective} (each fold's threshold
 * chosen on the other folds' out-of-fold rows), and the pruner sees, after each fold, the mean of
 * fold values whose threshold was chosen on the out-of-fold rows scored before it, less the fold's
 * own (the trial's very first fold has none, so it is not reported). Throws when no trial completes.
 */
export async function search(
  input: {
    encodings: Encodings;
    yTrain: Uint8Array;
    searchFolds: readonly (readonly Fold[])[];
    observer?: RowObserver;
    /** Row weights of the training part (reweighing), or none. */
    weights?: Float64Array;
  },
  options: SearchOptions,
): Promise<Study> {
  const { encodings, yTrain, searchFolds, observer, weights } = input;
  const study = createStudy({
    direction: objectiveDirection(options.objective),
    sampler: new TPESampler({ seed: options.seed }),
    pruner: new MedianPruner({ nStartupTrials: 5, nWarmupSteps: 1 }),
    seed: options.seed,
    studyName: options.studyName,
  });
  await study.optimize(async (trial) => {
    const { forest, engineered } = suggestParams(trial);
    const X = encodings[String(engineered) as "true" | "false"].train;
    const foldValues: number[] = [];
    // Each repeat reshuffles the folds: averaging over repeats steadies a noisy objective.
    const repeatValues: number[] = [];
    // Out-of-fold rows scored so far in this trial (any repeat): where a fold's threshold comes from.
    const pooledRows: number[] = [];
    const pooledP: number[] = [];
    for (let r = 0; r < searchFolds.length; r++) {
      const oof = await outOfFoldProbabilities(
        X,
        yTrain,
        searchFolds[r],
        { ...forest, nEstimators: options.searchTrees, seed: options.seed + 1000 * r },
        (k, rows, p) => {
          const own = new Set(rows);
          const others = pooledRows.flatMap((row, i) => own.has(row) ? [] : [i]);
          for (let i = 0; i < rows.length; i++) pooledRows.push(rows[i]), pooledP.push(p[i]);
          if (others.length === 0) return;
          observer?.("search.threshold", others.map((i) => pooledRows[i]));
          const threshold = scoreObjective(
            options.objective,
            others.map((i) => yTrain[pooledRows[i]]),
            others.map((i) => pooledP[i]),
            options.minAccuracy,
          ).threshold;
          foldValues.push(objectiveAt(options.objective, takeValues(yTrain, rows), p, threshold));
          trial.report(mean(foldValues), r * options.folds + k);
          if (trial.shouldPrune()) throw new TrialPruned(`pruned after fold ${r * options.folds + k + 1}`);
        },
        observer && ((stage, rows) => observer(`search.${stage}`, rows)),
        weights,
      );
      observer?.("search.threshold", allRows(yTrain.length));
      repeatValues.push(
        crossFittedObjective(options.objective, yTrain, oof, searchFolds[r], options.minAccuracy),
      );
      if (r === 0) {
        trial.setUserAttr(
          "threshold",
          scoreObjective(options.objective, yTrain, oof, options.minAccuracy).threshold,
        );
      }
    }
    trial.setUserAttr("fold_values", foldValues);
    trial.setUserAttr("repeat_values", repeatValues);
    return mean(repeatValues);
  }, {
    nTrials: options.trials,
    timeoutMs: options.timeoutMs,
    callbacks: [(s) => options.onTrial?.(s)],
  });
  if (!study.bestTrial) throw new UserError("no trial completed; see trials.csv for the errors");
  return study;
}

/** The decision threshold and what the chosen configuration scores out of fold. */
export interface ThresholdChoice {
  threshold: number;
  /**
   * The objective on the out-of-fold predictions, each fold at a threshold chosen on the other
   * folds' rows ({@link crossFittedObjective}): no row scored at a threshold fitted on itself.
   */
  cvValue: number;
  /** The objective at {@link threshold} on the same rows that chose it: optimistic (winner's curse), kept for comparison. */
  cvValueSameRows: number;
  /** Out-of-fold P(bad) of the training part. */
  oof: Float64Array;
  cvReport: MetricsReport;
}

/**
 * The threshold, chosen on out-of-fold predictions of the training part for the final
 * configuration, with the same folds: no test row ever touches it.
 */
export async function chooseThreshold(
  input: {
    X: Matrix;
    y: Uint8Array;
    folds: readonly Fold[];
    forest: Partial<ForestOptions>;
    observer?: RowObserver;
    /** Row weights of `X` (reweighing), or none. */
    weights?: Float64Array;
  },
  options: ObjectiveOptions,
): Promise<ThresholdChoice> {
  const { observer } = input;
  const oof = await outOfFoldProbabilities(
    input.X,
    input.y,
    input.folds,
    input.forest,
    undefined,
    observer && ((stage, rows) => observer(`threshold.${stage}`, rows)),
    input.weights,
  );
  observer?.("threshold.choice", allRows(input.y.length));
  const { threshold, value } = scoreObjective(options.objective, input.y, oof, options.minAccuracy);
  return {
    threshold,
    cvValue: crossFittedObjective(options.objective, input.y, oof, input.folds, options.minAccuracy),
    cvValueSameRows: value,
    oof,
    cvReport: metricsReport(input.y, oof, threshold),
  };
}

/** Platt scaling of P(bad) into a probability of default, fitted on out-of-fold predictions. */
export function calibrate(y: Uint8Array, oof: Float64Array, observer?: RowObserver): PlattCalibrator {
  observer?.("calibrate", allRows(y.length));
  return PlattCalibrator.fit(y, oof);
}

/** The final forest, on the whole training part (rows weighted by `weights` when reweighing). */
export function fitFinal(
  X: Matrix,
  y: Uint8Array,
  forest: Partial<ForestOptions>,
  observer?: RowObserver,
  weights?: Float64Array,
): BalancedRandomForest {
  observer?.("fit", allRows(y.length));
  return new BalancedRandomForest(forest).fit(X, y, weights);
}

/** How the calibrated PD fares on the test part. */
export interface CalibrationSummary {
  method: string;
  parameters: ReturnType<PlattCalibrator["toJSON"]>;
  pd_threshold: number;
  test_brier_raw: number;
  test_brier_calibrated: number;
  test_mean_pd: number;
  test_bad_rate: number;
}

/** Everything measured once on the held-out test part. */
export interface TestEvaluation {
  probabilities: Float64Array;
  pd: Float64Array;
  report: MetricsReport;
  calibration: CalibrationSummary;
  fairness: { test: ReturnType<typeof fairnessReport>; cv_out_of_fold: ReturnType<typeof fairnessReport> };
  /** The same groups' figures with bootstrap 95 % intervals (`monitoring/fairness_intervals.ts`). */
  fairnessIntervals: { test: FairnessIntervals; cv_out_of_fold: FairnessIntervals };
}

/** The one evaluation on the test part: metrics at the threshold, calibration and fairness (with the out-of-fold view). */
export function evaluateOnTest(input: {
  forest: BalancedRandomForest;
  calibrator: PlattCalibrator;
  choice: ThresholdChoice;
  XTest: Matrix;
  yTest: Uint8Array;
  yTrain: Uint8Array;
  applicants: { train: Applicants; test: Applicants };
}): TestEvaluation {
  const { forest, calibrator, choice: { threshold, oof }, yTest } = input;
  const probabilities = forest.predictProba(input.XTest);
  const pd = calibrator.transformAll(probabilities);
  const testDeclined = Array.from(probabilities, (p) => p >= threshold);
  const oofDeclined = Array.from(oof, (p) => p >= threshold);
  return {
    probabilities,
    pd,
    report: metricsReport(yTest, probabilities, threshold),
    calibration: {
      method: "Platt scaling on the logit of P(bad), fitted on out-of-fold predictions of the training part",
      parameters: calibrator.toJSON(),
      pd_threshold: calibrator.transform(threshold),
      test_brier_raw: brierScore(yTest, probabilities),
      test_brier_calibrated: brierScore(yTest, pd),
      test_mean_pd: mean(pd),
      test_bad_rate: mean(yTest),
    },
    fairness: {
      test: fairnessReport(input.applicants.test, yTest, testDeclined),
      cv_out_of_fold: fairnessReport(input.applicants.train, input.yTrain, oofDeclined),
    },
    fairnessIntervals: {
      test: fairnessIntervalsOfDecisions(input.applicants.test, yTest, testDeclined, pd),
      // The calibrator was fitted on these out-of-fold scores: their within-group calibration is in-sample.
      cv_out_of_fold: fairnessIntervalsOfDecisions(
        input.applicants.train,
        input.yTrain,
        oofDeclined,
        calibrator.transformAll(oof),
      ),
    },
  };
}

type Applicants = ReturnType<typeof toApplicants>;

/** A plain forest's test metrics at its own out-of-fold threshold and at 0.5. */
export interface BaselineReport {
  at_own_threshold: MetricsReport;
  at_0_5: MetricsReport;
}

/** The same configuration as a plain (unbalanced) forest, its threshold chosen the same way. */
export async function plainBaseline(
  input: { encoded: EncodedSplit; yTrain: Uint8Array; yTest: Uint8Array; folds: readonly Fold[] },
  forest: Partial<ForestOptions>,
  options: ObjectiveOptions,
): Promise<BaselineReport> {
  const { encoded, yTrain, yTest } = input;
  const plain = { ...forest, balanced: false };
  const baselineOof = await outOfFoldProbabilities(encoded.train, yTrain, input.folds, plain);
  const baselineThreshold =
    scoreObjective(options.objective, yTrain, baselineOof, options.minAccuracy).threshold;
  const model = new BalancedRandomForest(plain).fit(encoded.train, yTrain);
  const p = model.predictProba(encoded.test);
  return {
    at_own_threshold: metricsReport(yTest, p, baselineThreshold),
    at_0_5: metricsReport(yTest, p, 0.5),
  };
}

/** Where every number of a run comes from, in words. */
export type Protocol = Record<"split" | "cv" | "threshold" | "test", string>;

/** The model artifact: encoder, forest, threshold, calibrator, drift reference and headline metrics. */
export function buildArtifact(input: {
  runId: string;
  options: { objective: Objective; dataPath: string };
  params: Record<string, unknown>;
  encoder: FeatureEncoder;
  forest: BalancedRandomForest;
  calibrator: PlattCalibrator;
  choice: ThresholdChoice;
  evaluation: TestEvaluation;
  trainApplicants: Applicants;
  protocol: Protocol;
  profile?: AttributeProfile;
  mitigation?: Mitigation;
}): ModelArtifact {
  const { options, choice, evaluation } = input;
  const profile = input.profile ?? FULL_PROFILE;
  return {
    format_version: MODEL_FORMAT_VERSION,
    schema_version: SCHEMA_VERSION,
    run_id: input.runId,
    created_at: new Date().toISOString(),
    objective: options.objective,
    threshold: choice.threshold,
    calibrator: input.calibrator.toJSON(),
    score_scale: DEFAULT_SCORE_SCALE,
    params: input.params,
    attribute_profile: { name: profile.name, excluded: [...profile.excluded] },
    mitigation: input.mitigation ?? "none",
    encoder: input.encoder.toJSON(),
    forest: input.forest.toJSON(),
    // Drift monitoring compares served traffic with the training part and its out-of-fold scores.
    reference: buildReference(input.trainApplicants, choice.oof, {
      source: `training part of ${options.dataPath} (${input.trainApplicants.length} rows)`,
      score: "P(bad) out of fold on the training part",
    }),
    metrics: {
      protocol: input.protocol,
      test: summary(evaluation.report),
      cv: { objective: options.objective, value: choice.cvValue },
      calibration: {
        pd_threshold: evaluation.calibration.pd_threshold,
        test_brier_calibrated: evaluation.calibration.test_brier_calibrated,
      },
    },
  };
}

/** Records the chosen hyperparameters, the metrics and every artifact in the run. */
export async function writeRun(run: Run, input: {
  objective: Objective;
  hyperparameters: Hyperparameters;
  best: FrozenTrial;
  study: Study;
  choice: ThresholdChoice;
  evaluation: TestEvaluation;
  baseline: BaselineReport;
  protocol: Protocol;
  predictions: { rows: ArrayLike<number>; yTrain: Uint8Array; yTest: Uint8Array };
  importances: { names: readonly string[]; values: ArrayLike<number> };
  artifact: ModelArtifact;
  /** How much the model leans on each attribute (protected ones included), on the test split. */
  influence?: { rows: string; measure: string; ranking: AttributeInfluence[] };
}): Promise<void> {
  const { choice, evaluation } = input;
  const { rows, yTrain, yTest } = input.predictions;
  await run.logParams({ model: input.hyperparameters, best_trial: input.best.number });
  await run.logMetrics("cv", {
    objective: input.objective,
    value: choice.cvValue,
    value_rule: "each fold at a threshold chosen on the other folds' out-of-fold rows (cross-fitted)",
    value_same_rows: choice.cvValueSameRows,
    best_trial_value: input.best.value,
    fold_values: input.best.userAttrs.fold_values,
    out_of_fold: choice.cvReport,
  });
  // `brier` is of the raw balanced-forest score P(bad); `pd_brier` of the calibrated PD the service returns.
  await run.logMetrics("test", {
    ...evaluation.report,
    pd_brier: evaluation.calibration.test_brier_calibrated,
  });
  await run.logMetrics("baseline_test", input.baseline);
  await run.logMetrics("threshold", choice.threshold);
  await run.logMetrics("calibration", evaluation.calibration);
  await run.logMetrics("fairness", evaluation.fairness);
  await run.logMetrics("fairness_intervals", evaluation.fairnessIntervals);
  if (input.influence) await run.logMetrics("attribute_influence", input.influence);
  await run.logMetrics("protocol", input.protocol);
  await run.logFile(TRIALS, input.study.trials);
  await run.logFile(
    PREDICTIONS,
    Array.from(rows, (row, i) => ({ row, label: yTest[i], probability: evaluation.probabilities[i] })),
  );
  await run.logFile(CURVES, {
    roc: rocCurve(yTest, evaluation.probabilities),
    pr: prCurve(yTest, evaluation.probabilities),
    threshold_sweep: thresholdSweep(yTest, evaluation.probabilities),
    cv_threshold_sweep: thresholdSweep(yTrain, choice.oof),
    reliability: {
      raw: reliabilityCurve(yTest, evaluation.probabilities),
      calibrated: reliabilityCurve(yTest, evaluation.pd),
    },
  });
  const { names, values } = input.importances;
  await run.logFile(
    FEATURE_IMPORTANCES,
    names.map((name, i) => ({ name, importance: values[i] })).sort((a, b) => b.importance - a.importance),
  );
  await run.logArtifact("model.json", JSON.stringify(input.artifact));
}

/** The headline numbers of a report, without its confusion counts and threshold. */
export function summary(report: MetricsReport): Record<string, number> {
  const { confusion: _confusion, threshold: _threshold, ...numbers } = report;
  return numbers;
}
