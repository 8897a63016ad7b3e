/**
 * `train()`: load → split → encode → search (K-fold CV on the training part only) → threshold on
 * out-of-fold predictions → calibrate → final fit → one evaluation on the held-out test part → how
 * much the model leans on each attribute → plain-forest baseline → write the run → register the
 * model. Each stage is a function of `train_stages.ts` run inside the run step of its name (load,
 * split, features, tune, threshold, calibrate, fit, evaluate, explain, baseline, write, register).
 * The attribute profile (`data/profile.ts`) decides what the encoder sees; with `reweigh` the
 * training rows carry Kamiran–Calders weights. The command line is `cli/train.ts`.
 * @module
 */

import { DEFAULT_DATA_PATH, loadCreditTable, toApplicants } from "../data/etl.ts";
import type { ForestOptions } from "../forest/mod.ts";
import type { MetricsReport } from "./metrics.ts";
import { modelCard } from "../report/model_card.ts";
import { type Objective, objectiveDirection, takeValues } from "./objective.ts";
import { replayParams } from "./search_space.ts";
import {
  buildArtifact,
  calibrate,
  chooseThreshold,
  encode,
  evaluateOnTest,
  fitFinal,
  plainBaseline,
  type Protocol,
  search,
  summary,
  writeRun,
} from "./train_stages.ts";
import { stratifiedKFold, stratifiedTrainTestSplit } from "../data/split.ts";
import { type AttributeProfile, FULL_PROFILE } from "../data/profile.ts";
import { fairnessCell, type Mitigation, reweighingWeights } from "./reweigh.ts";
import { AttributeExplainer, attributeInfluence } from "./reasons.ts";
import { ENGINEERED_FEATURES } from "../features/encoder.ts";
import { UserError } from "../errors.ts";
import {
  DEFAULT_MODELS_DIR,
  gitProvenance,
  registerModel,
  Run,
  runFileRef,
  sha256File,
} from "../tracking/mod.ts";
import type { Study } from "../tune/mod.ts";
import { type ModelSigningKey, signRun } from "./signature.ts";

export { type ModelConfiguration, replayParams, suggestParams } from "./search_space.ts";

/** Everything `train` needs to know; the CLI flags map onto it one to one. */
export interface TrainOptions {
  dataPath: string;
  modelsDir: string;
  experiment: string;
  trials: number;
  folds: number;
  objective: Objective;
  seed: number;
  timeoutMs?: number;
  testSize: number;
  minAccuracy: number;
  /** Cross-validation repeats per trial (reshuffled folds), averaged. */
  searchRepeats: number;
  /** Trees per forest while searching; enough to rank configurations. */
  searchTrees: number;
  /** Trees of the final model (and of the folds that choose its threshold). */
  trees: number;
  promote: "auto" | "always" | "never";
  /** The attributes the model may see (`data/profile.ts`); `full` by default. */
  profile: AttributeProfile;
  /** Bias mitigation at training time (`reweigh`: Kamiran–Calders row weights from the protected groups). */
  mitigation: Mitigation;
  /** When given, the registered artifact is signed with it (`model.json.sig`, see signature.ts). */
  signingKey?: ModelSigningKey;
  /** Called after each trial, for the progress bar. */
  onTrial?: (study: Study, done: number) => void;
}

/** Defaults of `deno task train`. */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  dataPath: DEFAULT_DATA_PATH,
  modelsDir: DEFAULT_MODELS_DIR,
  experiment: "german-credit",
  trials: 30,
  folds: 5,
  objective: "cost",
  seed: 42,
  testSize: 0.2,
  searchRepeats: 2,
  searchTrees: 200,
  trees: 600,
  minAccuracy: 0.7,
  promote: "auto",
  profile: FULL_PROFILE,
  mitigation: "none",
};

/** What a finished training run reports. */
export interface TrainResult {
  runId: string;
  runDir: string;
  /** The artifact's params: the final forest's options, the feature switch and the threshold. */
  params: Record<string, unknown>;
  threshold: number;
  /**
   * The CV objective, each fold at a threshold chosen on the other folds (`value`), and at the
   * threshold chosen on the same out-of-fold rows (`valueSameRows`, optimistic).
   */
  cv: { objective: Objective; value: number; valueSameRows: number };
  test: MetricsReport;
  baselineTest: MetricsReport;
  modelVersion: number;
  promoted: boolean;
  promotionReason: string;
  /** The signature file written, or null when no signing key was given. */
  signature: string | null;
  stepDurations: Record<string, number>;
  durationMs: number;
}

// ---------------------------------------------------------------------------------------------

/** Runs the whole training flow and returns its summary; the run is left `failed` on error. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const started = performance.now();
  const run = await Run.start({
    experiment: options.experiment,
    modelsDir: options.modelsDir,
    tags: {
      seed: String(options.seed),
      deno_version: Deno.version.deno,
      attribute_profile: options.profile.name,
      ...(await gitTags()),
    },
  });
  try {
    await run.logParams({
      data: options.dataPath,
      objective: options.objective,
      trials: options.trials,
      folds: options.folds,
      seed: options.seed,
      trees: options.trees,
      search_trees: options.searchTrees,
      test_size: options.testSize,
      min_accuracy: options.minAccuracy,
      timeout_ms: options.timeoutMs ?? null,
      sampler: "TPE",
      pruner: "median",
      attribute_profile: options.profile.name,
      excluded_attributes: [...options.profile.excluded],
      excluded_features: ENGINEERED_FEATURES
        .filter((f) => f.sources.some((s) => options.profile.excluded.includes(s)))
        .map((f) => f.name),
      mitigation: options.mitigation,
    });

    const table = await run.step("load", () => loadCreditTable(options.dataPath));
    await run.setTags({
      data_sha256: await sha256File(options.dataPath),
      data_rows: String(table.frame.height),
    });
    const y = table.bad;
    if (!y) throw new UserError(`${options.dataPath} has no class column to train on`);
    const split = await run.step(
      "split",
      () => stratifiedTrainTestSplit(y, { testSize: options.testSize, seed: options.seed }),
    );
    const yTrain = takeValues(y, split.train);
    const yTest = takeValues(y, split.test);
    const encodings = await run.step(
      "features",
      () => encode(table, split, undefined, options.profile.excluded),
    );
    const applicants = toApplicants(table.frame);
    const trainApplicants = Array.from(split.train, (r) => applicants[r]);
    // Reweighing reads the protected attributes of the training rows here, and nowhere else.
    const weights = options.mitigation === "reweigh"
      ? reweighingWeights(trainApplicants.map(fairnessCell), yTrain)
      : undefined;

    const folds = stratifiedKFold(yTrain, { k: options.folds, seed: options.seed });
    const searchFolds = [
      folds,
      ...Array.from(
        { length: options.searchRepeats - 1 },
        (_, r) => stratifiedKFold(yTrain, { k: options.folds, seed: options.seed + 1 + r }),
      ),
    ];
    const study = await run.step("tune", () =>
      search({ encodings, yTrain, searchFolds, weights }, {
        ...options,
        studyName: run.id,
        onTrial: (s) => {
          options.onTrial?.(s, s.trials.length);
          void run.heartbeat();
        },
      }));

    const best = study.bestTrial!;
    const { forest: chosen, engineered, hyperparameters } = replayParams(best.params);
    const encoded = encodings[String(engineered) as "true" | "false"];
    const forestParams: Partial<ForestOptions> = { ...chosen, nEstimators: options.trees };
    const seeded = { ...forestParams, seed: options.seed };

    const choice = await run.step(
      "threshold",
      () => chooseThreshold({ X: encoded.train, y: yTrain, folds, forest: seeded, weights }, options),
    );
    const calibrator = await run.step("calibrate", () => calibrate(yTrain, choice.oof));
    const forest = await run.step("fit", () => fitFinal(encoded.train, yTrain, seeded, undefined, weights));
    const evaluation = await run.step("evaluate", () =>
      evaluateOnTest({
        forest,
        calibrator,
        choice,
        XTest: encoded.test,
        yTest,
        yTrain,
        applicants: { train: trainApplicants, test: Array.from(split.test, (r) => applicants[r]) },
      }));
    const influence = await run.step("explain", () => ({
      rows: `held-out test part (${split.test.length} rows)`,
      measure: "mean |attribute-level TreeSHAP contribution to P(bad)|",
      ranking: attributeInfluence(
        new AttributeExplainer(encoded.encoder, forest),
        Array.from(split.test, (r) => applicants[r]),
      ),
    }));
    const baseline = await run.step(
      "baseline",
      () => plainBaseline({ encoded, yTrain, yTest, folds }, seeded, options),
    );

    const params = { ...forestParams, engineered_features: engineered, threshold: choice.threshold };
    const protocol: Protocol = {
      split: `stratified ${Math.round((1 - options.testSize) * 100)}/${
        Math.round(options.testSize * 100)
      } train/test split, seed ${options.seed}`,
      cv: `${options.folds}-fold stratified CV on the training part (${split.train.length} rows)`,
      threshold: `chosen on out-of-fold predictions of the training part (objective ${options.objective})`,
      test: `evaluated once on the held-out test part (${split.test.length} rows)`,
    };
    await run.step("write", () =>
      writeRun(run, {
        objective: options.objective,
        hyperparameters,
        best,
        study,
        choice,
        evaluation,
        baseline,
        protocol,
        predictions: { rows: Array.from(split.test, (row) => table.lineNumbers[row] - 1), yTrain, yTest },
        importances: { names: encoded.encoder.featureNames, values: forest.featureImportances() },
        influence,
        artifact: buildArtifact({
          runId: run.id,
          options,
          params,
          encoder: encoded.encoder,
          forest,
          calibrator,
          choice,
          evaluation,
          trainApplicants,
          protocol,
          profile: options.profile,
          mitigation: options.mitigation,
        }),
      }));

    const registration = await run.step("register", () =>
      registerModel({
        run_id: run.id,
        artifact: runFileRef(run.id, "model.json"),
        objective: options.objective,
        objective_value: choice.cvValue,
        direction: objectiveDirection(options.objective),
        metrics: { ...summary(evaluation.report), pd_brier: evaluation.calibration.test_brier_calibrated },
        attribute_profile: options.profile.name,
      }, { promote: options.promote, modelsDir: options.modelsDir }));
    // Signed once the registry has given the version the signature vouches for. Until then a server
    // that requires signatures refuses it on reload and keeps serving the model it has.
    const signingKey = options.signingKey;
    const signature = signingKey
      ? await run.step("sign", async () => (await signRun(run.id, signingKey, options.modelsDir)).path)
      : null;
    await run.setTags({
      model_version: String(registration.version.version),
      stage: registration.version.stage,
      ...(signingKey ? { signing_key: signingKey.id } : {}),
    });
    await run.finish();
    await run.logArtifact("MODEL_CARD.md", modelCard(run.record));

    return {
      runId: run.id,
      runDir: run.dir,
      params,
      threshold: choice.threshold,
      cv: { objective: options.objective, value: choice.cvValue, valueSameRows: choice.cvValueSameRows },
      test: evaluation.report,
      baselineTest: baseline.at_own_threshold,
      modelVersion: registration.version.version,
      promoted: registration.promoted,
      promotionReason: registration.reason,
      signature,
      stepDurations: Object.fromEntries(run.record.steps.map((s) => [s.name, s.duration_ms ?? 0])),
      durationMs: performance.now() - started,
    };
  } catch (error) {
    await run.fail(error as Error);
    throw error;
  }
}

/** The commit and dirty flag as run tags (`unknown` when git cannot tell). */
async function gitTags(): Promise<Record<string, string>> {
  const { git_commit, git_dirty } = await gitProvenance();
  return {
    git_commit: git_commit ?? "unknown",
    git_dirty: git_dirty === null ? "unknown" : String(git_dirty),
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

/** The final summary table of a training run (printed by `deno task train` and `deno task start`). */
export function formatSummary(result: TrainResult): string {
  const rows: [string, string, string][] = [
    ["ROC AUC", result.test.roc_auc.toFixed(3), result.baselineTest.roc_auc.toFixed(3)],
    ["recall (bad)", pct(result.test.recall_bad), pct(result.baselineTest.recall_bad)],
    ["specificity", pct(result.test.specificity), pct(result.baselineTest.specificity)],
    ["accuracy", pct(result.test.accuracy), pct(result.baselineTest.accuracy)],
    ["expected cost", result.test.cost.toFixed(3), result.baselineTest.cost.toFixed(3)],
    ["KS", result.test.ks.toFixed(3), result.baselineTest.ks.toFixed(3)],
  ];
  const lines = [
    `run ${result.runId}  (${(result.durationMs / 1000).toFixed(1)} s)`,
    `cv ${result.cv.objective}: ${result.cv.value.toFixed(4)}   threshold P(bad) ≥ ${
      result.threshold.toFixed(3)
    }`,
    "",
    `${"test split".padEnd(16)}${"balanced forest".padStart(18)}${"plain forest".padStart(16)}`,
    ...rows.map(([k, a, b]) => `${k.padEnd(16)}${a.padStart(18)}${b.padStart(16)}`),
    "",
    `model v${result.modelVersion}: ${result.promotionReason}`,
    ...(result.signature ? [`signed: ${result.signature}`] : []),
    `steps: ${
      Object.entries(result.stepDurations).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`).join(", ")
    }`,
  ];
  return lines.join("\n");
}
