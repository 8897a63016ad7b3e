/// <reference lib="dom" />
/// <reference lib="deno.ns" />
/**
 * The fair-lending page (`static/fairness.html`) in headless Chromium against a real server: the
 * production run's `fair_lending` report renders its table (every fairness figure with its interval),
 * its two interval charts and the production choice, with no console error, no failed request and
 * no WCAG 2.1 AA violation; a run without a report gets an explanation, not a blank page. Same
 * puppeteer-core + Debian chromium pattern as `browser_test.ts`.
 */
import assert from "node:assert/strict";
import puppeteer, { type Browser } from "puppeteer-core";
import axe from "axe-core";
import { startServer } from "../../pipeline/serving/server.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { fairnessIntervalsOfDecisions } from "../../pipeline/monitoring/fairness_intervals.ts";
import { correctedResampledT, summariseFolds } from "../../pipeline/model/compare.ts";
import { decide, type FairLendingReport, type VariantFigures } from "../../pipeline/model/fair_lending.ts";
import { amendRun } from "../../pipeline/tracking/mod.ts";
import { germanApplicants, trainFixtureModel } from "../fixtures.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = new URL("../test-output/browser/", import.meta.url);

/** A report built by the real functions from the fixture's decisions (figures need not mean anything). */
async function syntheticReport(probabilities: Float64Array, labels: Uint8Array): Promise<FairLendingReport> {
  const applicants = await germanApplicants();
  const ratio = 100 / 900;
  const folds = (shift: number) => Array.from({ length: 50 }, (_, i) => 0.5 + shift + ((i * 37) % 11) / 100);
  const variant = (name: string, label: string, cut: number, shift: number): VariantFigures => ({
    name,
    label,
    files: "nested/nested.json",
    git_commit: "test",
    folds_sha256: "0".repeat(64),
    folds_identical_to_full: name === "full" ? null : true,
    cost: summariseFolds(folds(shift), ratio),
    roc_auc: summariseFolds(folds(0.25), ratio),
    recall_bad: summariseFolds(folds(0.3), ratio),
    fairness: fairnessIntervalsOfDecisions(
      applicants,
      labels,
      Array.from(probabilities, (p) => p >= cut),
      Array.from(probabilities),
      { resamples: 200, seed: 1 },
    ),
  });
  const full = variant("full", "full (all 20 attributes)", 0.5, 0);
  const fair = variant("fair", "fair (no personal_status, age, foreign_worker)", 0.55, 0.01);
  const cost = correctedResampledT(folds(0).map((v, i) => v - folds(0.01)[i] + (i % 3) / 1000), ratio);
  const paired = { a: "full" as const, b: "fair", cost, roc_auc: cost, recall_bad: cost };
  return {
    protocol: "nested CV (synthetic figures for the browser test)",
    interval_method: full.fairness.method,
    variants: [full, fair],
    paired: [paired],
    decision: decide(full, fair, paired),
    targets: [{
      variant: "fair",
      disparate_impact_age: { estimate: 0.5, met: false, short_by: 0.3 },
      disparate_impact_sex: { estimate: 0.85, met: true, short_by: 0 },
      cost_increase: { value: 0.01, met: true, over_by: 0 },
    }],
    computed_at: new Date().toISOString(),
  };
}

Deno.test("the fair-lending page renders its table, charts and decision in Chromium", async () => {
  await Deno.mkdir(OUTPUT, { recursive: true });
  const fixture = await trainFixtureModel({ nEstimators: 20 });
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  let running: ReturnType<typeof startServer> | undefined;
  let browser: Browser | undefined;
  try {
    const table = await (await import("../fixtures.ts")).germanCredit();
    const X = fixture.model.encoder.transformFrame(table.frame);
    const report = await syntheticReport(fixture.model.probabilities(X), table.bad!);
    await amendRun(fixture.version.run_id, { metrics: { fair_lending: report } }, fixture.modelsDir);
    const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
    running = startServer({
      holder,
      logger: new Logger("off"),
      config: { port: 0, hostname: "127.0.0.1", batchWorkers: 0 },
    });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", `--user-data-dir=${profile}`],
      defaultViewport: { width: 1280, height: 900 },
    });
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(`console error: ${m.text()}`));
    page.on("pageerror", (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
    page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} ${r.url()}`));

    await page.goto(new URL("/fairness.html", running.url).href);
    await page.waitForSelector("body[data-ready]");
    const rows = await page.$$eval(
      "#variants tbody tr",
      (trs) => trs.map((tr) => (tr as HTMLElement).dataset.variant),
    );
    assert.deepEqual(rows, ["full", "fair"]);
    // Every fairness cell of the table carries an interval: "estimate [low, high]".
    const cells = await page.$$eval(
      "#variants tbody td:nth-child(n+5)",
      (tds) => tds.map((td) => td.textContent ?? ""),
    );
    assert.equal(cells.length, 12);
    for (const cell of cells) assert.match(cell, /\[[^\]]+\]/, cell);
    const fullDi = report.variants[0].fairness.groupings[0].disparate_impact;
    assert.equal(
      await page.$eval('tr[data-variant="full"] td[data-figure="di-age"]', (e) => e.textContent),
      `${fullDi.estimate!.toFixed(2)} [${fullDi.low!.toFixed(2)}, ${fullDi.high!.toFixed(2)}]`,
    );
    // The charts: one row per model × attribute (DI), per model × group (approval), with whiskers.
    assert.equal((await page.$$("#di-chart svg g.row")).length, 4);
    assert.equal((await page.$$("#di-chart svg g.row line.whisker")).length, 4);
    assert.equal((await page.$$("#di-chart svg line.reference")).length, 1);
    assert.equal((await page.$$("#approval-chart svg g.row")).length, 8);
    assert.equal((await page.$$("#calibration tbody tr")).length, 8);
    const decision = await page.$eval("#decision", (e) => ({
      chosen: (e as HTMLElement).dataset.chosen,
      text: e.textContent ?? "",
    }));
    assert.equal(decision.chosen, report.decision!.chosen);
    assert.match(decision.text, /Production choice/);
    await page.screenshot({
      path: new URL("fairness.png", OUTPUT).pathname as `${string}.png`,
      fullPage: true,
    });
    await page.evaluate(axe.source);
    const violations = await page.evaluate(async () => {
      // deno-lint-ignore no-explicit-any
      const result = await (globalThis as any).axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
      });
      return (result.violations as { id: string }[]).map((v) => v.id);
    });
    assert.deepEqual(violations, []);

    // A run without a report: an explanation naming the commands.
    await page.goto(new URL(`/fairness.html?run=${fixture.version.run_id}x`, running.url).href);
    await page.waitForSelector("body[data-ready]");
    assert.match(await page.$eval("#fairness-body", (e) => e.textContent ?? ""), /Could not load/);
    problems.splice(0); // the unknown run's 404 was provoked on purpose
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await running?.shutdown();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    await fixture.cleanup();
  }
});
