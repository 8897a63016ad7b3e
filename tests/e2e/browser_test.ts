/// <reference lib="dom" />
/// <reference lib="deno.ns" />
/**
 * The browser app end to end in headless Chromium (Debian's `/usr/bin/chromium` driven by
 * `puppeteer-core`, which never downloads a browser) against a real server on a free port, serving
 * the fixture model in production and a small real training run beside it.
 *
 * Each step opens its own browser context (fresh storage) and fails on any console error, page
 * error, failed request or HTTP error the step did not provoke on purpose. Screenshots of every
 * step go to `test-output/browser/`.
 *
 * `UPDATE_SCREENSHOTS=1 deno test -A tests/e2e/browser_test.ts` also rewrites the README's
 * `static/screenshots/form.png` and `runs.png` from the production model in `models/`.
 */
import assert from "node:assert/strict";
import { z } from "@hono/zod-openapi";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import axe from "axe-core";
import { startServer } from "../../pipeline/serving/server.ts";
import { type Applicant, attribute, ATTRIBUTE_NAMES, codeLabel } from "../../pipeline/data/schema.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { DEFAULT_EXTENSIONS, type PredictionExtension } from "../../pipeline/serving/prediction.ts";
import { RUN_CHARTS } from "../../pipeline/serving/routes/dashboard.ts";
import { DEFAULT_TRAIN_OPTIONS, train } from "../../pipeline/model/train.ts";
import { germanApplicants, trainFixtureModel } from "../fixtures.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = new URL("../test-output/browser/", import.meta.url);
const DATA = new URL("../../data/german.data", import.meta.url).pathname;
const TIMEOUT_MS = 15_000;
const applicants = await germanApplicants();

/**
 * `reasons` as the API will send them (issue 9), for servers whose default extensions do not add
 * them yet: a few signed contributions shaped `{ attribute, value, label, contribution }`.
 */
const stubReasons: PredictionExtension = {
  name: "stub-reasons",
  fields: {
    reasons: z.array(z.object({
      attribute: z.string(),
      value: z.union([z.string(), z.number()]),
      label: z.string(),
      contribution: z.number(),
    })),
  },
  extend: ({ applicant }) => ({
    reasons: [
      {
        attribute: "checking_status",
        value: applicant.checking_status,
        label: codeLabel("checking_status", applicant.checking_status) ?? applicant.checking_status,
        contribution: applicant.checking_status === "A14" ? -0.081 : 0.064,
      },
      {
        attribute: "duration",
        value: applicant.duration,
        label: `${applicant.duration} months`,
        contribution: (applicant.duration - 20.5) / 400,
      },
      {
        attribute: "age",
        value: applicant.age,
        label: `${applicant.age} years`,
        contribution: (35.5 - applicant.age) / 900,
      },
    ],
  }),
};

const EXTENSIONS = DEFAULT_EXTENSIONS.some((e) => "reasons" in e.fields)
  ? DEFAULT_EXTENSIONS
  : [...DEFAULT_EXTENSIONS, stubReasons];

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  try {
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`],
      defaultViewport: { width: 1280, height: 900 },
    });
    return {
      browser,
      close: async () => {
        await browser.close();
        await Deno.remove(profile, { recursive: true }).catch(() => {});
      },
    };
  } catch (error) {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw error;
  }
}

/** A page in a fresh browser context, recording every problem a user's console would show. */
async function openPage(browser: Browser) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT_MS);
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${(error as Error).message ?? error}`));
  page.on("requestfailed", (request) => {
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ""}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${response.url()}`);
  });
  return { page, problems, close: () => context.close() };
}

async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: new URL(`${name}.png`, OUTPUT).pathname as `${string}.png`, fullPage });
}

/** Types numbers and picks options the way a user does, replacing what the field held. */
async function fill(page: Page, applicant: Partial<Applicant>): Promise<void> {
  for (const [name, value] of Object.entries(applicant)) {
    const selector = `#applicant-form [name="${name}"]`;
    if (attribute(name)!.kind === "numeric") {
      await page.click(selector, { count: 3 });
      await page.keyboard.press("Backspace");
      await page.type(selector, String(value));
    } else {
      await page.select(selector, String(value));
    }
  }
}

/** axe-core's WCAG 2.1 A and AA rules. */
const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/**
 * The page's WCAG 2.1 A/AA violations by axe-core, injected from the npm package (no CDN), as
 * "rule: selectors" lines so that a failure names what to fix.
 */
async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async (tags) => {
    // deno-lint-ignore no-explicit-any
    const result = await (globalThis as any).axe.run(document, { runOnly: { type: "tag", values: tags } });
    return (result.violations as { id: string; nodes: { target: string[] }[] }[]).map((v) =>
      `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`
    );
  }, WCAG_21_AA);
  return violations;
}

const text = (page: Page, selector: string) => page.$eval(selector, (e) => e.textContent?.trim() ?? "");
const percentEn = (p: number) =>
  new Intl.NumberFormat("en", { style: "percent", maximumFractionDigits: 0 }).format(p);

Deno.test("the browser app in Chromium: form, validation, languages and the runs dashboard", async (t) => {
  await Deno.mkdir(OUTPUT, { recursive: true });
  const fixture = await trainFixtureModel({ nEstimators: 30 });
  let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let running: ReturnType<typeof startServer> | undefined;
  try {
    const trained = await train({
      ...DEFAULT_TRAIN_OPTIONS,
      dataPath: DATA,
      modelsDir: fixture.modelsDir,
      trials: 4,
      folds: 3,
      seed: 7,
      promote: "never",
    });
    const fixtureRun = fixture.version.run_id;
    // A nested evaluation's summary, as `deno task evaluate --nested` records it, hand-written here.
    const trainedRunFile = `${fixture.modelsDir}/runs/${trained.runId}/run.json`;
    const trainedRecord = JSON.parse(await Deno.readTextFile(trainedRunFile));
    trainedRecord.metrics.nested = { summary: { cost: { mean: 0.5131, sd: 0.1, corrected_se: 0.0361 } } };
    await Deno.writeTextFile(trainedRunFile, JSON.stringify(trainedRecord));
    // A training process killed an hour ago: its run stays "running" with a stale heartbeat.
    const killedRun = "20200101-000000-killed";
    await Deno.mkdir(`${fixture.modelsDir}/runs/${killedRun}`, { recursive: true });
    await Deno.writeTextFile(
      `${fixture.modelsDir}/runs/${killedRun}/run.json`,
      JSON.stringify({
        run_id: killedRun,
        experiment: "german-credit",
        status: "running",
        start_time: "2020-01-01T00:00:00.000Z",
        pid: 1,
        heartbeat_at: "2020-01-01T00:04:30.000Z",
        params: { objective: "cost", trials: 30 },
        metrics: {},
        tags: {},
        steps: [
          { name: "load", status: "finished", started_at: "2020-01-01T00:00:00.000Z", duration_ms: 40 },
          { name: "tune", status: "running", started_at: "2020-01-01T00:00:01.000Z" },
        ],
        artifacts: [],
      }),
    );
    const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
    running = startServer({
      holder,
      logger: new Logger("off"),
      config: { port: 0, hostname: "127.0.0.1", batchWorkers: 0 },
      extensions: EXTENSIONS,
    });
    const base = running.url;
    chromium = await launchChromium();
    const { browser } = chromium;

    await t.step("a user fills the form, submits with Enter and reads the decision", async () => {
      const { page, problems, close } = await openPage(browser);
      await page.goto(base.href);
      await page.waitForSelector("body[data-ready]");
      const controls = await page.$$eval("#applicant-form [name]", (elements) =>
        elements.map((e) => {
          const control = e as HTMLInputElement | HTMLSelectElement;
          const label = document.querySelector(`label[for="${control.id}"]`);
          return { name: control.name, label: label?.textContent?.trim() ?? "", required: control.required };
        }));
      assert.deepEqual(controls.map((c) => c.name).sort(), [...ATTRIBUTE_NAMES].sort());
      for (const c of controls) assert.ok(c.label && c.required, `${c.name} is labelled and required`);
      const legends = await page.$$eval(
        "fieldset.group legend",
        (ls) => ls.map((l) => l.textContent?.trim()),
      );
      assert.deepEqual(legends, [
        "1The loan",
        "2Accounts and savings",
        "3Employment and housing",
        "4Personal",
      ]);
      const numeric = await page.$eval('[name="duration"]', (e) => {
        const input = e as HTMLInputElement;
        return { type: input.type, min: input.min, max: input.max, step: input.step };
      });
      assert.deepEqual(numeric, { type: "number", min: "1", max: "120", step: "1" });
      assert.deepEqual(await accessibilityViolations(page), [], "the empty form, in English");

      const applicant = applicants[4];
      await fill(page, applicant);
      await page.focus('[name="age"]');
      await page.keyboard.press("Enter");
      await page.waitForSelector("#decision");

      const expected = await (await fetch(new URL("/predict", base), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(applicant),
      })).json();
      assert.equal(
        await page.$eval("#decision", (e) => (e as HTMLElement).dataset.decision),
        expected.decision,
      );
      assert.equal(
        await text(page, "#decision"),
        { approve: "Approve", decline: "Decline", review: "Refer for review" }[
          expected.decision as string
        ],
      );
      // One probability on the card: the calibrated PD is the gauge's headline.
      assert.equal(await text(page, "#gauge-value"), percentEn(expected.pd));
      const card = await text(page, "#result");
      assert.match(card, /Calibrated probability of default/);
      assert.match(card, /Model score\s*0\.\d{3}/, "the raw output only as a secondary model score");
      const amounts = await page.$$eval("#reasons li .amount", (ls) => ls.map((l) => l.textContent ?? ""));
      assert.ok(amounts.length >= 1 && amounts.every((a) => /^[+−]\d+(\.\d)? pts$/.test(a)), amounts.join());
      if (expected.decision !== "approve") assert.ok(await page.$("#adverse-reasons li"));
      assert.deepEqual(await accessibilityViolations(page), [], "the form with a decision, in English");
      assert.match(card, new RegExp(`v${expected.model_version}`));
      assert.match(card, /Credit score\s*\d+/);
      const reasons = await page.$$eval("#reasons li .sentence", (ls) => ls.map((l) => l.textContent ?? ""));
      assert.ok(reasons.length >= 1, "the reasons are shown");
      for (const sentence of reasons) assert.match(sentence, /\b(raises?|lowers?) the risk/);
      await screenshot(page, "form-result");
      assert.deepEqual(problems, []);
      await close();
    });

    await t.step(
      "invalid values are caught in the browser, next to their fields, without a request",
      async () => {
        const { page, problems, close } = await openPage(browser);
        let predictions = 0;
        page.on("request", (request) => {
          if (new URL(request.url()).pathname === "/predict") predictions++;
        });
        await page.goto(base.href);
        await page.waitForSelector("body[data-ready]");
        await page.select("#example", "1");
        await page.waitForFunction(() =>
          (document.querySelector('[name="duration"]') as HTMLInputElement).value !== ""
        );
        await fill(page, { duration: "2.5" as unknown as number, credit_amount: 0 });
        await page.select('[name="purpose"]', "");
        await page.click("#submit");
        await page.waitForFunction(() => document.querySelector("#f-duration-error")?.textContent !== "");
        assert.equal(await text(page, '[data-field="duration"] .field-error'), "Enter a whole number.");
        assert.equal(
          await text(page, '[data-field="credit_amount"] .field-error'),
          "Enter a value from 1 to 1,000,000.",
        );
        assert.equal(await text(page, '[data-field="purpose"] .field-error'), "Required.");
        assert.equal(await text(page, '[data-field="age"] .field-error'), "");
        assert.equal(await page.$eval('[name="duration"]', (e) => e.getAttribute("aria-invalid")), "true");
        assert.equal(
          await page.evaluate(() => (document.activeElement as HTMLInputElement).name),
          "duration",
        );
        assert.equal(await text(page, "#form-message"), "3 field(s) need attention.");
        await screenshot(page, "form-client-errors");
        assert.equal(predictions, 0);

        await fill(page, { duration: 12 });
        assert.equal(await text(page, '[data-field="duration"] .field-error'), "");
        assert.equal(await page.$eval('[name="duration"]', (e) => e.getAttribute("aria-invalid")), "false");
        assert.deepEqual(problems, []);
        await close();
      },
    );

    await t.step("a value the server refuses shows the server's message next to its field", async () => {
      // The browser is told that 17 is an acceptable age, so only the server's validation stops it.
      const schema = await (await fetch(new URL("/schema", base))).json();
      schema.attributes.find((a: { name: string }) => a.name === "age").min = 0;
      const { page, problems, close } = await openPage(browser);
      await page.setRequestInterception(true);
      page.on("request", (request) => {
        if (new URL(request.url()).pathname === "/schema") {
          request.respond({ status: 200, contentType: "application/json", body: JSON.stringify(schema) });
        } else request.continue();
      });
      await page.goto(base.href);
      await page.waitForSelector("body[data-ready]");
      await page.select("#example", "1");
      await page.waitForFunction(() =>
        (document.querySelector('[name="age"]') as HTMLInputElement).value !== ""
      );
      await fill(page, { age: 17 });
      await page.click("#submit");
      await page.waitForFunction(() => document.querySelector("#f-age-error")?.textContent !== "");
      assert.equal(
        await text(page, '[data-field="age"] .field-error'),
        "17 is outside the accepted range 18–100",
      );
      assert.equal(await page.$eval('[name="age"]', (e) => e.getAttribute("aria-invalid")), "true");
      assert.equal(
        await text(page, "#form-message"),
        "The server found 1 problem(s); see the highlighted fields.",
      );
      assert.equal(await page.$("#decision"), null);
      await screenshot(page, "form-server-error");
      await page.click('.lang-switch button[data-lang="es"]');
      assert.equal(
        await text(page, '[data-field="age"] .field-error'),
        "Introduzca un valor entre 18 y 100.",
      );
      const provoked = (p: string) => /HTTP 422 .*\/predict$|status of 422/.test(p);
      assert.ok(problems.some(provoked), "the server answered 422");
      assert.deepEqual(problems.filter((p) => !provoked(p)), []);
      await close();
    });

    await t.step("the language switch relabels the form and the result, and is remembered", async () => {
      const { page, problems, close } = await openPage(browser);
      await page.goto(base.href);
      await page.waitForSelector("body[data-ready]");
      assert.equal(await text(page, 'label[for="f-duration"]'), "Duration");
      await page.click('.lang-switch button[data-lang="es"]');
      assert.equal(await page.$eval("html", (e) => e.lang), "es");
      assert.equal(await text(page, 'label[for="f-duration"]'), "Duración");
      assert.equal(await text(page, "#group-loan .group-title"), "El préstamo");
      assert.equal(await text(page, "#submit"), "Evaluar riesgo");
      assert.equal(await text(page, "h1"), "Evaluar una solicitud de crédito");
      assert.deepEqual(await accessibilityViolations(page), [], "the empty form, in Spanish");
      assert.equal(await text(page, '[name="checking_status"] option[value="A14"]'), "Sin cuenta corriente");
      assert.match(await text(page, "#f-duration-hint"), /^1–120 meses · /);
      assert.match(await text(page, '#example option[value="1"]'), /^Fila 1 · Radio \/ televisión/);
      assert.equal(
        await page.$eval('.lang-switch button[data-lang="es"]', (e) => e.getAttribute("aria-pressed")),
        "true",
      );

      await page.select("#example", "2");
      await page.click("#submit");
      await page.waitForSelector("#decision");
      assert.match(await text(page, "#decision"), /^(Aprobar|Rechazar|Revisión manual)$/);
      assert.match(await text(page, "#result"), /Probabilidad de impago calibrada/);
      const amountsEs = await page.$$eval("#reasons li .amount", (ls) => ls.map((l) => l.textContent ?? ""));
      assert.ok(
        amountsEs.length >= 1 && amountsEs.every((a) => /^[+−]\d+(,\d)? ptos$/.test(a)),
        amountsEs.join(),
      );
      assert.deepEqual(await accessibilityViolations(page), [], "the form with a decision, in Spanish");
      for (
        const sentence of await page.$$eval(
          "#reasons li .sentence",
          (ls) => ls.map((l) => l.textContent ?? ""),
        )
      ) {
        assert.match(sentence, /\b(aumentan?|reducen?) el riesgo/);
      }
      await screenshot(page, "form-spanish");

      await page.reload();
      await page.waitForSelector("body[data-ready]");
      assert.equal(await text(page, 'label[for="f-duration"]'), "Duración", "the choice is remembered");
      await page.click('.lang-switch button[data-lang="en"]');
      assert.equal(await text(page, 'label[for="f-duration"]'), "Duration");
      assert.equal(await text(page, "#group-personal .group-title"), "Personal");

      await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways on a phone by ${overflow}px`);
      await screenshot(page, "form-phone", false);
      assert.deepEqual(problems, []);
      await close();
    });

    await t.step("the dashboard lists the runs, sorts them, and draws a run's charts", async () => {
      const { page, problems, close } = await openPage(browser);
      await page.goto(new URL("/runs", base).href);
      await page.waitForSelector("body[data-ready]");
      const order = () =>
        page.$$eval("#runs-table tbody tr", (rows) => rows.map((r) => (r as HTMLElement).dataset.runId));
      assert.deepEqual(await order(), [trained.runId, fixtureRun, killedRun], "newest first");
      assert.deepEqual(await accessibilityViolations(page), [], "the runs table and monitoring");
      // At 1280 px the runs table fits: no sideways scrolling hides its last column (Duration).
      const hidden = await page.$eval("#runs-table", (table) => {
        const last = table.querySelector("thead th:last-child")!.getBoundingClientRect();
        let box = table.parentElement!;
        while (box !== document.body && getComputedStyle(box).overflowX === "visible") {
          box = box.parentElement!;
        }
        return last.right - box.getBoundingClientRect().right;
      });
      assert.ok(hidden <= 1, `the runs table's last column is ${hidden}px out of view`);
      assert.equal(await text(page, `tr[data-run-id="${fixtureRun}"] [data-stage]`), "v1 production");
      assert.equal(await text(page, `tr[data-run-id="${trained.runId}"] [data-stage]`), "v2 candidate");
      assert.equal(await text(page, `tr[data-run-id="${trained.runId}"] [data-status]`), "finished");
      // The nested column appears because one run has a nested summary; the others show a dash.
      assert.equal(
        await text(page, `tr[data-run-id="${trained.runId}"] [data-nested-cost]`),
        "0.513 SE 0.036",
      );
      assert.equal(await text(page, `tr[data-run-id="${fixtureRun}"] [data-nested-cost]`), "–");
      await page.click('th[data-key="started"] button');
      assert.equal(
        await page.$eval('th[data-key="started"]', (e) => e.getAttribute("aria-sort")),
        "ascending",
      );
      assert.deepEqual(await order(), [killedRun, fixtureRun, trained.runId]);
      assert.equal(await text(page, `tr[data-run-id="${killedRun}"] [data-status]`), "killed (stale)");
      assert.match(await text(page, `tr[data-run-id="${killedRun}"]`), /4 min 30 s$/);

      await page.click(`a[href="#run=${trained.runId}"]`);
      await page.waitForSelector("#detail figure.chart img");
      await page.waitForFunction(() => {
        const images = [...document.querySelectorAll("#detail figure.chart img")] as HTMLImageElement[];
        return images.length > 0 && images.every((image) => image.complete && image.naturalWidth > 0);
      });
      const charts = await page.$$eval("#detail figure.chart", (figures) =>
        figures.map((f) => ({
          name: (f as HTMLElement).dataset.chart,
          src: f.querySelector("img")!.getAttribute("src"),
          alt: f.querySelector("img")!.alt,
        })));
      assert.deepEqual(charts.map((c) => c.name), Object.keys(RUN_CHARTS));
      for (const chart of charts) {
        assert.ok(chart.alt.length > 10, `${chart.name} has alt text`);
        const response = await fetch(new URL(chart.src!, base));
        assert.equal(response.headers.get("content-type"), "image/svg+xml; charset=utf-8");
        assert.match(await response.text(), /^<svg/);
      }
      assert.ok(await page.$("#detail .metrics-table"));
      assert.ok(await page.$("#detail .fairness-table"));
      await page.click("#detail .links button");
      await page.waitForSelector("#model-card[open] .markdown h3");
      assert.match(await text(page, "#model-card .markdown h3"), /^Model card/);
      await screenshot(page, "runs-run");
      assert.deepEqual(await accessibilityViolations(page), [], "a run's view with fairness and model card");

      await page.click(`tr[data-run-id="${trained.runId}"] input[type="checkbox"]`);
      await page.click(`tr[data-run-id="${fixtureRun}"] input[type="checkbox"]`);
      await page.click("#compare");
      await page.waitForSelector("#detail .compare-table");
      assert.equal((await page.$$("#detail .compare-head")).length, 2);
      await page.waitForFunction(() =>
        ([...document.querySelectorAll("#detail img")] as HTMLImageElement[]).every((i) =>
          i.complete && i.naturalWidth > 0
        )
      );
      assert.ok((await page.$$("#detail .compare-row")).length >= Object.keys(RUN_CHARTS).length);
      await screenshot(page, "runs-compare");
      assert.deepEqual(await accessibilityViolations(page), [], "two runs compared");

      await page.goto(new URL(`/runs#run=${fixtureRun}`, base).href);
      await page.waitForSelector("#detail .empty-state");
      assert.match(await text(page, "#detail"), /This run has no curves/);
      assert.deepEqual(problems, []);
      await close();
    });
  } finally {
    await chromium?.close();
    await running?.shutdown();
    await fixture.cleanup();
  }
});

Deno.test({
  name: "README screenshots of the production model (UPDATE_SCREENSHOTS=1)",
  ignore: !Deno.env.get("UPDATE_SCREENSHOTS"),
  fn: async () => {
    const modelsDir = new URL("../../models", import.meta.url).pathname;
    const screenshots = new URL("../../static/screenshots/", import.meta.url);
    await Deno.mkdir(screenshots, { recursive: true });
    const holder = await ModelHolder.open({ modelsDir });
    const running = startServer({
      holder,
      logger: new Logger("off"),
      config: { port: 0, hostname: "127.0.0.1", batchWorkers: 0 },
    });
    const chromium = await launchChromium();
    try {
      const { page, problems, close } = await openPage(chromium.browser);
      await page.setViewport({ width: 1280, height: 1000 });
      await page.goto(running.url.href);
      await page.waitForSelector("body[data-ready]");
      await page.select("#example", "2");
      await page.click("#submit");
      await page.waitForSelector("#decision");
      await page.evaluate(() => scrollTo(0, 0));
      await page.screenshot({ path: new URL("form.png", screenshots).pathname as `${string}.png` });

      await page.setViewport({ width: 1440, height: 1500 });
      await page.goto(new URL(`/runs#run=${holder.current!.runId}`, running.url).href);
      await page.waitForSelector("#detail figure.chart img");
      await page.waitForFunction(() =>
        ([...document.querySelectorAll("#detail img")] as HTMLImageElement[]).every((i) =>
          i.complete && i.naturalWidth > 0
        )
      );
      await page.evaluate(() => scrollTo(0, 0));
      await page.screenshot({ path: new URL("runs.png", screenshots).pathname as `${string}.png` });
      assert.deepEqual(problems, []);
      await close();
    } finally {
      await chromium.close();
      await running.shutdown();
    }
  },
});
