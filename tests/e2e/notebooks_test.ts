/**
 * Checks the committed notebooks without executing them (CI executes them with `deno task eda`):
 * valid nbformat-4 JSON on the Deno kernel, every code cell executed top to bottom without an error,
 * SVG figures present, and no volatile metadata left for a re-run to change.
 */

import assert from "node:assert/strict";
import {
  cellProblems,
  KERNEL_NAME,
  type Notebook,
  NOTEBOOKS,
  serializeNotebook,
  stripVolatileMetadata,
} from "../../pipeline/report/notebooks.ts";

async function readNotebook(path: string): Promise<Notebook> {
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text) as Notebook;
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

const codeCells = (notebook: Notebook) => notebook.cells.filter((c) => c.cell_type === "code");
const text = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join("") : value ?? "");

for (const path of NOTEBOOKS) {
  Deno.test(`${path}: nbformat 4 on the Deno kernel`, async () => {
    const notebook = await readNotebook(path);
    assert.equal(notebook.nbformat, 4);
    assert.equal(notebook.metadata.kernelspec?.name, KERNEL_NAME);
    assert.equal(notebook.metadata.kernelspec?.language, "typescript");
    assert.ok(Array.isArray(notebook.cells) && notebook.cells.length > 0, "the notebook has cells");
    const ids = notebook.cells.map((c) => c.id);
    assert.ok(ids.every((id) => typeof id === "string" && id !== ""), "every cell has an id");
    assert.equal(new Set(ids).size, ids.length, "cell ids are unique");
  });

  Deno.test(`${path}: every code cell ran, in order, without an error`, async () => {
    const notebook = await readNotebook(path);
    const problems = cellProblems(notebook);
    assert.deepEqual(
      problems.map((p) => `cell ${p.cell} (${p.id}): ${p.message}`),
      [],
      `${path} has failed or unexecuted cells; run deno task eda`,
    );
    const counts = codeCells(notebook).map((c) => c.execution_count);
    assert.deepEqual(
      counts,
      counts.map((_, i) => i + 1),
      "execution counts run 1, 2, 3, … (one top-to-bottom run)",
    );
  });

  Deno.test(`${path}: figures are inline SVG and findings are written out`, async () => {
    const notebook = await readNotebook(path);
    const outputs = codeCells(notebook).flatMap((c) => c.outputs ?? []);
    const svgs = outputs.map((o) => text(o.data?.["image/svg+xml"] as string | string[] | undefined))
      .filter((svg) => svg !== "");
    assert.ok(svgs.length >= 5, `expected several SVG figures, found ${svgs.length}`);
    for (const svg of svgs) assert.match(svg, /^<svg[\s\S]*<\/svg>\s*$/, "a complete SVG document");
    assert.ok(
      svgs.every((svg) => !/<script/i.test(svg)),
      "figures need no JavaScript",
    );
    const findings = outputs.filter((o) =>
      text(o.data?.["text/markdown"] as string | string[]).includes("Finding")
    );
    assert.ok(findings.length >= 4, `expected written findings, found ${findings.length}`);
    assert.ok(outputs.some((o) => o.data?.["text/html"] !== undefined), "tables are HTML");
  });

  Deno.test(`${path}: committed without volatile metadata`, async () => {
    const raw = await Deno.readTextFile(path);
    const notebook = JSON.parse(raw) as Notebook;
    assert.equal(
      raw,
      serializeNotebook(stripVolatileMetadata(notebook)),
      `${path} carries execution timestamps or kernel version noise; run deno task eda`,
    );
  });
}
