/**
 * Champion/challenger promotion for every objective, in both directions: cost is minimised, AUC and
 * recall are maximised, a challenger "not worse" than the champion replaces it, and a worse one
 * never does. The oracle is the definition written out here, not the registry's own comparison.
 */
import assert from "node:assert/strict";
import { objectiveDirection, OBJECTIVES } from "../../pipeline/model/objective.ts";
import { readRegistry, registerModel } from "../../pipeline/tracking/mod.ts";
import { Random } from "../../pipeline/random.ts";
import { withTempDir } from "../temp.ts";

/** Which objectives are minimised, from the README: cost is a loss, AUC and recall are scores. */
const MINIMISED: Record<string, boolean> = { cost: true, auc: false, recall: false };

async function register(dir: string, name: string, objective: string, value: number) {
  await Deno.mkdir(`${dir}/runs/${name}`, { recursive: true });
  await Deno.writeTextFile(`${dir}/runs/${name}/model.json`, JSON.stringify({ name }));
  return await registerModel({
    run_id: name,
    artifact: `runs/${name}/model.json`,
    objective,
    objective_value: value,
    direction: objectiveDirection(objective as (typeof OBJECTIVES)[number]),
    metrics: { [objective]: value },
  }, { modelsDir: dir });
}

async function productionRun(dir: string): Promise<string | undefined> {
  return (await readRegistry(dir)).models.find((m) => m.stage === "production")?.run_id;
}

Deno.test("every objective has the direction the README gives it", () => {
  assert.deepEqual([...OBJECTIVES].sort(), Object.keys(MINIMISED).sort());
  for (const objective of OBJECTIVES) {
    assert.equal(objectiveDirection(objective), MINIMISED[objective] ? "minimize" : "maximize", objective);
  }
});

for (const objective of OBJECTIVES) {
  const better = (champion: number) => MINIMISED[objective] ? champion - 0.05 : champion + 0.05;
  const worse = (champion: number) => MINIMISED[objective] ? champion + 0.05 : champion - 0.05;

  Deno.test(`${objective}: a worse challenger stays candidate, an equal or better one is promoted`, async () => {
    await withTempDir("promotion-", async (dir) => {
      const champion = 0.6;
      assert.equal((await register(dir, "champion", objective, champion)).promoted, true);

      const loser = await register(dir, "worse", objective, worse(champion));
      assert.equal(loser.promoted, false, `${objective} ${worse(champion)} vs ${champion}`);
      assert.equal(loser.version.stage, "candidate");
      assert.equal(
        loser.reason,
        `${objective} ${worse(champion).toFixed(4)} vs champion v1's ${
          champion.toFixed(4)
        }: worse, kept as candidate`,
      );
      assert.equal(await productionRun(dir), "champion", "a worse challenger never replaces the champion");

      const tie = await register(dir, "equal", objective, champion);
      assert.equal(tie.promoted, true, "not worse is enough");
      assert.equal(await productionRun(dir), "equal");

      const winner = await register(dir, "better", objective, better(champion));
      assert.equal(winner.promoted, true);
      assert.equal(
        winner.reason,
        `${objective} ${better(champion).toFixed(4)} vs champion v3's ${
          champion.toFixed(4)
        }: not worse, promoted`,
      );
      const registry = await readRegistry(dir);
      assert.deepEqual(registry.models.map((m) => [m.run_id, m.stage]), [
        ["champion", "archived"],
        ["worse", "candidate"],
        ["equal", "archived"],
        ["better", "production"],
      ]);
    });
  });

  Deno.test(`${objective}: over a random sequence of challengers, production is always the best so far`, async () => {
    await withTempDir("promotion-seq-", async (dir) => {
      const rng = new Random(objective.length * 7 + 1);
      let best = Number.NaN;
      let bestRun = "";
      for (let i = 0; i < 12; i++) {
        const value = Math.round(rng.next() * 100) / 100;
        const { promoted } = await register(dir, `r${i}`, objective, value);
        // Oracle: the first model, or one not worse than the best so far, in this objective's direction.
        const expected = i === 0 || (MINIMISED[objective] ? value <= best : value >= best);
        assert.equal(promoted, expected, `step ${i}: ${value} vs ${best}`);
        if (expected) [best, bestRun] = [value, `r${i}`];
        assert.equal(await productionRun(dir), bestRun);
      }
      const registry = await readRegistry(dir);
      assert.equal(registry.models.filter((m) => m.stage === "production").length, 1);
    });
  });
}

Deno.test("a challenger on another objective is never compared, whatever its number", async () => {
  await withTempDir("promotion-other-", async (dir) => {
    await register(dir, "cost-champion", "cost", 0.5);
    for (
      const [name, objective, value] of [["auc-high", "auc", 0.99], ["recall-low", "recall", 0.01]] as const
    ) {
      const result = await register(dir, name, objective, value);
      assert.equal(result.promoted, false, name);
      assert.equal(
        result.reason,
        `champion v1 was chosen on objective cost, not ${objective}; use --promote`,
      );
    }
    assert.equal(await productionRun(dir), "cost-champion");
  });
});

Deno.test("auto promotion never changes the attribute profile: a better full model stays candidate under a fair champion", async () => {
  await withTempDir("promotion-profile-", async (dir) => {
    const registerAs = async (name: string, value: number, profile?: string) => {
      await Deno.mkdir(`${dir}/runs/${name}`, { recursive: true });
      await Deno.writeTextFile(`${dir}/runs/${name}/model.json`, JSON.stringify({ name }));
      return await registerModel({
        run_id: name,
        artifact: `runs/${name}/model.json`,
        objective: "cost",
        objective_value: value,
        direction: "minimize",
        metrics: { cost: value },
        ...(profile ? { attribute_profile: profile } : {}),
      }, { modelsDir: dir });
    };
    assert.equal((await registerAs("fair-champion", 0.55, "fair")).promoted, true);
    const full = await registerAs("full-challenger", 0.50, "full");
    assert.equal(full.promoted, false);
    assert.match(full.reason, /profile fair, this model under full; a profile change needs --promote/);
    // An entry without a profile (registered before profiles) counts as full: also refused.
    assert.equal((await registerAs("unmarked", 0.40)).promoted, false);
    assert.equal(await productionRun(dir), "fair-champion");
    // Same profile, cheaper: the usual champion/challenger rule applies.
    assert.equal((await registerAs("fair-challenger", 0.54, "fair")).promoted, true);
    assert.equal(await productionRun(dir), "fair-challenger");
    // The profile is kept in the registry file (not dropped by its schema on the next read).
    const stored = (await readRegistry(dir)).models.find((m) => m.run_id === "fair-challenger");
    assert.equal(stored?.attribute_profile, "fair");
  });
});

Deno.test("a champion registered without a profile takes the one its run recorded", async () => {
  await withTempDir("promotion-run-profile-", async (dir) => {
    const id = "20200101-000000-fairrun";
    await Deno.mkdir(`${dir}/runs/${id}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/runs/${id}/model.json`, "{}");
    await Deno.writeTextFile(
      `${dir}/runs/${id}/run.json`,
      JSON.stringify({
        run_id: id,
        experiment: "german-credit",
        status: "finished",
        start_time: "2020-01-01T00:00:00.000Z",
        pid: 1,
        heartbeat_at: "2020-01-01T00:00:10.000Z",
        params: {
          attribute_profile: "fair",
          excluded_attributes: ["personal_status", "age", "foreign_worker"],
        },
        metrics: {},
        tags: {},
        steps: [],
        artifacts: [],
      }),
    );
    const entry = {
      objective: "cost",
      direction: "minimize" as const,
      metrics: {},
    };
    await registerModel({ ...entry, run_id: id, artifact: `runs/${id}/model.json`, objective_value: 0.55 }, {
      modelsDir: dir,
    });
    await Deno.mkdir(`${dir}/runs/full`, { recursive: true });
    await Deno.writeTextFile(`${dir}/runs/full/model.json`, "[]");
    const challenger = await registerModel(
      {
        ...entry,
        run_id: "full",
        artifact: "runs/full/model.json",
        objective_value: 0.5,
        attribute_profile: "full",
      },
      { modelsDir: dir },
    );
    assert.equal(challenger.promoted, false);
    assert.match(challenger.reason, /profile fair/);
  });
});
