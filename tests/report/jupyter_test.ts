/** Notebook display helpers: HTML tables and MIME bundles. */

import assert from "node:assert/strict";
import { escapeHtml, htmlTable, jupyterSvg } from "../../pipeline/report/jupyter.ts";
import { confusionMatrixSpec, renderSvg } from "../../pipeline/report/charts/mod.ts";

Deno.test("htmlTable escapes text and right-aligns numbers", () => {
  const table = htmlTable([{ name: "<b>&", n: 3 }], [
    { header: "name", cell: (r) => r.name },
    { header: "n", cell: (r) => r.n },
  ], { caption: 'a "caption"' });
  assert.match(table, /<caption>a &quot;caption&quot;<\/caption>/);
  assert.match(table, /<td style="text-align:left">&lt;b&gt;&amp;<\/td><td style="text-align:right">3<\/td>/);
  assert.equal(escapeHtml(`'`), "&#39;");
});

Deno.test("jupyterSvg hands the SVG to a notebook as image/svg+xml", async () => {
  const svg = await renderSvg(confusionMatrixSpec({ tp: 1, fp: 2, tn: 3, fn: 4 }));
  const display = jupyterSvg(svg)[Symbol.for("Jupyter.display")];
  assert.deepEqual(display(), { "image/svg+xml": svg });
});
