/**
 * The gate. Its checks on hand-made comparisons (the margin's edge, the direction of a metric to
 * maximise, the fairness floor and drop, the artifact check's excess), and on a real challenger
 * trained on shuffled labels: registered as a candidate, compared on the true data, refused by the
 * held-out artifact check, left a candidate with the champion still in production.
 */
import assert from "node:assert/strict";
import { normaliseConfig } from "../../pipeline/flow/config.ts";
import { codeVersion } from "../../pipeline/flow/key.ts";
import { runFlow } from "../../pipeline/flow/retrain.ts";
import type { FlowStep, StepContext } from "../../pipeline/flow/engine.ts";
import {
  type CompareOutput,
  gateChecks,
  type GateOutput,
  retrainingSteps,
  type TrainOutput,
} from "../../pipeline/flow/steps.ts";
import { DEFAULT_TRAIN_OPTIONS, train } from "../../pipeline/model/train.ts";
import type { FairnessComparison } from "../../pipeline/monitoring/fairness.ts";
import { Random } from "../../pipeline/random.ts";
import { readRegistry, sha256File } from "../../pipeline/tracking/mod.ts";
import { withTempDir } from "../temp.ts";
import { slow } from "../scope.ts";

const DATA = new URL("../../data/german.data", import.meta.url).pathname;
const GATE = normaliseConfig({}).gate; // margin 0.01, no floor, drop 0.05

function fairness(age: number, sex: number): FairnessComparison[] {
  const group = { group: "", count: 1, bad_count: 0, approval_rate: 0, recall_bad: 0, false_decline_rate: 0 };
  return [
    {
      attribute: "age",
      protected: group,
      reference: group,
      disparate_impact: age,
      equal_opportunity_difference: 0,
      warning: null,
    },
    {
      attribute: "sex",
      protected: group,
      reference: group,
      disparate_impact: sex,
      equal_opportunity_difference: 0,
      warning: null,
    },
  ];
}

function compared(
  metric: "cost" | "roc_auc",
  mean: number,
  di: { ours: [number, number]; theirs: [number, number] },
) {
  const summary = {
    folds: 10,
    mean,
    sd: 0.01,
    naive_se: 0,
    corrected_se: 0.01,
    test_train_ratio: 0.25,
    df: 9,
    t: 0,
    p_value: 1,
    confidence: 0.95,
    interval: [mean - 0.02, mean + 0.02] as [number, number],
    challenger_mean: 0.5 + mean,
    champion_mean: 0.5,
  };
  return {
    champion: { version: 1, run_id: "r", sha256: "0" },
    metric,
    result: {
      protocol: "",
      folds: 10,
      test_train_ratio: 0.25,
      differences: { cost: summary, roc_auc: summary, recall_bad: summary },
      challenger: { values: { cost: [], roc_auc: [], recall_bad: [] }, fairness: fairness(...di.ours) },
      champion: { values: { cost: [], roc_auc: [], recall_bad: [] }, fairness: fairness(...di.theirs) },
    },
    artifact: null,
  } as CompareOutput;
}

const passed = (checks: ReturnType<typeof gateChecks>) =>
  Object.fromEntries(checks.map((c) => [c.name, c.passed]));
const same = { ours: [0.3, 0.7] as [number, number], theirs: [0.3, 0.7] as [number, number] };

Deno.test("performance: cost worse by exactly the margin passes, by a little more fails; for AUC lower is worse", () => {
  assert.equal(passed(gateChecks(compared("cost", 0.01, same), GATE)).performance, true);
  assert.equal(passed(gateChecks(compared("cost", 0.0101, same), GATE)).performance, false);
  assert.equal(passed(gateChecks(compared("cost", -0.3, same), GATE)).performance, true);
  assert.equal(passed(gateChecks(compared("roc_auc", -0.0101, same), GATE)).performance, false);
  assert.equal(passed(gateChecks(compared("roc_auc", +0.3, same), GATE)).performance, true);
});

Deno.test("fairness: a drop beyond 0.05 against the champion fails; the floor applies only when set", () => {
  const dropped = gateChecks(compared("cost", 0, { ours: [0.24, 0.7], theirs: [0.3, 0.7] }), GATE);
  assert.deepEqual(passed(dropped), {
    performance: true,
    "fairness vs champion: age": false,
    "fairness vs champion: sex": true,
  });
  const floored = gateChecks(compared("cost", 0, same), { ...GATE, min_disparate_impact: 0.5 });
  assert.equal(passed(floored)["fairness floor: age"], false);
  assert.equal(passed(floored)["fairness floor: sex"], true);
});

Deno.test("artifact check: refused only when the difference minus 1.645 SE exceeds the margin", () => {
  const withArtifact = (difference: number, se: number) => ({
    ...compared("cost", 0, same),
    artifact: {
      rows: 200,
      challenger_cost: 0.5 + difference,
      champion_cost: 0.5,
      difference,
      se,
      challenger_auc: 0.7,
      champion_auc: 0.7,
      rows_from: "",
    },
  });
  // 0.1 − 1.645 · 0.05 = 0.01775 > 0.01: refused; 0.09 − 0.08225 = 0.00775: passes.
  assert.equal(passed(gateChecks(withArtifact(0.1, 0.05), GATE))["held-out artifact"], false);
  assert.equal(passed(gateChecks(withArtifact(0.09, 0.05), GATE))["held-out artifact"], true);
});

Deno.test(
  "a challenger trained on shuffled labels is refused on the true data and stays a candidate",
  slow,
  async () => {
    await withTempDir("flow-gate-", async (modelsDir) => {
      const small = {
        train: { trials: 3, folds: 3, search_repeats: 1, search_trees: 20, trees: 40 },
        compare: { repeats: 1, folds: 3, inner_folds: 2 },
      };
      const config = normaliseConfig(small);
      await runFlow({ dataPath: DATA, config, modelsDir, codeVersion: await codeVersion() });

      // The same applicants with their labels permuted (seeded), line for line.
      const lines = (await Deno.readTextFile(DATA)).trimEnd().split("\n");
      const labels = lines.map((l) => l.trim().split(/\s+/).at(-1)!);
      const random = new Random(5);
      for (let i = labels.length - 1; i > 0; i--) {
        const j = Math.floor(random.next() * (i + 1));
        [labels[i], labels[j]] = [labels[j], labels[i]];
      }
      const shuffled = `${modelsDir}/shuffled.data`;
      await Deno.writeTextFile(
        shuffled,
        lines.map((l, i) => l.replace(/\S+\s*$/, labels[i])).join("\n") + "\n",
      );
      const t = config.train;
      const trained = await train({
        ...DEFAULT_TRAIN_OPTIONS,
        dataPath: shuffled,
        modelsDir,
        trials: t.trials,
        folds: t.folds,
        searchRepeats: t.search_repeats,
        searchTrees: t.search_trees,
        trees: t.trees,
        promote: "never",
      });

      // The flow's compare and gate steps, on the true data, with this challenger as the train step's output.
      const outputs: Record<string, unknown> = {
        train: {
          run_id: trained.runId,
          version: trained.modelVersion,
          objective: "cost",
          cv_value: trained.cv.value,
          threshold: trained.threshold,
          test: {},
          duration_ms: 0,
        } satisfies TrainOutput,
      };
      const steps = retrainingSteps({
        dataPath: DATA,
        dataSha256: await sha256File(DATA),
        config,
        modelsDir,
      });
      const run = async (step: FlowStep) => {
        const context: StepContext = {
          flowId: "20261128-000000-000000000000",
          modelsDir,
          attempt: 1,
          signal: new AbortController().signal,
          output: <T>(name: string) => outputs[name] as T,
          log: () => {},
        };
        outputs[step.name] = await step.run(context);
      };
      await run(steps.find((s) => s.name === "compare")!);
      await run(steps.find((s) => s.name === "gate")!);
      const artifact = (outputs.compare as CompareOutput).artifact!;
      assert.ok(artifact.challenger_auc < 0.6, `challenger AUC ${artifact.challenger_auc}`);
      assert.ok(artifact.champion_auc > 0.7, `champion AUC ${artifact.champion_auc}`);
      const gate = outputs.gate as GateOutput;
      assert.equal(gate.decision, "kept_challenger");
      assert.equal(gate.checks.find((c) => c.name === "held-out artifact")?.passed, false);
      assert.match(
        gate.reason,
        /^refused: .*held-out artifact: cost of the fitted artifacts on 200 held-out rows/,
      );
      const registry = await readRegistry(modelsDir);
      assert.deepEqual(registry.models.map((m) => [m.version, m.stage]), [[1, "production"], [
        2,
        "candidate",
      ]]);
    });
  },
);
