import assert from "node:assert/strict";
import {
  BAD_COLOR,
  badRateByCategorySpec,
  boxPlotByClassSpec,
  ChartInputError,
  ChartRenderError,
  confusionMatrixSpec,
  costCurveSpec,
  featureImportanceSpec,
  GOOD_COLOR,
  heatmapSpec,
  histogramByClassSpec,
  optimisationHistorySpec,
  parallelCoordinatesSpec,
  prCurveSpec,
  reliabilitySpec,
  type RenderOptions,
  renderSvg,
  rocCurveSpec,
  signedBarSpec,
  type VegaLiteSpec,
} from "../../pipeline/report/charts/mod.ts";
import { estimateTextWidth, vegaTextWidth } from "../../pipeline/report/charts/text_width.ts";

/** Renders and fails the test on any vega-lite or vega warning. */
async function render(spec: VegaLiteSpec, options: RenderOptions = {}): Promise<string> {
  const warnings: string[] = [];
  const svg = await renderSvg(spec, { onWarning: (message) => warnings.push(message), ...options });
  assert.deepEqual(warnings, [], "rendering logged warnings");
  assertWellFormedSvg(svg);
  return svg;
}

/** Checks the SVG is one root element whose tags all nest and close properly. */
function assertWellFormedSvg(svg: string): void {
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.endsWith("</svg>"), "SVG does not end with </svg>");
  const open: string[] = [];
  for (const [tag, closing, name, selfClosing] of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (closing) assert.equal(open.pop(), name, `unbalanced ${tag}`);
    else open.push(name);
  }
  assert.deepEqual(open, [], "unclosed tags");
  const width = Number(svg.match(/^<svg [^>]*\bwidth="([\d.]+)"/)?.[1]);
  const height = Number(svg.match(/^<svg [^>]*\bheight="([\d.]+)"/)?.[1]);
  assert.ok(width > 0 && height > 0, `bad SVG size ${width}x${height}`);
}

/** Number of drawn items of a kind, e.g. "bar", "rect mark", "line mark", "point", "box". */
function countItems(svg: string, role: string): number {
  return svg.split(`role="graphics-symbol" aria-roledescription="${role}"`).length - 1;
}

/** The aria-labels of the drawn items of a kind, in drawing order. */
function itemLabels(svg: string, role: string): string[] {
  const pattern = new RegExp(
    `aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="${role}"`,
    "g",
  );
  return [...svg.matchAll(pattern)].map((m) => m[1]);
}

/** Visible text of all text elements (tspans joined by a space). */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>(.*?)<\/text>/g)].map((m) =>
    m[1].replace(/<tspan[^>]*>(.*?)<\/tspan>/g, "$1 ").replace(/&amp;/g, "&").trim()
  );
}

function svgSize(svg: string): { width: number; height: number } {
  const [, width, height] = svg.match(/^<svg [^>]*\bwidth="([\d.]+)" height="([\d.]+)"/)!;
  return { width: Number(width), height: Number(height) };
}

const rocPoints = Array.from({ length: 30 }, (_, i) => ({ fpr: i / 29, tpr: Math.sqrt(i / 29) }));
const classValues = Array.from({ length: 200 }, (_, i) => ({
  value: 20 + (i % 37) + (i % 10 < 3 ? 8 : 0),
  label: i % 10 < 3 ? "bad" as const : "good" as const,
}));
const parallelTrials = Array.from({ length: 12 }, (_, i) => ({
  params: { max_depth: 2 + i, learning_rate: 10 ** (-3 + i / 4), criterion: i % 2 ? "gini" : "entropy" },
  value: 0.5 - 0.01 * i,
}));

Deno.test("renderSvg returns a standalone SVG with the ROC title, AUC and axis titles", async () => {
  const svg = await render(rocCurveSpec(rocPoints, { auc: 0.81234 }));
  const shown = texts(svg);
  assert.ok(shown.includes("ROC curve (AUC = 0.812)"), shown.join(" | "));
  assert.ok(shown.includes("False positive rate"));
  assert.ok(shown.includes("True positive rate"));
  assert.equal(countItems(svg, "line mark"), 2, "the curve and the chance diagonal");
  assert.ok(svg.includes('font-family="system-ui, sans-serif"'));
});

Deno.test("renderSvg keeps a caller's title and still shows the AUC", async () => {
  const svg = await render(rocCurveSpec(rocPoints, { auc: 0.7, title: "Fold 3" }));
  assert.ok(texts(svg).includes("Fold 3 (AUC = 0.700)"));
});

Deno.test("renderSvg gives byte-identical SVG for the same spec, whatever was rendered in between", async () => {
  const heat = () => heatmapSpec([{ x: "a", y: "b", value: 0.2 }, { x: "b", y: "a", value: 0.9 }]);
  const first = await render(heat());
  await render(heatmapSpec([{ x: "c", y: "d", value: 0.5 }]));
  await render(parallelCoordinatesSpec(parallelTrials));
  const second = await render(heat());
  assert.equal(second, first);
  assert.equal(
    await render(rocCurveSpec(rocPoints, { auc: 0.8 })),
    await render(rocCurveSpec(rocPoints, { auc: 0.8 })),
  );
});

Deno.test("renderSvg gives different charts different gradient ids, so they can share one HTML page", async () => {
  const a = await render(heatmapSpec([{ x: "a", y: "b", value: 0.2 }]));
  const b = await render(heatmapSpec([{ x: "a", y: "b", value: 0.7 }]));
  const idsOf = (svg: string) => [...svg.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(idsOf(a).length > 0, "heat map legend has a gradient");
  for (const id of idsOf(a)) {
    assert.ok(!idsOf(b).includes(id), `id ${id} used by both charts`);
    assert.ok(a.includes(`url(#${id})`), `id ${id} is defined but never referenced`);
  }
  const prefixed = await render(heatmapSpec([{ x: "a", y: "b", value: 0.2 }]), { idPrefix: "cv" });
  assert.match(prefixed, /id="cv-0"/);
  assert.match(prefixed, /url\(#cv-0\)/);
});

Deno.test("renderSvg scales the SVG without changing the drawing", async () => {
  const spec = confusionMatrixSpec({ tp: 1, fp: 2, tn: 3, fn: 4 });
  const plain = svgSize(await render(spec));
  const doubled = svgSize(await render(spec, { scale: 2 }));
  assert.deepEqual(doubled, { width: plain.width * 2, height: plain.height * 2 });
  await assert.rejects(renderSvg(spec, { scale: 0 }), /options\.scale/);
});

Deno.test("renderSvg refuses to load data from URLs or files", async () => {
  for (const url of ["https://example.com/data.json", "data/german.csv", "file:///etc/passwd"]) {
    const spec: VegaLiteSpec = {
      data: { url },
      mark: "point",
      encoding: { x: { field: "a", type: "quantitative" } },
    };
    await assert.rejects(renderSvg(spec, { onWarning: () => {} }), (error: Error) => {
      assert.ok(error instanceof ChartRenderError);
      assert.match(error.message, /disabled/);
      return true;
    });
  }
});

Deno.test("renderSvg gives the same bytes when charts render concurrently", async () => {
  const specs = [heatmapSpec([{ x: "a", y: "b", value: 0.4 }]), parallelCoordinatesSpec(parallelTrials)];
  const alone = await Promise.all(specs.map((spec) => render(spec)));
  const together = await Promise.all([...specs, ...specs].map((spec) => render(spec)));
  assert.deepEqual(together, [...alone, ...alone]);
});

Deno.test("renderSvg fails on a NaN scale instead of drawing an empty chart", async () => {
  const spec: VegaLiteSpec = {
    data: { values: [{ a: 1 }] },
    mark: "point",
    encoding: { x: { field: "a", type: "quantitative", scale: { domain: [NaN, 1] } } },
  };
  await assert.rejects(renderSvg(spec, { onWarning: () => {} }), ChartRenderError);
});

Deno.test("text widths follow DejaVu Sans, not vega's 0.8 em guess, and clamp at the label limit", () => {
  assert.equal(estimateTextWidth("Mm", { fontSize: 10 }), (863 + 974) / 100);
  assert.ok(
    estimateTextWidth("Mm", { fontSize: 10, fontWeight: 600 }) > estimateTextWidth("Mm", { fontSize: 10 }),
  );
  assert.equal(estimateTextWidth("é", { fontSize: 10 }), estimateTextWidth("e", { fontSize: 10 }));
  const label = "installment_commitment";
  assert.ok(
    estimateTextWidth(label, { fontSize: 12 }) < 0.75 * (0.8 * 12 * label.length),
    "vega guesses 0.8 em per glyph",
  );
  assert.equal(vegaTextWidth({ fontSize: 12, limit: 50 }, label), 50);
  assert.equal(vegaTextWidth({ fontSize: 12 }, "  ab "), estimateTextWidth("ab", { fontSize: 12 }));
});

Deno.test("renderSvg keeps ordinary links but refuses images and script links", async () => {
  const linked = (href: string): VegaLiteSpec => ({
    data: { values: [{ a: 1, href }] },
    mark: "bar",
    encoding: { x: { field: "a", type: "quantitative" }, href: { field: "href" } },
  });
  assert.match(await render(linked("/runs/2024-01-01")), /<a xlink:href="\/runs\/2024-01-01">/);
  await assert.rejects(
    renderSvg(linked("javascript:alert(1)")),
    /link "javascript:alert\(1\)" is not allowed/,
  );
  const image: VegaLiteSpec = {
    data: { values: [{ a: 1, url: "https://example.com/logo.png" }] },
    mark: { type: "image", width: 10, height: 10 },
    encoding: { x: { field: "a", type: "quantitative" }, url: { field: "url" } },
  };
  await assert.rejects(renderSvg(image), /loading "https:\/\/example\.com\/logo\.png" is disabled/);
});

Deno.test("default plot size is 420 x 300", () => {
  const spec = costCurveSpec([{ threshold: 0.1, cost: 1 }, { threshold: 0.5, cost: 2 }], {
    chosenThreshold: 0.2,
  });
  assert.equal((spec as { width: number }).width, 420);
  assert.equal((spec as { height: number }).height, 300);
  const custom = histogramByClassSpec(classValues, { fieldTitle: "Age", width: 600, height: 200 });
  assert.equal((custom as { width: number }).width, 600);
  assert.throws(() => histogramByClassSpec(classValues, { fieldTitle: "Age", width: -1 }), /options\.width/);
});

Deno.test("prCurveSpec draws the curve, the base rate and the AP", async () => {
  const points = rocPoints.map((p) => ({ recall: p.tpr, precision: 1 - 0.6 * p.fpr }));
  const svg = await render(prCurveSpec(points, { ap: 0.61, baseRate: 0.3 }));
  const shown = texts(svg);
  assert.ok(shown.includes("Precision–recall (AP = 0.610)"));
  assert.ok(shown.includes("base rate 0.300"));
  assert.ok(shown.includes("Recall") && shown.includes("Precision"));
  assert.equal(countItems(svg, "line mark"), 1);
  assert.equal(countItems(svg, "rule mark"), 1);
});

Deno.test("costCurveSpec marks the chosen threshold and each reference threshold", async () => {
  const sweep = Array.from(
    { length: 50 },
    (_, i) => ({ threshold: (i + 1) / 51, cost: (i / 50 - 0.2) ** 2 }),
  );
  const references = [{ threshold: 1 / 6, label: "1/6 (Bayes)" }, { threshold: 0.5, label: "0.5" }];
  const svg = await render(costCurveSpec(sweep, { chosenThreshold: 0.2, references }));
  const shown = texts(svg);
  assert.ok(shown.includes("chosen 0.200"));
  assert.ok(shown.includes("1/6 (Bayes)"));
  assert.ok(shown.includes("Decision threshold on P(bad)") && shown.includes("Expected cost"));
  assert.equal(countItems(svg, "rule mark"), 3, "two references and the chosen threshold");
  assert.equal(countItems(svg, "point"), 1, "the chosen operating point");
});

Deno.test("confusionMatrixSpec labels actual rows, predicted columns, counts and shares", async () => {
  const svg = await render(confusionMatrixSpec({ tp: 62, fp: 88, tn: 122, fn: 28 }));
  const shown = texts(svg);
  assert.equal(countItems(svg, "rect mark"), 4);
  for (const label of ["Actual", "Predicted", "good", "bad", "approve", "decline", "122", "88", "28", "62"]) {
    assert.ok(shown.includes(label), `missing "${label}" in ${shown.join(" | ")}`);
  }
  assert.ok(shown.includes("40.7% · TN") && shown.includes("20.7% · TP"));
});

Deno.test("optimisationHistorySpec plots each valued trial and a best-so-far that never worsens", async () => {
  const values = [0.5, 0.45, null, 0.47, 0.40, 0.42, 0.39];
  const states = ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE", "PRUNED", "COMPLETE", "COMPLETE"];
  const trials = values.map((value, number) => ({ number, value, state: states[number] }));
  const spec = optimisationHistorySpec(trials, { direction: "minimize" });
  const best =
    (spec as { layer: { data: { values: { number: number; value: number }[] } }[] }).layer[1].data.values;
  assert.deepEqual(best.map((b) => b.value), [0.5, 0.45, 0.45, 0.42, 0.39], "pruned trial 4 is not a best");
  const svg = await render(spec);
  assert.equal(countItems(svg, "point"), 6);
  assert.equal(countItems(svg, "line mark"), 1);
  const shown = texts(svg);
  assert.ok(shown.includes("7 trials, minimize; 1 without a value"));
  assert.ok(shown.includes("best so far") && shown.includes("PRUNED"));

  const maximised = optimisationHistorySpec(trials, { direction: "maximize" });
  const bestUp =
    (maximised as typeof spec & { layer: { data: { values: { value: number }[] } }[] }).layer[1].data
      .values;
  assert.deepEqual(bestUp.map((b) => b.value), [0.5, 0.5, 0.5, 0.5, 0.5]);
});

Deno.test("featureImportanceSpec draws the top bars, largest first, with full names", async () => {
  const items = Array.from({ length: 25 }, (_, i) => ({ name: `feature_number_${i}`, importance: i / 100 }));
  items.push({ name: "installment_commitment", importance: 0.9 });
  const svg = await render(featureImportanceSpec(items, { top: 20 }));
  assert.equal(countItems(svg, "bar"), 20);
  const labels = itemLabels(svg, "bar");
  assert.ok(labels[0].startsWith("installment_commitment:"), labels[0]);
  assert.ok(labels[1].startsWith("feature_number_24:"), labels[1]);
  assert.ok(texts(svg).includes("installment_commitment"), "label cut or missing");
  assert.ok(!svg.includes("\u2026"), "a label was ellipsised");
  assert.equal(
    countItems(await render(featureImportanceSpec(items.slice(0, 5))), "bar"),
    5,
    "default top is 20",
  );
});

Deno.test("parallelCoordinatesSpec draws one line per trial across every hyperparameter", async () => {
  const svg = await render(parallelCoordinatesSpec(parallelTrials, { direction: "minimize" }));
  assert.equal(countItems(svg, "line mark"), parallelTrials.length);
  const shown = texts(svg);
  for (const label of ["max_depth", "learning_rate (log)", "criterion", "gini", "entropy", "Objective"]) {
    assert.ok(shown.includes(label), `missing "${label}"`);
  }
});

Deno.test("histogramByClassSpec overlays good and bad in the class colours", async () => {
  const svg = await render(histogramByClassSpec(classValues, { fieldTitle: "Duration (months)", bins: 10 }));
  const bars = countItems(svg, "bar");
  assert.ok(bars >= 10 && bars <= 2 * 12, `${bars} bars`);
  assert.ok(svg.includes(`fill="${GOOD_COLOR}"`) && svg.includes(`fill="${BAD_COLOR}"`));
  const shown = texts(svg);
  assert.ok(shown.includes("Duration (months)") && shown.includes("good") && shown.includes("bad"));
});

Deno.test("boxPlotByClassSpec draws one box per class", async () => {
  const svg = await render(boxPlotByClassSpec(classValues, { fieldTitle: "Age (years)" }));
  assert.equal(countItems(svg, "bar"), 2);
  assert.ok(texts(svg).includes("Age (years)"));
});

Deno.test("badRateByCategorySpec draws a bar per category, the overall rate and the counts", async () => {
  const rows = [
    { category: "A30", label: "No credits taken / all paid back duly", count: 40, badRate: 0.625 },
    { category: "A31", label: "All credits at this bank paid back duly", count: 49, badRate: 0.571 },
    { category: "A32", label: "Existing credits paid back duly till now", count: 530, badRate: 0.319 },
    { category: "A33", label: "", count: 88, badRate: 0.318 },
    {
      category: "A34",
      label: "Critical account / other credits existing (not at this bank)",
      count: 293,
      badRate: 0.171,
    },
  ];
  const svg = await render(badRateByCategorySpec(rows, { overallBadRate: 0.3, title: "Credit history" }));
  assert.equal(countItems(svg, "bar"), rows.length);
  assert.equal(countItems(svg, "rule mark"), 1);
  const shown = texts(svg);
  for (const label of ["Credit history", "overall 30.0%", "n = 40", "n = 293", "A33", "Bad rate"]) {
    assert.ok(shown.includes(label), `missing "${label}"`);
  }
  assert.ok(
    shown.some((t) =>
      t.replace(/\s+/g, " ") === "Critical account / other credits existing (not at this bank)"
    ),
    "long label should wrap onto two lines, not be cut",
  );
  const fills = [...svg.matchAll(/aria-roledescription="bar" d="[^"]*" fill="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(fills, [BAD_COLOR, BAD_COLOR, BAD_COLOR, BAD_COLOR, GOOD_COLOR], "red above overall");
});

Deno.test("heatmapSpec draws every cell with its value, diverging when the domain spans 0", async () => {
  const names = ["duration", "credit_amount", "age"];
  const cells = names.flatMap((x, i) =>
    names.map((y, j) => ({ x, y, value: i === j ? 1 : -0.25 * (i + j) }))
  );
  const svg = await render(heatmapSpec(cells, { title: "Correlation", domain: [-1, 1] }));
  assert.equal(countItems(svg, "rect mark"), cells.length);
  const shown = texts(svg);
  assert.ok(shown.includes("1.00") && shown.includes("-0.75") && shown.includes("credit_amount"));
  assert.throws(() => heatmapSpec(cells, { domain: [1, 0] }), /options\.domain/);
});

Deno.test("reliabilitySpec plots non-empty bins against the diagonal", async () => {
  const bins = [
    { meanPredicted: 0.1, observed: 0.08, count: 120 },
    { meanPredicted: 0.3, observed: 0.35, count: 60 },
    { meanPredicted: 0.5, observed: NaN, count: 0 },
    { meanPredicted: 0.7, observed: 0.66, count: 20 },
  ];
  const svg = await render(reliabilitySpec(bins));
  assert.equal(countItems(svg, "point"), 3);
  assert.equal(countItems(svg, "line mark"), 2);
  assert.ok(texts(svg).includes("Observed bad rate"));
});

Deno.test("signedBarSpec colours risk-raising bars red and risk-lowering bars green, largest first", async () => {
  const items = [
    { name: "age = 23", value: 0.012 },
    { name: "checking_status = < 0 DM", value: 0.081 },
    { name: "credit_history = critical account", value: -0.044 },
  ];
  const svg = await render(signedBarSpec(items));
  assert.equal(countItems(svg, "bar"), 3);
  const fills = [...svg.matchAll(/aria-roledescription="bar" d="[^"]*" fill="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(fills, [BAD_COLOR, GOOD_COLOR, BAD_COLOR]);
  assert.ok(itemLabels(svg, "bar")[0].startsWith("checking_status = &lt; 0 DM: raises risk"));
  const shown = texts(svg);
  assert.ok(shown.includes("+0.081") && shown.includes("\u22120.044") && shown.includes("raises risk"));
});

Deno.test("builders reject empty input with an error naming the argument", () => {
  const empty: never[] = [];
  const cases: [string, () => unknown][] = [
    ["points", () => rocCurveSpec(empty, { auc: 0.5 })],
    ["points", () => prCurveSpec(empty, { ap: 0.5, baseRate: 0.3 })],
    ["sweep", () => costCurveSpec(empty, { chosenThreshold: 0.2 })],
    ["trials", () => optimisationHistorySpec(empty, { direction: "minimize" })],
    ["items", () => featureImportanceSpec(empty)],
    ["trials", () => parallelCoordinatesSpec(empty)],
    ["values", () => histogramByClassSpec(empty, { fieldTitle: "x" })],
    ["values", () => boxPlotByClassSpec(empty, { fieldTitle: "x" })],
    ["rows", () => badRateByCategorySpec(empty, { overallBadRate: 0.3 })],
    ["cells", () => heatmapSpec(empty)],
    ["bins", () => reliabilitySpec(empty)],
    ["items", () => signedBarSpec(empty)],
  ];
  for (const [argument, build] of cases) {
    assert.throws(build, (error: Error) => {
      assert.ok(error instanceof ChartInputError, String(error));
      assert.match(error.message, new RegExp(`^\\w+Spec: ${argument} is empty`));
      return true;
    });
  }
  assert.throws(() => confusionMatrixSpec({ tp: 0, fp: 0, tn: 0, fn: 0 }), /all zero/);
});

Deno.test("builders reject NaN and out-of-range values, naming the element", () => {
  const cases: [RegExp, () => unknown][] = [
    [
      /rocCurveSpec: points\[1\]\.tpr must be a finite number, got NaN/,
      () => rocCurveSpec([{ fpr: 0, tpr: 0 }, { fpr: 0.5, tpr: NaN }], { auc: 0.5 }),
    ],
    [
      /rocCurveSpec: options\.auc must be a finite number, got NaN/,
      () => rocCurveSpec(rocPoints, { auc: NaN }),
    ],
    [
      /prCurveSpec: points\[0\]\.precision must lie in \[0, 1\], got 1\.5/,
      () => prCurveSpec([{ recall: 0, precision: 1.5 }], { ap: 0.5, baseRate: 0.3 }),
    ],
    [
      /costCurveSpec: options\.chosenThreshold must be a finite number, got undefined/,
      () => costCurveSpec([{ threshold: 0, cost: 1 }], {} as { chosenThreshold: number }),
    ],
    [
      /confusionMatrixSpec: counts\.fn must be a non-negative integer, got -1/,
      () => confusionMatrixSpec({ tp: 1, fp: 1, tn: 1, fn: -1 }),
    ],
    [
      /optimisationHistorySpec: trials\[0\]\.value must be a finite number, got NaN/,
      () =>
        optimisationHistorySpec([{ number: 0, value: NaN, state: "COMPLETE" }], { direction: "minimize" }),
    ],
    [
      /optimisationHistorySpec: no trial in trials has a value/,
      () => optimisationHistorySpec([{ number: 0, value: null, state: "FAIL" }], { direction: "minimize" }),
    ],
    [
      /optimisationHistorySpec: options\.direction must be "minimize" or "maximize"/,
      () =>
        optimisationHistorySpec(
          [{ number: 0, value: 1, state: "COMPLETE" }],
          {} as { direction: "minimize" },
        ),
    ],
    [
      /featureImportanceSpec: items has two elements with name "a"/,
      () => featureImportanceSpec([{ name: "a", importance: 1 }, { name: "a", importance: 2 }]),
    ],
    [
      /featureImportanceSpec: options\.top must be a positive integer, got 0/,
      () => featureImportanceSpec([{ name: "a", importance: 1 }], { top: 0 }),
    ],
    [
      /parallelCoordinatesSpec: trials\[0\]\.params\.depth must be a finite number, got Infinity/,
      () => parallelCoordinatesSpec([{ params: { depth: Infinity }, value: 1 }]),
    ],
    [
      /histogramByClassSpec: values\[0\]\.label must be "good" or "bad", got 1/,
      () => histogramByClassSpec([{ value: 1, label: 1 as unknown as "good" }], { fieldTitle: "x" }),
    ],
    [
      /boxPlotByClassSpec: values\[0\]\.value must be a finite number, got NaN/,
      () => boxPlotByClassSpec([{ value: NaN, label: "good" }], { fieldTitle: "x" }),
    ],
    [
      /badRateByCategorySpec: options\.overallBadRate must lie in \[0, 1\], got 30/,
      () =>
        badRateByCategorySpec([{ category: "A", label: "a", count: 1, badRate: 0.3 }], {
          overallBadRate: 30,
        }),
    ],
    [
      /heatmapSpec: cells\[0\]\.value must be a finite number, got NaN/,
      () => heatmapSpec([{ x: "a", y: "b", value: NaN }]),
    ],
    [
      /reliabilitySpec: bins\[0\]\.observed must be a finite number, got NaN/,
      () => reliabilitySpec([{ meanPredicted: 0.5, observed: NaN, count: 3 }]),
    ],
    [
      /signedBarSpec: items\[0\]\.name must be a non-empty string/,
      () => signedBarSpec([{ name: "", value: 1 }]),
    ],
  ];
  for (const [message, build] of cases) {
    assert.throws(build, (error: Error) => {
      assert.ok(error instanceof ChartInputError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }
});
