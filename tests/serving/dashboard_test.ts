/**
 * The dashboard's routes in process (`app.request()`): the registry, chart SVGs rendered from a
 * real training run's artifacts (content type, cache headers, ETag revalidation, re-rendering when
 * an artifact changes), run artifacts, refusal of traversal and unknown runs; and the static app's
 * promises: pages without inline script or style attributes, and example applicants that are real
 * rows of `data/german.data`.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { RUN_CHARTS, SERVED_ARTIFACTS } from "../../pipeline/serving/routes/dashboard.ts";
import { ATTRIBUTE_NAMES } from "../../pipeline/data/schema.ts";
import { DEFAULT_TRAIN_OPTIONS, train } from "../../pipeline/model/train.ts";
import { germanApplicants, germanCredit, trainFixtureModel } from "../fixtures.ts";

const STATIC = new URL("../../static/", import.meta.url);
const DATA = new URL("../../data/german.data", import.meta.url).pathname;

/** A models folder with the fixture model in production and a real (small) training run beside it. */
async function dashboardModels() {
  const fixture = await trainFixtureModel({ nEstimators: 10 });
  try {
    const trained = await train({
      ...DEFAULT_TRAIN_OPTIONS,
      dataPath: DATA,
      modelsDir: fixture.modelsDir,
      trials: 4,
      folds: 3,
      // Small forests: the routes and charts need a real run's artifacts, not a good model (the
      // default 2 × 200 search trees and 600 final trees took 6 s of the suite).
      searchRepeats: 1,
      searchTrees: 20,
      trees: 40,
      seed: 7,
      promote: "never",
    });
    const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
    const app = createApp({ holder, logger: new Logger("off"), config: { batchWorkers: 0 } });
    return { fixture, trainedRun: trained.runId, fixtureRun: fixture.version.run_id, app };
  } catch (error) {
    await fixture.cleanup();
    throw error;
  }
}

Deno.test("dashboard routes", async (t) => {
  const { fixture, trainedRun, fixtureRun, app } = await dashboardModels();
  const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers });
  try {
    await t.step("GET /registry lists both versions with their stage", async () => {
      const response = await get("/registry");
      assert.equal(response.status, 200);
      assert.match(response.headers.get("content-type")!, /^application\/json/);
      assert.equal(response.headers.get("cache-control"), "no-cache");
      const registry = await response.json();
      const stages = Object.fromEntries(registry.models.map((m: { run_id: string; stage: string }) => [
        m.run_id,
        m.stage,
      ]));
      assert.deepEqual(stages, { [fixtureRun]: "production", [trainedRun]: "candidate" });
    });

    await t.step("a training run offers every chart; the fixture run (no artifacts) none", async () => {
      const response = await get(`/runs/${trainedRun}/charts`);
      assert.equal(response.status, 200);
      const { run_id, charts } = await response.json();
      assert.equal(run_id, trainedRun);
      assert.deepEqual(charts.map((c: { name: string }) => c.name), Object.keys(RUN_CHARTS));
      for (const chart of charts) assert.equal(chart.url, `/runs/${trainedRun}/charts/${chart.name}.svg`);
      const bare = await (await get(`/runs/${fixtureRun}/charts`)).json();
      assert.deepEqual(bare.charts, []);
    });

    await t.step(
      "every chart is an SVG with cache headers, no script, and 304 on a matching ETag",
      async () => {
        for (const name of Object.keys(RUN_CHARTS)) {
          const response = await get(`/runs/${trainedRun}/charts/${name}.svg`);
          assert.equal(response.status, 200, name);
          assert.equal(response.headers.get("content-type"), "image/svg+xml; charset=utf-8");
          assert.equal(response.headers.get("cache-control"), "public, max-age=300, must-revalidate");
          assert.equal(response.headers.get("x-content-type-options"), "nosniff");
          assert.match(response.headers.get("content-security-policy")!, /default-src 'none'/);
          const etag = response.headers.get("etag")!;
          assert.match(etag, /^"[0-9a-f]{24}"$/);
          const svg = await response.text();
          assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
          assert.doesNotMatch(svg, /<script|javascript:/i);
          assert.doesNotMatch(svg, /NaN/);
          const again = await get(`/runs/${trainedRun}/charts/${name}.svg`, { "if-none-match": etag });
          assert.equal(again.status, 304, name);
          assert.equal(again.headers.get("etag"), etag);
          assert.equal(await again.text(), "");
        }
      },
    );

    await t.step("a chart is rendered once and re-rendered when its artifact changes", async () => {
      const url = `/runs/${trainedRun}/charts/roc.svg`;
      const first = await get(url);
      const cached = await get(url);
      assert.equal(cached.headers.get("x-cache"), "hit");
      assert.equal(cached.headers.get("etag"), first.headers.get("etag"));
      assert.equal(await cached.text(), await first.text());

      const path = `${fixture.modelsDir}/runs/${trainedRun}/curves.json`;
      const curves = JSON.parse(await Deno.readTextFile(path));
      curves.roc = curves.roc.filter((_: unknown, i: number) => i % 2 === 0 || i === curves.roc.length - 1);
      await Deno.writeTextFile(path, JSON.stringify(curves));
      const changed = await get(url);
      assert.equal(changed.status, 200);
      assert.equal(changed.headers.get("x-cache"), "miss");
      assert.notEqual(changed.headers.get("etag"), first.headers.get("etag"));
    });

    await t.step("unknown runs, charts and artifacts answer 404", async () => {
      for (
        const path of [
          "/runs/20990101-000000-nosuch/charts",
          "/runs/20990101-000000-nosuch/charts/roc.svg",
          "/runs/20990101-000000-nosuch/artifacts/MODEL_CARD.md",
          `/runs/${trainedRun}/charts/nosuch.svg`,
          `/runs/${trainedRun}/charts/roc`,
          `/runs/${trainedRun}/charts/roc.png`,
          `/runs/${trainedRun}/charts/__proto__.svg`,
          `/runs/${trainedRun}/artifacts/model.json`,
          `/runs/${trainedRun}/artifacts/run.json`,
          `/runs/${fixtureRun}/charts/roc.svg`,
          `/runs/${fixtureRun}/artifacts/trials.csv`,
        ]
      ) {
        const response = await get(path);
        assert.equal(response.status, 404, path);
        assert.equal((await response.json()).error, "not_found", path);
      }
    });

    await t.step("traversal in the run id, chart or artifact name is refused", async () => {
      const secret = await Deno.readTextFile(`${fixture.modelsDir}/registry.json`);
      for (
        const path of [
          "/runs/..%2F..%2Fregistry/charts/roc.svg",
          "/runs/%2e%2e/charts",
          "/runs/%2e%2e%2f%2e%2e/artifacts/MODEL_CARD.md",
          "/runs/%252e%252e/charts/roc.svg",
          "/runs/a%00b/charts/roc.svg",
          `/runs/${trainedRun}/artifacts/..%2F..%2Fregistry.json`,
          `/runs/${trainedRun}/artifacts/%2e%2e%2frun.json`,
          `/runs/${trainedRun}/artifacts/..%252F..%252Fregistry.json`,
          `/runs/${trainedRun}/artifacts/MODEL_CARD.md%00`,
          `/runs/${trainedRun}/charts/..%2F..%2F..%2Fregistry.json.svg`,
          `/runs/${"x".repeat(65)}/charts/roc.svg`,
        ]
      ) {
        const response = await get(path);
        assert.ok([400, 404].includes(response.status), `${path}: ${response.status}`);
        const text = await response.text();
        assert.ok(!text.includes(secret.slice(0, 40)), path);
        assert.match(JSON.parse(text).error, /^(bad_request|not_found)$/, path);
      }
    });

    await t.step("artifacts are served with their content type and revalidated by ETag", async () => {
      for (const [name, type] of Object.entries(SERVED_ARTIFACTS)) {
        const response = await get(`/runs/${trainedRun}/artifacts/${name}`);
        assert.equal(response.status, 200, name);
        assert.equal(response.headers.get("content-type"), type);
        assert.equal(response.headers.get("x-content-type-options"), "nosniff");
        const text = await response.text();
        assert.equal(text, await Deno.readTextFile(`${fixture.modelsDir}/runs/${trainedRun}/${name}`));
        const etag = response.headers.get("etag")!;
        assert.equal(
          (await get(`/runs/${trainedRun}/artifacts/${name}`, { "if-none-match": etag })).status,
          304,
        );
      }
    });

    await t.step("the API document lists the dashboard routes", async () => {
      const document = await (await get("/openapi.json")).json();
      for (
        const path of [
          "/registry",
          "/runs/{id}/charts",
          "/runs/{id}/charts/{chart}",
          "/runs/{id}/artifacts/{name}",
        ]
      ) {
        assert.ok(document.paths[path]?.get, path);
      }
    });

    await t.step(
      "pages: right content types, a CSP without inline script, no inline script or style",
      async () => {
        const page = await get("/");
        assert.equal(page.status, 200);
        assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
        assert.equal(page.headers.get("cache-control"), "no-cache");
        const csp = page.headers.get("content-security-policy")!;
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        const runs = await get("/runs", { accept: "text/html,application/xhtml+xml,*/*;q=0.8" });
        assert.equal(runs.headers.get("content-type"), "text/html; charset=utf-8");
        assert.match(await runs.text(), /<script type="module" src="\/runs.js"><\/script>/);
        for (
          const [file, type] of [["app.js", "text/javascript"], ["style.css", "text/css"], [
            "favicon.svg",
            "image/svg+xml",
          ]]
        ) {
          const response = await get(`/${file}`);
          assert.equal(response.status, 200, file);
          assert.ok(response.headers.get("content-type")!.startsWith(type), file);
          await response.body?.cancel();
        }
        const pages = [...Deno.readDirSync(STATIC)].map((e) => e.name).filter((n) => n.endsWith(".html"));
        assert.ok(pages.length >= 4, pages.join(" "));
        for (const name of pages) {
          const html = await Deno.readTextFile(new URL(name, STATIC));
          for (const script of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
            assert.match(script[0], /\ssrc="\/[\w.-]+\.js"/, `${name}: a script without src`);
            assert.equal(script[1].trim(), "", `${name}: inline script`);
          }
          assert.doesNotMatch(html, /\sstyle\s*=/i, `${name}: a style attribute`);
          assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${name}: an inline event handler`);
          assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, `${name}: a resource from another origin`);
        }
        const modules = await browserModules();
        assert.ok(modules.includes("app.js") && modules.includes("runs.js"), modules.join(" "));
        for (const name of modules) {
          const code = await Deno.readTextFile(new URL(name, STATIC));
          assert.doesNotMatch(
            code,
            /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/,
            name,
          );
          assert.doesNotMatch(code, /setAttribute\(\s*["']style["']|https?:\/\/(?!www\.w3\.org)/, name);
          // The type check knows Deno's API (for the server types the JSDoc imports); browsers do not.
          assert.doesNotMatch(code, /\bDeno\./, name);
        }
      },
    );

    await t.step("every browser module is served as JavaScript, and every import it makes is", async () => {
      for (const name of await browserModules()) {
        const response = await get(`/${name}`);
        assert.equal(response.status, 200, name);
        assert.equal(response.headers.get("content-type"), "text/javascript; charset=utf-8", name);
        const code = await response.text();
        for (const [, specifier] of code.matchAll(/^\s*(?:import|export)\b[^"';]*?from\s+"([^"]+)"/gm)) {
          assert.match(specifier, /^\.\.?\/[\w./-]+\.js$/, `${name} imports ${specifier}`);
          const target = new URL(specifier, new URL(name, "http://app/")).pathname;
          const imported = await get(target);
          assert.equal(imported.status, 200, `${name} imports ${target}`);
          await imported.body?.cancel();
        }
      }
      // The type checker's configuration lives in the folder but is not part of the app.
      const config = await get("/deno.json");
      assert.equal(config.status, 404);
      await config.body?.cancel();
    });
  } finally {
    await fixture.cleanup();
  }
});

Deno.test("static/examples.json holds real rows of data/german.data, good and bad", async () => {
  const examples = JSON.parse(await Deno.readTextFile(new URL("examples.json", STATIC))).examples as {
    row: number;
    outcome: "good" | "bad";
    applicant: Record<string, unknown>;
  }[];
  const applicants = await germanApplicants();
  const bad = (await germanCredit()).bad!;
  assert.ok(examples.some((e) => e.outcome === "good") && examples.some((e) => e.outcome === "bad"));
  assert.equal(new Set(examples.map((e) => e.row)).size, examples.length);
  for (const example of examples) {
    assert.ok(Number.isInteger(example.row) && example.row >= 1 && example.row <= applicants.length);
    assert.deepEqual(Object.keys(example.applicant), [...ATTRIBUTE_NAMES], `row ${example.row}`);
    assert.deepEqual(
      example.applicant,
      applicants[example.row - 1],
      `row ${example.row} differs from the data`,
    );
    assert.equal(example.outcome, bad[example.row - 1] ? "bad" : "good", `row ${example.row}'s outcome`);
  }
});

/** The browser app's JavaScript modules, as paths under static/ (the entries and their folders). */
async function browserModules(dir = STATIC, prefix = ""): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory && !entry.name.startsWith(".")) {
      names.push(...await browserModules(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`));
    } else if (entry.isFile && entry.name.endsWith(".js")) names.push(`${prefix}${entry.name}`);
  }
  return names.sort();
}
