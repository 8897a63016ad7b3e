/**
 * Attribute profiles end to end: a model trained with `--profile fair` records its profile in the run,
 * the artifact and the card; served through the HTTP app, two applicants who differ only in protected
 * attributes get bit-identical answers; and no profile's reasons ever cite a protected attribute.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { DEFAULT_TRAIN_OPTIONS, train } from "../../pipeline/model/train.ts";
import { FAIR_PROFILE } from "../../pipeline/data/profile.ts";
import { readRun } from "../../pipeline/tracking/mod.ts";
import { germanApplicants, trainFixtureModel } from "../fixtures.ts";
import { removeTree } from "../temp.ts";
import type { Applicant } from "../../pipeline/data/schema.ts";

const DATA = new URL("../../data/german.data", import.meta.url).pathname;
const PROTECTED = ["personal_status", "age", "foreign_worker"];

type Answer = {
  probability_bad: number;
  pd: number;
  score: number;
  decision: string;
  contributions: Record<string, number>;
  reasons: { attribute: string }[];
  adverse_action_reasons?: { attribute: string }[];
};

async function predictAll(
  app: ReturnType<typeof createApp>,
  applicants: readonly Applicant[],
): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (const applicant of applicants) {
    const response = await app.request("/predict", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(applicant),
    });
    assert.equal(response.status, 200, await response.clone().text());
    answers.push(await response.json());
  }
  return answers;
}

Deno.test("a fair model: recorded profile, protected attributes never reach it, never cited", async (t) => {
  const modelsDir = await Deno.makeTempDir({ prefix: "credit-fair-" });
  try {
    const trained = await train({
      ...DEFAULT_TRAIN_OPTIONS,
      dataPath: DATA,
      modelsDir,
      trials: 3,
      folds: 3,
      searchRepeats: 1,
      searchTrees: 20,
      trees: 40,
      seed: 5,
      promote: "always",
      profile: FAIR_PROFILE,
    });

    await t.step("the run, its artifact and its card record the profile", async () => {
      const run = (await readRun(trained.runId, modelsDir))!;
      assert.equal(run.params.attribute_profile, "fair");
      assert.deepEqual(run.params.excluded_attributes, PROTECTED);
      assert.deepEqual(run.params.excluded_features, ["amount_per_age_year", "age_band"]);
      assert.equal(run.params.mitigation, "none");
      assert.equal(run.tags.attribute_profile, "fair");
      const artifact = JSON.parse(await Deno.readTextFile(`${trained.runDir}/model.json`));
      assert.deepEqual(artifact.attribute_profile, { name: "fair", excluded: PROTECTED });
      assert.deepEqual(artifact.encoder.options.excluded, PROTECTED);
      const card = await Deno.readTextFile(`${trained.runDir}/MODEL_CARD.md`);
      assert.match(
        card,
        /Attribute profile \*\*fair\*\*: the model \*\*cannot see\*\* `personal_status`, `age`, `foreign_worker`/,
      );
      assert.match(card, /`amount_per_age_year`, `age_band`/);
      // Fairness figures in the card carry intervals.
      assert.match(card, /\| age \| under 25 \| \d+ \| [\d.]+ % \[[\d.]+ %, [\d.]+ %\]/);
    });

    const holder = await ModelHolder.open({ modelsDir });
    const app = createApp({ holder, logger: new Logger("off"), config: { batchWorkers: 0 } });
    const applicants = (await germanApplicants()).slice(0, 40);

    await t.step(
      "applicants differing only in protected attributes get bit-identical answers over HTTP",
      async () => {
        const variants = applicants.map((a, i) =>
          ({
            ...a,
            age: a.age < 25 ? 67 : 19,
            personal_status: a.personal_status === "A92" ? "A93" : "A92",
            foreign_worker: i % 2 ? "A201" : "A202",
          }) as Applicant
        );
        const original = await predictAll(app, applicants);
        const changed = await predictAll(app, variants);
        for (let i = 0; i < applicants.length; i++) {
          assert.ok(Object.is(original[i].probability_bad, changed[i].probability_bad), `row ${i}`);
          assert.ok(Object.is(original[i].pd, changed[i].pd));
          assert.equal(original[i].score, changed[i].score);
          assert.equal(original[i].decision, changed[i].decision);
          assert.deepEqual(original[i].contributions, changed[i].contributions);
          for (const p of PROTECTED) assert.equal(original[i].contributions[p], 0, `${p} contributes`);
        }
        // The scores do move with other attributes: the test would notice a constant model.
        assert.ok(new Set(original.map((a) => a.probability_bad)).size > 10);
        // The batch path (polars encoding of a table) agrees: same bits for both, and with /predict.
        const batch = async (rows: Applicant[]) => {
          const response = await app.request("/predict/batch", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(rows),
          });
          assert.equal(response.status, 200);
          return ((await response.json()).predictions as { probability_bad: number }[]).map((p) =>
            p.probability_bad
          );
        };
        const [a, b] = [await batch(applicants), await batch(variants)];
        a.forEach((p, i) => {
          assert.ok(Object.is(p, b[i]), `batch row ${i}`);
          assert.ok(Object.is(p, original[i].probability_bad), `batch row ${i} against /predict`);
        });
      },
    );

    await t.step("GET /model says what the model cannot see", async () => {
      const info = await (await app.request("/model")).json();
      assert.deepEqual(info.attribute_profile, { name: "fair", excluded: PROTECTED });
      assert.ok(
        info.features.every((f: { sources: string[] }) => f.sources.every((s) => !PROTECTED.includes(s))),
      );
      assert.deepEqual(info.attributes.length, 20);
    });

    await t.step("reasons and adverse-action reasons never cite a protected attribute", async () => {
      for (const answer of await predictAll(app, applicants)) {
        for (const r of [...answer.reasons, ...(answer.adverse_action_reasons ?? [])]) {
          assert.ok(!PROTECTED.includes(r.attribute), r.attribute);
        }
      }
    });
  } finally {
    await removeTree(modelsDir);
  }
});

Deno.test("a full model's reasons never cite a protected attribute, even where it weighs heavily", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 40 });
  try {
    const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
    const app = createApp({ holder, logger: new Logger("off"), config: { batchWorkers: 0 } });
    const young = (await germanApplicants()).filter((a) => a.age < 25).slice(0, 40);
    let heavy = 0;
    for (const answer of await predictAll(app, young)) {
      // Oracle: the five largest contributions by magnitude, computed here from the answer itself.
      const top = Object.entries(answer.contributions).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(
        0,
        5,
      );
      if (top.some(([name]) => PROTECTED.includes(name))) heavy++;
      for (const r of [...answer.reasons, ...(answer.adverse_action_reasons ?? [])]) {
        assert.ok(!PROTECTED.includes(r.attribute), r.attribute);
      }
    }
    // The filter was exercised: a protected attribute is among the five largest for some applicants.
    assert.ok(heavy > 0, "no applicant had a protected attribute among its largest contributions");
  } finally {
    await fixture.cleanup();
  }
});
