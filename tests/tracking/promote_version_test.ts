/**
 * `promoteVersion`: a candidate becomes production and the old production is archived, both in the
 * history; promoting again changes nothing; a promotion decided against one champion is refused
 * when another is in production; an archived version is not revived.
 */
import assert from "node:assert/strict";
import { promoteVersion, readRegistry, registerModel } from "../../pipeline/tracking/mod.ts";
import { withTempDir } from "../temp.ts";

async function register(dir: string, name: string, promote: "always" | "never") {
  await Deno.mkdir(`${dir}/runs/${name}`, { recursive: true });
  await Deno.writeTextFile(`${dir}/runs/${name}/model.json`, JSON.stringify({ name }));
  return await registerModel({
    run_id: name,
    artifact: `runs/${name}/model.json`,
    objective: "cost",
    objective_value: 0.5,
    direction: "minimize",
    metrics: {},
  }, { modelsDir: dir, promote });
}

Deno.test("promoteVersion: promotes a candidate over the expected champion, once", async () => {
  await withTempDir("promote-version-", async (dir) => {
    await register(dir, "a", "always");
    await register(dir, "b", "never");
    const first = await promoteVersion(2, {
      expectedProduction: 1,
      reason: "flow X: passed",
      modelsDir: dir,
    });
    assert.equal(first.changed, true);
    let registry = await readRegistry(dir);
    assert.deepEqual(registry.models.map((m) => [m.version, m.stage]), [[1, "archived"], [2, "production"]]);
    assert.deepEqual(registry.history.slice(-2).map((e) => [e.event, e.version, e.detail]), [
      ["archived", 1, undefined],
      ["promoted", 2, "flow X: passed"],
    ]);
    const again = await promoteVersion(2, { expectedProduction: 1, reason: "retry", modelsDir: dir });
    assert.equal(again.changed, false);
    registry = await readRegistry(dir);
    assert.equal(registry.history.filter((e) => e.event === "promoted" && e.version === 2).length, 1);
  });
});

Deno.test("promoteVersion: refuses when production is not the champion it was compared with, or the version is archived", async () => {
  await withTempDir("promote-version-", async (dir) => {
    await register(dir, "a", "always");
    await register(dir, "b", "never");
    await register(dir, "c", "always"); // v3 production, v1 archived
    await assert.rejects(
      () => promoteVersion(2, { expectedProduction: 1, reason: "", modelsDir: dir }),
      /production is v3, not v1 as when v2 was compared: not promoting over a model it was not compared with/,
    );
    await assert.rejects(
      () => promoteVersion(1, { expectedProduction: 3, reason: "", modelsDir: dir }),
      /model version 1 is archived, not a candidate/,
    );
    await assert.rejects(
      () => promoteVersion(9, { expectedProduction: 3, reason: "", modelsDir: dir }),
      /version 9 is not in/,
    );
    const registry = await readRegistry(dir);
    assert.deepEqual(registry.models.map((m) => m.stage), ["archived", "candidate", "production"]);
  });
});
