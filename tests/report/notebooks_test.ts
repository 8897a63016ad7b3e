/**
 * The notebook runner's checks, on hand-built notebooks: volatile metadata stripped, failed cells
 * and lost displays found. Executing real notebooks is the end-to-end test's job.
 */

import assert from "node:assert/strict";
import {
  cellProblems,
  missingDisplays,
  type Notebook,
  type NotebookCell,
  serializeNotebook,
  stripVolatileMetadata,
} from "../../pipeline/report/notebooks.ts";
import { DISPLAY_SEQUENCE_KEY } from "../../pipeline/report/jupyter.ts";

/** A code cell that ran, with one display output per sequence number given. */
function codeCell(id: string, source: string, numbers: number[], executionCount = 1): NotebookCell {
  return {
    cell_type: "code",
    id,
    source,
    metadata: { execution: { "iopub.status.busy": "2026-01-01T00:00:00Z" }, tags: ["kept"] },
    execution_count: executionCount,
    outputs: numbers.map((n) => ({
      output_type: "display_data",
      data: { "text/plain": `output ${n}` },
      metadata: { [DISPLAY_SEQUENCE_KEY]: n },
    })),
  };
}

function notebook(cells: NotebookCell[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "deno" }, language_info: { name: "typescript", version: "5.9.2" } },
    cells,
  };
}

Deno.test("stripVolatileMetadata drops timings, the kernel version and display numbers only", () => {
  const original = notebook([codeCell("a", "await show(x);", [1, 2])]);
  const stripped = stripVolatileMetadata(original);
  assert.deepEqual(stripped.cells[0].metadata, { tags: ["kept"] });
  assert.deepEqual(stripped.cells[0].outputs!.map((o) => o.metadata), [{}, {}]);
  assert.deepEqual(stripped.metadata.language_info, { name: "typescript" });
  assert.equal(original.cells[0].outputs![0].metadata![DISPLAY_SEQUENCE_KEY], 1, "the input is not changed");
  const text = serializeNotebook(stripped);
  assert.equal(
    text,
    serializeNotebook(stripVolatileMetadata(JSON.parse(text))),
    "stripping twice changes nothing",
  );
  assert.ok(text.endsWith("}\n"));
});

Deno.test("missingDisplays: a complete run has none", () => {
  const complete = notebook([
    codeCell("setup", "const x = 1;", []),
    codeCell("a", "await show(x, y);", [1, 2]),
    { cell_type: "markdown", id: "m", source: "text", metadata: {} },
    codeCell("b", "for (const v of vs) await show(v);", [3, 4, 5]),
    codeCell("c", "await show(summary);", [6]),
  ]);
  assert.deepEqual(missingDisplays(complete), []);
});

Deno.test("missingDisplays finds a gap within or between cells and a last cell left empty", () => {
  const lost = notebook([
    codeCell("a", "await show(x, y, z);", [1, 3]),
    codeCell("b", "await show(v);", [6]),
    codeCell("c", "await show(summary);", []),
  ]);
  assert.deepEqual(
    missingDisplays(lost).map((p) => [p.cell, p.id, p.message]),
    [
      [1, "a", "display 2 did not arrive"],
      [2, "b", "displays 4–5 did not arrive"],
      [3, "c", "the cell calls show() but no display arrived"],
    ],
  );
});

Deno.test("cellProblems reports errors and cells that never ran", () => {
  const failed = notebook([
    codeCell("a", "await show(x);", [1]),
    {
      ...codeCell("b", "boom();\nmore", [], 2),
      outputs: [{
        output_type: "error",
        ename: "ReferenceError",
        evalue: "boom is not defined",
        traceback: [],
      }],
    },
    { ...codeCell("c", "never()", []), execution_count: null },
  ]);
  assert.deepEqual(
    cellProblems(failed).map((p) => [p.cell, p.firstLine, p.message]),
    [
      [2, "boom();", "ReferenceError: boom is not defined"],
      [3, "never()", "the cell was not executed"],
    ],
  );
});
