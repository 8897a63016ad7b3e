/**
 * The Flows routes in process: `GET /flows` lists the records newest first and names an unreadable
 * one instead of failing; `GET /flows/{id}` answers one, 400 for a malformed id (no path is built
 * from it), 404 for an absent one; a browser asking for HTML gets the Flows page under the CSP.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { normaliseConfig } from "../../pipeline/flow/config.ts";
import { runFlow } from "../../pipeline/flow/retrain.ts";
import { withTempDir } from "../temp.ts";

const DATA = new URL("../../data/german.data", import.meta.url).pathname;

Deno.test("GET /flows and /flows/{id}", async () => {
  await withTempDir("flows-routes-", async (modelsDir) => {
    const flow = await runFlow({
      dataPath: DATA,
      config: normaliseConfig({
        train: { trials: 2, folds: 3, search_repeats: 1, search_trees: 10, trees: 20 },
        compare: { repeats: 1, folds: 3, inner_folds: 2 },
      }),
      modelsDir,
      codeVersion: "test",
    });
    const broken = "20200101-000000-000000000000";
    await Deno.mkdir(`${modelsDir}/flows/${broken}`, { recursive: true });
    await Deno.writeTextFile(`${modelsDir}/flows/${broken}/flow.json`, '{"format_version": 1}');
    const holder = await ModelHolder.open({ modelsDir });
    const app = createApp({
      holder,
      logger: new Logger("off"),
      config: { batchWorkers: 0, modelsDir, auditPath: null },
    });

    const list = await app.request("/flows");
    assert.equal(list.status, 200);
    const body = await list.json();
    assert.deepEqual(body.flows.map((f: { flow_id: string }) => f.flow_id), [flow.record.flow_id]);
    assert.equal(body.problems.length, 1);
    assert.match(body.problems[0], new RegExp(`${broken}/flow\\.json is not a valid flow record`));

    const one = await app.request(`/flows/${flow.record.flow_id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(await one.json(), JSON.parse(JSON.stringify(flow.record)));
    assert.equal((await app.request("/flows/..%2F..%2Fregistry")).status, 400);
    assert.equal((await app.request("/flows/20300101-000000-abcdefabcdef")).status, 404);

    const page = await app.request("/flows", { headers: { accept: "text/html" } });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /text\/html/);
    assert.match(page.headers.get("content-security-policy")!, /script-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/flows\.js"><\/script>/);
  });
});
