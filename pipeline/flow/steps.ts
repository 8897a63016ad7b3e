/**
 * The retraining flow's steps: validate → drift → train → compare → gate → deploy → record. Each
 * is a {@link FlowStep} whose output is plain JSON (the checkpoint a resumed flow starts from).
 * Heavy (it imports the training code), so the flow imports it only when a step has to run.
 * @module
 */

import { describeProfile, FULL_PROFILE, resolveProfile } from "../data/profile.ts";
import { loadCreditTable, toApplicants } from "../data/etl.ts";
import { SCHEMA_VERSION } from "../data/schema.ts";
import { UserError } from "../errors.ts";
import { CreditModel } from "../model/artifact.ts";
import { runConfiguration } from "../model/evaluate.ts";
import { DEFAULT_TRAIN_OPTIONS, train } from "../model/train.ts";
import { DriftCounter } from "../monitoring/psi.ts";
import { storedReference } from "../monitoring/model_reference.ts";
import {
  type ModelVersion,
  PREDICTIONS,
  productionModel,
  promoteVersion,
  readRegistry,
  readRun,
  readRunFile,
  sha256File,
} from "../tracking/mod.ts";
import type { FlowConfig } from "./config.ts";
import {
  ARTIFACT_CHECK_Z,
  type ArtifactCheck,
  artifactCheck,
  gateMetric,
  PAIRED_METRICS,
  pairedCv,
  type PairedCvResult,
} from "./compare.ts";
import type { FlowStep, StepContext } from "./engine.ts";
import type { FlowOutcome } from "./record.ts";

/** What the validate step found. */
export interface ValidateOutput {
  data_path: string;
  data_sha256: string;
  rows: number;
  good: number;
  bad: number;
  schema_version: string;
  /** The production model's schema version (null without one); refused when it differs. */
  champion_schema_version: string | null;
}

/** The drift step's record: PSI of the new data against the production model's training reference. */
export interface DriftOutput {
  skipped: string | null;
  champion_version: number | null;
  reference: string | null;
  rows: number;
  worst: { name: string; psi: number; band: string } | null;
  bands: Record<string, number>;
  attributes: { name: string; psi: number | null; band: string | null }[];
}

/** The challenger the train step registered (a candidate). */
export interface TrainOutput {
  run_id: string;
  version: number;
  objective: string;
  cv_value: number;
  threshold: number;
  test: Record<string, number>;
  duration_ms: number;
}

/** The compare step's result: the champion it was compared with, and the paired comparison. */
export interface CompareOutput {
  champion: { version: number; run_id: string; sha256: string } | null;
  metric: string | null;
  result: PairedCvResult | null;
  /** Both fitted artifacts on the challenger's held-out test rows. */
  artifact: ArtifactCheck | null;
}

/** One check of the gate. */
export interface GateCheck {
  name: string;
  passed: boolean;
  detail: string;
}

/** The gate's decision. */
export interface GateOutput {
  decision: "promoted" | "kept_challenger";
  reason: string;
  checks: GateCheck[];
  production_version: number | null;
}

/** The deploy step's outcome per server. */
export interface DeployOutput {
  skipped: string | null;
  deployed: { url: string; model_version: number; sha256: string }[];
}

/** Where the flow's inputs are. */
export interface StepInputs {
  dataPath: string;
  dataSha256: string;
  config: FlowConfig;
  modelsDir: string;
}

/** The seven steps, in order. */
export function retrainingSteps(inputs: StepInputs): FlowStep[] {
  return [
    { name: "validate", run: (c) => validate(inputs, c), summary: (o) => pick(o, ["rows", "good", "bad"]) },
    { name: "drift", run: (c) => drift(inputs, c), summary: driftSummary },
    {
      name: "train",
      run: (c) => trainChallenger(inputs, c),
      summary: (o) => pick(o, ["run_id", "version", "objective", "cv_value"]),
    },
    { name: "compare", run: (c) => compare(inputs, c), summary: compareSummary },
    {
      name: "gate",
      run: (c) => gate(inputs, c),
      summary: (o) => pick(o, ["decision", "reason", "production_version"]),
    },
    {
      name: "deploy",
      run: (c) => deploy(inputs, c),
      summary: (o) => {
        const d = o as DeployOutput;
        return { skipped: d.skipped, servers: d.deployed.length };
      },
    },
    { name: "record", run: (c) => record(c), summary: (o) => pick(o, ["decision", "production_version"]) },
  ];
}

function pick(output: unknown, keys: string[]): Record<string, unknown> {
  const o = output as Record<string, unknown>;
  return Object.fromEntries(keys.map((k) => [k, o[k] ?? null]));
}

async function loadProduction(
  modelsDir: string,
): Promise<{ entry: ModelVersion; model: CreditModel } | null> {
  const entry = productionModel(await readRegistry(modelsDir));
  if (!entry) return null;
  const path = entry.artifact.startsWith("/") ? entry.artifact : `${modelsDir}/${entry.artifact}`;
  const { model } = await CreditModel.load(path, entry.sha256);
  return { entry, model };
}

async function validate(inputs: StepInputs, c: StepContext): Promise<ValidateOutput> {
  const table = await loadCreditTable(inputs.dataPath);
  // The data may have changed since the flow key was taken: the key would then name other data.
  const sha = await sha256File(inputs.dataPath);
  if (sha !== inputs.dataSha256) {
    throw new UserError(
      `${inputs.dataPath} changed after the flow was keyed on its content (now sha256 ${sha.slice(0, 12)}…)`,
    );
  }
  const y = table.bad;
  if (!y) throw new UserError(`${inputs.dataPath} has no class column: a flow needs labelled data`);
  const bad = y.reduce((s, v) => s + v, 0);
  const good = y.length - bad;
  const { train: t, compare: k } = inputs.config;
  const needed = Math.max(t.folds, k.folds) * k.inner_folds;
  if (Math.min(bad, good) < needed) {
    throw new UserError(
      `${inputs.dataPath} has ${good} good and ${bad} bad rows; each class needs at least ${needed} ` +
        `for ${Math.max(t.folds, k.folds)}-fold CV with ${k.inner_folds}-fold inner CV`,
    );
  }
  const production = await loadProduction(inputs.modelsDir);
  const championSchema = production?.model.artifact.schema_version ?? null;
  if (championSchema !== null && championSchema !== SCHEMA_VERSION) {
    throw new UserError(
      `the production model v${
        production!.entry.version
      } uses schema ${championSchema}, this code ${SCHEMA_VERSION}`,
    );
  }
  c.log(`${y.length} rows (${good} good, ${bad} bad), schema ${SCHEMA_VERSION}`);
  return {
    data_path: inputs.dataPath,
    data_sha256: sha,
    rows: y.length,
    good,
    bad,
    schema_version: SCHEMA_VERSION,
    champion_schema_version: championSchema,
  };
}

async function drift(inputs: StepInputs, c: StepContext): Promise<DriftOutput> {
  const none = (skipped: string, version: number | null): DriftOutput => ({
    skipped,
    champion_version: version,
    reference: null,
    rows: 0,
    worst: null,
    bands: {},
    attributes: [],
  });
  const production = await loadProduction(inputs.modelsDir);
  if (!production) return none("no production model to compare the data with", null);
  const reference = storedReference(production.model);
  if (!reference) {
    return none("the production model's artifact holds no training reference", production.entry.version);
  }
  const table = await loadCreditTable(inputs.dataPath);
  const counter = new DriftCounter(reference);
  for (const applicant of toApplicants(table.frame)) counter.add(applicant);
  const scores = production.model.probabilities(production.model.encoder.transformFrame(table.frame));
  for (const p of scores) counter.addScore(p);
  const report = counter.report();
  const rows = [...report.attributes, ...(report.score ? [report.score] : [])];
  const bands: Record<string, number> = { stable: 0, watch: 0, act: 0 };
  for (const d of rows) if (d.band) bands[d.band]++;
  if (report.worst) {
    c.log(`highest PSI ${report.worst.name} ${report.worst.psi.toFixed(3)} (${report.worst.band})`);
  }
  return {
    skipped: null,
    champion_version: production.entry.version,
    reference: report.reference.source,
    rows: report.rows,
    worst: report.worst,
    bands,
    attributes: rows.map((d) => ({ name: d.name, psi: d.psi, band: d.band })),
  };
}

function driftSummary(output: unknown): Record<string, unknown> {
  const d = output as DriftOutput;
  return {
    skipped: d.skipped,
    worst: d.worst ? `${d.worst.name} ${d.worst.psi.toFixed(3)} (${d.worst.band})` : null,
    stable: d.bands.stable ?? 0,
    watch: d.bands.watch ?? 0,
    act: d.bands.act ?? 0,
  };
}

async function trainChallenger(inputs: StepInputs, c: StepContext): Promise<TrainOutput> {
  const t = inputs.config.train;
  const profile = t.profile === "champion"
    ? (await loadProduction(inputs.modelsDir))?.model.profile ?? FULL_PROFILE
    : resolveProfile({ profile: t.profile });
  c.log(`challenger profile: ${describeProfile(profile)}`);
  const result = await train({
    ...DEFAULT_TRAIN_OPTIONS,
    profile,
    dataPath: inputs.dataPath,
    modelsDir: inputs.modelsDir,
    experiment: t.experiment,
    trials: t.trials,
    folds: t.folds,
    searchRepeats: t.search_repeats,
    searchTrees: t.search_trees,
    trees: t.trees,
    seed: t.seed,
    objective: t.objective,
    testSize: t.test_size,
    minAccuracy: t.min_accuracy,
    // The gate decides; the registry only records the challenger.
    promote: "never",
    onTrial: () => c.signal.throwIfAborted(),
  });
  c.log(`run ${result.runId} registered as candidate v${result.modelVersion}`);
  return {
    run_id: result.runId,
    version: result.modelVersion,
    objective: t.objective,
    cv_value: result.cv.value,
    threshold: result.threshold,
    test: Object.fromEntries(
      Object.entries(result.test).filter(([, v]) => typeof v === "number"),
    ) as Record<string, number>,
    duration_ms: Math.round(result.durationMs),
  };
}

async function compare(inputs: StepInputs, c: StepContext): Promise<CompareOutput> {
  const challenger = c.output<TrainOutput>("train");
  const champion = productionModel(await readRegistry(inputs.modelsDir));
  if (!champion) return { champion: null, metric: null, result: null, artifact: null };
  const [challengerRun, championRun] = await Promise.all([
    readRun(challenger.run_id, inputs.modelsDir),
    readRun(champion.run_id, inputs.modelsDir),
  ]);
  if (!challengerRun) throw new UserError(`the challenger's run ${challenger.run_id} is missing`);
  if (!championRun) {
    throw new UserError(`the champion's run ${champion.run_id} (v${champion.version}) is missing`);
  }
  const table = await loadCreditTable(inputs.dataPath);
  const k = inputs.config.compare;
  const result = await pairedCv(
    table,
    { challenger: runConfiguration(challengerRun), champion: runConfiguration(championRun) },
    { repeats: k.repeats, folds: k.folds, innerFolds: k.inner_folds, seed: k.seed, trees: k.trees },
    (done, total) => {
      if (done === total || done % 5 === 0) c.log(`fold ${done}/${total}`);
    },
    c.signal,
  );
  return {
    champion: { version: champion.version, run_id: champion.run_id, sha256: champion.sha256 },
    metric: gateMetric(inputs.config.train.objective),
    result,
    artifact: await heldOutArtifacts(inputs, table, challenger, champion),
  };
}

/** Both artifacts on the rows the challenger's run held out (its `predictions.csv`). */
async function heldOutArtifacts(
  inputs: StepInputs,
  table: Awaited<ReturnType<typeof loadCreditTable>>,
  challenger: TrainOutput,
  champion: ModelVersion,
): Promise<ArtifactCheck> {
  const registry = await readRegistry(inputs.modelsDir);
  const entry = registry.models.find((m) => m.version === challenger.version);
  if (!entry) throw new UserError(`the challenger v${challenger.version} is not in the registry`);
  const load = async (m: ModelVersion) =>
    (await CreditModel.load(
      m.artifact.startsWith("/") ? m.artifact : `${inputs.modelsDir}/${m.artifact}`,
      m.sha256,
    )).model;
  const predictions = await readRunFile(PREDICTIONS, challenger.run_id, inputs.modelsDir);
  if (!predictions) throw new UserError(`the challenger's run ${challenger.run_id} has no predictions.csv`);
  // predictions.csv names rows by their 0-based line in the data file.
  const byLine = new Map(Array.from(table.lineNumbers, (line, i) => [line - 1, i]));
  const rows = predictions.map((p) => {
    const row = byLine.get(p.row);
    if (row === undefined) {
      throw new UserError(`the challenger's held-out line ${p.row + 1} is not in ${inputs.dataPath}`);
    }
    return row;
  });
  return artifactCheck(
    table,
    rows,
    { challenger: await load(entry), champion: await load(champion) },
    `the challenger's held-out test split (${rows.length} rows it was not trained on; the champion may ` +
      `have been trained on some of them, which can only favour the champion)`,
  );
}

function compareSummary(output: unknown): Record<string, unknown> {
  const o = output as CompareOutput;
  if (!o.result || !o.metric) return { champion: null };
  const d = o.result.differences[o.metric as keyof PairedCvResult["differences"]];
  return {
    champion_version: o.champion?.version ?? null,
    champion_run_id: o.champion?.run_id ?? null,
    metric: o.metric,
    folds: o.result.folds,
    challenger: d.challenger_mean,
    champion: d.champion_mean,
    difference: d.mean,
    corrected_se: d.corrected_se,
    interval: d.interval,
  };
}

/** The gate's checks on a comparison (pure: the decision without the registry). */
export function gateChecks(compared: CompareOutput, gate: FlowConfig["gate"]): GateCheck[] {
  const { result, metric } = compared;
  if (!result || !metric) return [];
  const d = result.differences[metric as keyof PairedCvResult["differences"]];
  const direction = PAIRED_METRICS[metric as keyof typeof PAIRED_METRICS];
  // How much worse the challenger is, in the metric's units (positive = worse).
  const worse = direction === "minimize" ? d.mean : -d.mean;
  const f = (x: number) => x.toFixed(4);
  const checks: GateCheck[] = [{
    name: "performance",
    passed: worse <= gate.margin,
    detail: `${metric} challenger ${f(d.challenger_mean)} vs champion ${f(d.champion_mean)}: ` +
      `challenger − champion ${d.mean >= 0 ? "+" : ""}${f(d.mean)} (corrected SE ${f(d.corrected_se)}, ` +
      `95 % interval [${f(d.interval[0])}, ${f(d.interval[1])}], ${d.folds} paired folds); ` +
      `${worse <= gate.margin ? "within" : "beyond"} the margin ${gate.margin} (${
        direction === "minimize" ? "lower" : "higher"
      } is better)`,
  }];
  const artifact = compared.artifact;
  if (artifact) {
    const excess = artifact.difference - ARTIFACT_CHECK_Z * artifact.se;
    checks.push({
      name: "held-out artifact",
      passed: excess <= gate.margin,
      detail:
        `cost of the fitted artifacts on ${artifact.rows} held-out rows: challenger ${
          f(artifact.challenger_cost)
        } vs champion ${f(artifact.champion_cost)} (difference ${f(artifact.difference)}, SE ${
          f(artifact.se)
        }; ` +
        `refused only when difference − ${ARTIFACT_CHECK_Z}·SE > margin ${gate.margin})`,
    });
  }
  for (const ours of result.challenger.fairness) {
    const theirs = result.champion.fairness.find((x) => x.attribute === ours.attribute);
    const di = ours.disparate_impact;
    if (gate.min_disparate_impact !== null) {
      checks.push({
        name: `fairness floor: ${ours.attribute}`,
        passed: di >= gate.min_disparate_impact,
        detail: `disparate impact ${f(di)} ${
          di >= gate.min_disparate_impact ? "≥" : "<"
        } floor ${gate.min_disparate_impact}`,
      });
    }
    if (gate.max_disparate_impact_drop !== null && theirs) {
      const drop = theirs.disparate_impact - di;
      checks.push({
        name: `fairness vs champion: ${ours.attribute}`,
        passed: drop <= gate.max_disparate_impact_drop,
        detail: `disparate impact ${f(di)} vs champion ${f(theirs.disparate_impact)} ` +
          `(drop ${f(drop)}, allowed ${gate.max_disparate_impact_drop})`,
      });
    }
  }
  return checks;
}

async function gate(inputs: StepInputs, c: StepContext): Promise<GateOutput> {
  const challenger = c.output<TrainOutput>("train");
  const compared = c.output<CompareOutput>("compare");
  const checks = gateChecks(compared, inputs.config.gate);
  const failed = checks.filter((x) => !x.passed);
  const reason = compared.champion === null
    ? "no production model yet"
    : failed.length === 0
    ? `passed every check against champion v${compared.champion.version}: ${checks[0].detail}`
    : `refused: ${failed.map((x) => `${x.name}: ${x.detail}`).join("; ")}`;
  if (failed.length) {
    c.log(reason);
    const production = productionModel(await readRegistry(inputs.modelsDir));
    return { decision: "kept_challenger", reason, checks, production_version: production?.version ?? null };
  }
  const promoted = await promoteVersion(challenger.version, {
    expectedProduction: compared.champion?.version ?? null,
    reason: `flow ${c.flowId}: ${reason}`,
    modelsDir: inputs.modelsDir,
  });
  c.log(`v${challenger.version} ${promoted.changed ? "promoted" : "was already production"}`);
  return { decision: "promoted", reason, checks, production_version: challenger.version };
}

async function deploy(inputs: StepInputs, c: StepContext): Promise<DeployOutput> {
  const decided = c.output<GateOutput>("gate");
  const { servers, token_env, confirm_timeout_ms } = inputs.config.deploy;
  if (decided.decision !== "promoted") return { skipped: "nothing promoted", deployed: [] };
  if (servers.length === 0) return { skipped: "no servers configured (deploy.servers)", deployed: [] };
  const token = Deno.env.get(token_env);
  if (!token) {
    throw new UserError(
      `deploy: the environment variable ${token_env} (the servers' ADMIN_TOKEN) is not set`,
    );
  }
  const expected = (await readRegistry(inputs.modelsDir)).models.find((m) =>
    m.version === decided.production_version
  );
  if (!expected) throw new UserError(`v${decided.production_version} is not in the registry`);
  const deployed: DeployOutput["deployed"] = [];
  for (const server of servers) {
    deployed.push(await reloadAndConfirm(server, token, expected, confirm_timeout_ms, c));
  }
  return { skipped: null, deployed };
}

/** `POST /admin/reload`, then `GET /model` until it serves `expected` (version and sha256). */
export async function reloadAndConfirm(
  server: string,
  token: string,
  expected: { version: number; sha256: string },
  timeoutMs: number,
  c: Pick<StepContext, "log" | "signal">,
): Promise<{ url: string; model_version: number; sha256: string }> {
  const reload = await fetch(new URL("/admin/reload", server), {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    signal: c.signal,
  });
  const body = await reload.text();
  if (reload.status !== 200) {
    const message = `POST ${new URL("/admin/reload", server)} answered ${reload.status}: ${
      body.slice(0, 300)
    }`;
    // A refused token or a missing route will be refused again; a server error or a refused model may pass later.
    if ([401, 403, 404].includes(reload.status)) throw new UserError(message);
    throw new Error(message);
  }
  const until = Date.now() + timeoutMs;
  let seen = "";
  for (;;) {
    const answer = await fetch(new URL("/model", server), { signal: c.signal });
    const info = answer.ok ? await answer.json() as { model_version?: number; sha256?: string } : null;
    if (!answer.ok) await answer.body?.cancel();
    if (info?.model_version === expected.version && info.sha256 === expected.sha256) {
      c.log(`${server} serves v${expected.version}`);
      return { url: server, model_version: expected.version, sha256: expected.sha256 };
    }
    seen = info
      ? `v${info.model_version} (sha256 ${String(info.sha256).slice(0, 12)}…)`
      : `HTTP ${answer.status}`;
    if (Date.now() > until) {
      throw new Error(
        `${new URL(
          "/model",
          server,
        )} shows ${seen}, not v${expected.version}, ${timeoutMs} ms after the reload`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function record(c: StepContext): Promise<FlowOutcome> {
  const challenger = c.output<TrainOutput>("train");
  const compared = c.output<CompareOutput>("compare");
  const decided = c.output<GateOutput>("gate");
  const deployed = c.output<DeployOutput>("deploy");
  return Promise.resolve({
    decision: decided.decision,
    reason: decided.reason,
    challenger: { version: challenger.version, run_id: challenger.run_id },
    champion: compared.champion
      ? { version: compared.champion.version, run_id: compared.champion.run_id }
      : null,
    production_version: decided.production_version,
    deployed: deployed.deployed,
  });
}
