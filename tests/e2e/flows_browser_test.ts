/// <reference lib="dom" />
/// <reference lib="deno.ns" />
/**
 * The Flows page in headless Chromium (Debian's `/usr/bin/chromium` through `puppeteer-core`)
 * against a real server reading a temporary models folder that holds two flows (one promoted, one
 * refused): the table lists both, newest first, with their decisions; opening one shows its seven
 * steps; axe-core finds no WCAG 2.1 A/AA violation. Any console error, page error (a CSP violation included), failed request or HTTP error
 * fails the test.
 */
import assert from "node:assert/strict";
// First: the schemas built at import time need zod's OpenAPI extension in place.
import "@hono/zod-openapi";
import puppeteer from "puppeteer-core";
import axe from "axe-core";
import { normaliseConfig } from "../../pipeline/flow/config.ts";
import { codeVersion } from "../../pipeline/flow/key.ts";
import { runFlow } from "../../pipeline/flow/retrain.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { startServer } from "../../pipeline/serving/server.ts";
import { withTempDir } from "../temp.ts";

const DATA = new URL("../../data/german.data", import.meta.url).pathname;
const SMALL = {
  train: { trials: 2, folds: 3, search_repeats: 1, search_trees: 20, trees: 30 },
  compare: { repeats: 1, folds: 3, inner_folds: 2 },
};

Deno.test("the Flows page lists the flows and opens one's steps", async () => {
  await withTempDir("flows-browser-", async (modelsDir) => {
    const code = await codeVersion();
    const promoted = await runFlow({
      dataPath: DATA,
      config: normaliseConfig(SMALL),
      modelsDir,
      codeVersion: code,
    });
    const refused = await runFlow({
      dataPath: DATA,
      config: normaliseConfig({ ...SMALL, gate: { min_disparate_impact: 0.99 } }),
      modelsDir,
      codeVersion: code,
    });
    assert.equal(refused.record.outcome?.decision, "kept_challenger");
    const holder = await ModelHolder.open({ modelsDir });
    const running = startServer({
      holder,
      logger: new Logger("off"),
      config: { port: 0, hostname: "127.0.0.1", batchWorkers: 0, modelsDir, auditPath: null },
    });
    const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
    const browser = await puppeteer.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", `--user-data-dir=${profile}`],
    });
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(15_000);
      const problems: string[] = [];
      page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
      page.on("pageerror", (e) => problems.push(`page error: ${(e as Error).message}`));
      page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
      page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} ${r.url()}`));

      const response = await page.goto(new URL("/flows", running.url).href);
      assert.match(response!.headers()["content-security-policy"], /script-src 'self'/);
      await page.waitForSelector("body[data-ready=true]");
      const rows = await page.$$eval("#flows-table tbody tr", (trs) =>
        trs.map((tr) => ({
          id: (tr as HTMLElement).dataset.flow,
          cells: Array.from(tr.querySelectorAll("td"), (td) => td.textContent?.trim()),
        })));
      assert.deepEqual(rows.map((r) => r.id), [refused.record.flow_id, promoted.record.flow_id]);
      assert.equal(rows[0].cells[2], "succeeded");
      assert.equal(rows[0].cells[3], "kept challenger");
      assert.equal(rows[1].cells[3], "promoted");
      assert.equal(rows[1].cells[4], "v1");
      assert.equal(rows[0].cells[6], "7/7");

      await page.click(`#flows-table a[href="#flow=${refused.record.flow_id}"]`);
      await page.waitForSelector("#flow-detail:not([hidden]) #flow-steps");
      const steps = await page.$$eval(
        "#flow-steps tbody tr",
        (trs) => trs.map((tr) => [(tr as HTMLElement).dataset.step, tr.querySelector("td")?.textContent]),
      );
      assert.deepEqual(steps, [
        ["validate", "completed"],
        ["drift", "completed"],
        ["train", "completed"],
        ["compare", "completed"],
        ["gate", "completed"],
        ["deploy", "completed"],
        ["record", "completed"],
      ]);
      const text = await page.$eval("#flow-detail", (d) => d.textContent ?? "");
      assert.match(text, /refused: fairness floor: age/);
      // WCAG 2.1 A/AA by axe-core, with the detail open.
      await page.evaluate(axe.source);
      const violations = await page.evaluate(async () => {
        // deno-lint-ignore no-explicit-any
        const result = await (globalThis as any).axe.run(document, {
          runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
        });
        return (result.violations as { id: string; nodes: { target: string[] }[] }[]).map((v) =>
          `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`
        );
      });
      assert.deepEqual(violations, []);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await running.shutdown();
    }
  });
});
