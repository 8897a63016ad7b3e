/** Notebook display helpers: HTML tables and MIME bundles. */

import assert from "node:assert/strict";
import {
  DISPLAY_SEQUENCE_KEY,
  type Displayable,
  escapeHtml,
  htmlTable,
  jupyterHtml,
  jupyterMarkdown,
  jupyterSvg,
  show,
} from "../../pipeline/report/jupyter.ts";
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

Deno.test("show numbers each display it sends, across calls, as the runner expects", async () => {
  const sent: { type: string; content: Record<string, unknown> }[] = [];
  const kernel = {
    format: (item: unknown) => Promise.resolve((item as Displayable)[Symbol.for("Jupyter.display")]()),
    broadcast: (type: string, content: Record<string, unknown>) => {
      sent.push({ type, content });
    },
  };
  const deno = Deno as unknown as { jupyter: unknown };
  deno.jupyter = kernel;
  try {
    await show(jupyterMarkdown("a"), jupyterHtml("<b>b</b>", "b"));
    await show(jupyterSvg("<svg></svg>"));
  } finally {
    deno.jupyter = undefined;
  }
  assert.deepEqual(sent, [
    {
      type: "display_data",
      content: {
        data: { "text/markdown": "a", "text/plain": "a" },
        metadata: { [DISPLAY_SEQUENCE_KEY]: 1 },
        transient: {},
      },
    },
    {
      type: "display_data",
      content: {
        data: { "text/html": "<b>b</b>", "text/plain": "b" },
        metadata: { [DISPLAY_SEQUENCE_KEY]: 2 },
        transient: {},
      },
    },
    {
      type: "display_data",
      content: {
        data: { "image/svg+xml": "<svg></svg>" },
        metadata: { [DISPLAY_SEQUENCE_KEY]: 3 },
        transient: {},
      },
    },
  ]);
});

Deno.test("show refuses to run outside the Jupyter kernel", async () => {
  await assert.rejects(show(jupyterMarkdown("a")), /needs the Deno Jupyter kernel/);
});
