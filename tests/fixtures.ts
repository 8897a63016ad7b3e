/**
 * Shared test fixtures: a small but real model trained on `data/german.data`, saved in the
 * `ModelArtifact` format and registered in a temporary models folder exactly as training does, so
 * tests of the server, the scoring CLI and later the explanations run against the real pipeline.
 *
 * ```ts
 * const fixture = await trainFixtureModel({ nEstimators: 40 });
 * try {
 *   // fixture.modelsDir holds registry.json and runs/<run_id>/model.json
 * } finally {
 *   await fixture.cleanup();
 * }
 * ```
 * @module
 */

import { PlattCalibrator } from "../pipeline/model/calibration.ts";
import { removeTree } from "./temp.ts";
import { type CreditTable, loadCreditTable, toApplicants } from "../pipeline/data/etl.ts";
import { FeatureEncoder } from "../pipeline/features/encoder.ts";
import { BalancedRandomForest } from "../pipeline/forest/mod.ts";
import { CreditModel, MODEL_FORMAT_VERSION, type ModelArtifact } from "../pipeline/model/artifact.ts";
import { type Applicant, ATTRIBUTE_NAMES, SCHEMA_VERSION } from "../pipeline/data/schema.ts";
import { DEFAULT_SCORE_SCALE } from "../pipeline/model/scorecard.ts";
import { type ModelVersion, registerModel, Run } from "../pipeline/tracking/mod.ts";

/** What {@link trainFixtureModel} accepts. */
export interface FixtureOptions {
  /** Trees in the forest (default 40: fast to train, real enough to test). */
  nEstimators?: number;
  /** Forest seed (default 1). */
  seed?: number;
  /** Decision threshold on P(bad) written into the artifact (default 0.5). */
  threshold?: number;
  /** Register into this folder instead of a fresh temporary one (e.g. to add a second version). */
  modelsDir?: string;
  /** Registry promotion (default "always": the new version becomes production). */
  promote?: "auto" | "always" | "never";
}

/** A trained, registered model and where it lives. */
export interface ModelFixture {
  /** The models folder (registry.json, runs/). */
  modelsDir: string;
  /** The artifact's absolute path. */
  artifactPath: string;
  /** The registry entry written for it. */
  version: ModelVersion;
  /** The artifact as written. */
  artifact: ModelArtifact;
  /** The model loaded back from disk through `CreditModel.load`. */
  model: CreditModel;
  /** Removes the temporary models folder (only when the fixture created it). */
  cleanup(): Promise<void>;
}

let germanTable: Promise<CreditTable> | undefined;

/** The 1,000 rows of `data/german.data`, loaded once per test process. */
export function germanCredit(): Promise<CreditTable> {
  germanTable ??= loadCreditTable(new URL("../data/german.data", import.meta.url).pathname);
  return germanTable;
}

/** The 1,000 rows as applicant records (the API's single-record shape). */
export async function germanApplicants(): Promise<Applicant[]> {
  return toApplicants((await germanCredit()).frame);
}

/** The data as CSV text with a header of attribute names and, optionally, an `id` column first. */
export async function germanCsv(options: { ids?: boolean; rows?: number } = {}): Promise<string> {
  const applicants = (await germanApplicants()).slice(0, options.rows);
  const header = [...(options.ids ? ["id"] : []), ...ATTRIBUTE_NAMES];
  const lines = applicants.map((a, i) =>
    [...(options.ids ? [`applicant-${i + 1}`] : []), ...ATTRIBUTE_NAMES.map((n) => String(a[n]))].join(",")
  );
  return [header.join(","), ...lines].join("\n") + "\n";
}

export { parseCsv } from "../pipeline/tracking/mod.ts";

/**
 * Trains a balanced forest on all 1,000 rows, writes the artifact as a run's `model.json`, and
 * registers it. Metrics and the Platt calibrator are in-sample and labelled so; they exist to fill
 * `/model` and the response, not to judge the model.
 */
export async function trainFixtureModel(options: FixtureOptions = {}): Promise<ModelFixture> {
  const created = options.modelsDir === undefined;
  const modelsDir = options.modelsDir ?? await Deno.makeTempDir({ prefix: "credit-models-" });
  try {
    const params = { nEstimators: options.nEstimators ?? 40, seed: options.seed ?? 1 };
    const threshold = options.threshold ?? 0.5;
    const fit: FittedFixture = JSON.parse(await fittedFixture(params, threshold));

    const run = await Run.start({ experiment: "fixture", modelsDir, tags: { source: "tests/fixtures.ts" } });
    await run.logParams(params);
    const metrics = {
      protocol: "fixture: fitted and measured on the same 1,000 rows (in-sample, for tests only)",
      test: fit.test,
    };
    await run.logMetrics("test", metrics.test);
    const artifact: ModelArtifact = {
      format_version: MODEL_FORMAT_VERSION,
      schema_version: SCHEMA_VERSION,
      run_id: run.id,
      created_at: new Date().toISOString(),
      objective: "cost",
      threshold,
      calibrator: fit.calibrator,
      score_scale: DEFAULT_SCORE_SCALE,
      params,
      encoder: fit.encoder,
      forest: fit.forest,
      metrics,
    };
    const artifactPath = await run.logArtifact("model.json", JSON.stringify(artifact));
    await run.finish();
    const { version } = await registerModel({
      run_id: run.id,
      artifact: `runs/${run.id}/model.json`,
      objective: "cost",
      objective_value: metrics.test.cost,
      direction: "minimize",
      metrics: metrics.test,
    }, { modelsDir, promote: options.promote ?? "always" });
    const { model } = await CreditModel.load(artifactPath, version.sha256);
    return {
      modelsDir,
      artifactPath: await Deno.realPath(artifactPath),
      version,
      artifact,
      model,
      cleanup: () => created ? removeTree(modelsDir) : Promise.resolve(),
    };
  } catch (error) {
    if (created) await Deno.remove(modelsDir, { recursive: true }).catch(() => {});
    throw error;
  }
}

/** What {@link trainFixtureModel} fits: the same for the same options, whatever the models folder. */
interface FittedFixture {
  encoder: ModelArtifact["encoder"];
  forest: ModelArtifact["forest"];
  calibrator: ModelArtifact["calibrator"];
  test: ReturnType<typeof inSampleMetrics>;
}

/**
 * Fits are cached per options for the life of the isolate, as JSON text so that no caller can change
 * another's artifact: a `deno task test:unit` shard holds some fifteen test files asking for a few
 * distinct settings. Each call still writes and registers its own run in its own folder.
 */
const fits = new Map<string, Promise<string>>();

function fittedFixture(params: { nEstimators: number; seed: number }, threshold: number): Promise<string> {
  const key = JSON.stringify([params.nEstimators, params.seed, threshold]);
  let fit = fits.get(key);
  if (fit === undefined) {
    fit = (async () => {
      const table = await germanCredit();
      const encoder = FeatureEncoder.fit(table.frame);
      const X = encoder.transformFrame(table.frame);
      const forest = new BalancedRandomForest(params).fit(X, table.bad!);
      const probabilities = forest.predictProba(X);
      const fitted: FittedFixture = {
        encoder: encoder.toJSON(),
        forest: forest.toJSON(),
        calibrator: PlattCalibrator.fit(table.bad!, probabilities).toJSON(),
        test: inSampleMetrics(probabilities, table.bad!, threshold),
      };
      return JSON.stringify(fitted);
    })();
    fits.set(key, fit);
    fit.catch(() => fits.delete(key));
  }
  return fit;
}

/** Accuracy, recall on bad risks and the 5:1 cost at `threshold`, on the rows the model was fitted on. */
function inSampleMetrics(p: Float64Array, bad: Uint8Array, threshold: number) {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < p.length; i++) {
    const declined = p[i] >= threshold;
    if (bad[i]) declined ? tp++ : fn++;
    else declined ? fp++ : tn++;
  }
  return {
    accuracy: (tp + tn) / p.length,
    recall_bad: tp / (tp + fn),
    cost: (5 * fn + fp) / p.length,
  };
}

const SERVE = new URL("../serve.ts", import.meta.url).pathname;

/** `serve.ts` in its own process on a random loopback port, writing only under `writable`. */
export function serveProcess(env: Record<string, string>, writable: string) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      `--allow-write=${writable}`,
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      SERVE,
    ],
    env: { HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "info", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}
