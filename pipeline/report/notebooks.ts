/**
 * Executes the notebooks headlessly with Jupyter's nbconvert on the Deno kernel, then writes each
 * back in place without volatile metadata (execution timestamps, the kernel's TypeScript version),
 * so that re-running unchanged notebooks leaves no diff. `deno task eda` (`pipeline/cli/eda.ts`) is
 * the entry point; the notebook test reads the same definitions.
 *
 * The kernel comes from the project's own kernelspec in `.ci/jupyter/kernels/deno`, found through
 * `JUPYTER_PATH`, so no `deno jupyter --install` is needed. A notebook is replaced only when every
 * cell ran without error; otherwise {@link executeNotebook} throws a {@link NotebookError} naming the
 * notebook and the failing cells, and the committed notebook is left as it was.
 * @module
 */

import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../tracking/atomic.ts";
import { DISPLAY_SEQUENCE_KEY } from "./jupyter.ts";

/** The notebooks `deno task eda` executes, in order. */
export const NOTEBOOKS: readonly string[] = ["notebooks/01_eda.ipynb", "notebooks/02_model_report.ipynb"];

/** The kernel every notebook runs on: the name of the kernelspec in `.ci/jupyter/kernels/`. */
export const KERNEL_NAME = "deno";

/** Debian's Jupyter; `python3` on PATH may be another interpreter without nbconvert. */
export const DEFAULT_JUPYTER = "/usr/bin/jupyter";

/** Seconds one cell may run before nbconvert gives up. */
const CELL_TIMEOUT_S = 600;

/** The directory holding `kernels/deno/kernel.json`, given to Jupyter as `JUPYTER_PATH`. */
const JUPYTER_DATA_DIR = new URL("../../.ci/jupyter", import.meta.url).pathname;

/** A notebook document (nbformat 4), loosely typed. */
export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown> & {
    kernelspec?: { name?: string; language?: string; display_name?: string };
    language_info?: Record<string, unknown>;
  };
  cells: NotebookCell[];
}

/** One notebook cell, loosely typed. */
export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  id?: string;
  source: string | string[];
  metadata: Record<string, unknown>;
  execution_count?: number | null;
  outputs?: NotebookOutput[];
}

/** One output of a code cell, loosely typed. */
export interface NotebookOutput {
  output_type: "stream" | "display_data" | "execute_result" | "error";
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}

/** A cell that failed: where it is and what it raised. */
export interface CellProblem {
  /** 1-based position among all cells, as a notebook frontend numbers them. */
  cell: number;
  id: string;
  /** First line of the cell's source, to recognise it. */
  firstLine: string;
  message: string;
  traceback: string[];
}

/** Cell metadata keys that record when and how long a cell ran. */
const VOLATILE_CELL_METADATA = ["execution", "ExecuteTime"];

/**
 * Removes what changes on every run without the notebook changing: cell timings, the kernel's
 * version and the numbers `show` gives its displays.
 */
export function stripVolatileMetadata(notebook: Notebook): Notebook {
  const copy = structuredClone(notebook);
  for (const cell of copy.cells) {
    for (const key of VOLATILE_CELL_METADATA) delete cell.metadata?.[key];
    for (const output of cell.outputs ?? []) delete output.metadata?.[DISPLAY_SEQUENCE_KEY];
  }
  if (copy.metadata.language_info) delete copy.metadata.language_info.version;
  return copy;
}

/** Serialises a notebook exactly as nbformat writes it: keys sorted, one-space indent, trailing newline. */
export function serializeNotebook(notebook: Notebook): string {
  return JSON.stringify(sortKeys(notebook), null, 1) + "\n";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

const ANSI = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*m", "g");

/** Error outputs of a notebook's cells, plus code cells that never ran. */
export function cellProblems(notebook: Notebook): CellProblem[] {
  const problems: CellProblem[] = [];
  notebook.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    const where = { cell: i + 1, id: cell.id ?? "", firstLine: source.split("\n")[0].slice(0, 80) };
    for (const output of cell.outputs ?? []) {
      if (output.output_type !== "error") continue;
      problems.push({
        ...where,
        message: `${output.ename ?? "Error"}: ${output.evalue ?? ""}`.replace(ANSI, ""),
        traceback: (output.traceback ?? []).map((line) => line.replace(ANSI, "")),
      });
    }
    if (source.trim() !== "" && typeof cell.execution_count !== "number") {
      problems.push({ ...where, message: "the cell was not executed", traceback: [] });
    }
  });
  return problems;
}

/** Code cells that wrote to stderr: not errors, but noise a committed notebook should not carry. */
export function stderrCells(notebook: Notebook): number[] {
  return notebook.cells.flatMap((cell, i) =>
    (cell.outputs ?? []).some((o) => o.output_type === "stream" && o.name === "stderr") ? [i + 1] : []
  );
}

/**
 * Displays `show` sent that the executed notebook lacks: a gap in the numbers it gives its displays,
 * or a cell that calls `show` without a numbered output (which catches a loss at the very end,
 * where no later number shows the gap). Outputs without a number are not counted.
 */
export function missingDisplays(notebook: Notebook): CellProblem[] {
  const problems: CellProblem[] = [];
  let expected = 1;
  notebook.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    const where = {
      cell: i + 1,
      id: cell.id ?? "",
      firstLine: source.split("\n")[0].slice(0, 80),
      traceback: [],
    };
    const numbers = (cell.outputs ?? []).map((o) => o.metadata?.[DISPLAY_SEQUENCE_KEY])
      .filter((n): n is number => typeof n === "number");
    for (const n of numbers) {
      if (n > expected) {
        const lost = n - expected === 1 ? `display ${expected}` : `displays ${expected}–${n - 1}`;
        problems.push({ ...where, message: `${lost} did not arrive` });
      }
      expected = Math.max(expected, n + 1);
    }
    if (numbers.length === 0 && /\bshow\(/.test(source)) {
      problems.push({ ...where, message: "the cell calls show() but no display arrived" });
    }
  });
  return problems;
}

/** Formats the problems of one notebook as the message `deno task eda` prints. */
export function formatProblems(path: string, problems: readonly CellProblem[]): string {
  return problems.map((p) =>
    [
      `${path}: cell ${p.cell}${p.id ? ` (id ${p.id})` : ""} failed: ${p.message}`,
      `  source: ${p.firstLine}`,
      ...p.traceback.slice(0, 12).map((line) => `  ${line}`),
    ].join("\n")
  ).join("\n");
}

/** Why a notebook could not be executed; the message names the notebook. */
export class NotebookError extends UserError {
  override name = "NotebookError";
  constructor(readonly path: string, message: string) {
    super(message);
  }
}

/** How many times {@link executeNotebook} runs a notebook whose displays did not all arrive. */
export const DISPLAY_ATTEMPTS = 3;

/**
 * Executes one notebook and, when every cell succeeds and every display arrived, rewrites it in
 * place; returns the seconds taken. A run that lost displays on the way from the kernel (see
 * {@link missingDisplays}) is repeated, up to {@link DISPLAY_ATTEMPTS} runs in all.
 */
export async function executeNotebook(path: string, options: { jupyter?: string } = {}): Promise<number> {
  const started = performance.now();
  for (let attempt = 1;; attempt++) {
    const executed = await runNbconvert(path, options.jupyter ?? DEFAULT_JUPYTER);
    const problems = cellProblems(executed);
    if (problems.length > 0) {
      throw new NotebookError(path, `${formatProblems(path, problems)}\n${path} was left unchanged.`);
    }
    const missing = missingDisplays(executed);
    if (missing.length > 0) {
      if (attempt < DISPLAY_ATTEMPTS) {
        console.warn(
          `eda: ${path}: displays did not arrive in cells ${
            missing.map((p) => p.cell).join(", ")
          }; running it again`,
        );
        continue;
      }
      throw new NotebookError(
        path,
        `${formatProblems(path, missing)}\n${path} lost displays in ${attempt} runs and was left unchanged.`,
      );
    }
    const noisy = stderrCells(executed);
    if (noisy.length > 0) console.warn(`eda: ${path}: cells ${noisy.join(", ")} wrote to stderr`);
    await writeFileAtomic(path, serializeNotebook(stripVolatileMetadata(executed)));
    return (performance.now() - started) / 1000;
  }
}

/** Runs nbconvert on a notebook once and returns the executed notebook, leaving the original alone. */
async function runNbconvert(path: string, jupyter: string): Promise<Notebook> {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : path.slice(0, slash);
  const name = path.slice(slash + 1).replace(/\.ipynb$/, "");
  // Inside the notebook's folder so the kernel's working directory is the same as for the original.
  const outputDir = `${dir}/.eda-run-${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.mkdir(outputDir, { recursive: true });
  try {
    const command = new Deno.Command(jupyter, {
      args: [
        "nbconvert",
        "--to",
        "notebook",
        "--execute",
        "--allow-errors",
        `--ExecutePreprocessor.kernel_name=${KERNEL_NAME}`,
        `--ExecutePreprocessor.timeout=${CELL_TIMEOUT_S}`,
        "--ExecutePreprocessor.record_timing=False",
        "--output-dir",
        outputDir,
        "--output",
        name,
        path,
      ],
      env: { JUPYTER_PATH: JUPYTER_DATA_DIR, PYDEVD_DISABLE_FILE_VALIDATION: "1", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    });
    let result: Deno.CommandOutput;
    try {
      result = await command.output();
    } catch (error) {
      throw new NotebookError(path, `${path}: cannot run ${jupyter}: ${(error as Error).message}`);
    }
    if (!result.success) {
      const log = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-20).join("\n  ");
      throw new NotebookError(
        path,
        `${path}: jupyter nbconvert exited with code ${result.code} before the notebook finished:\n  ${log}`,
      );
    }
    return JSON.parse(await Deno.readTextFile(`${outputDir}/${name}.ipynb`)) as Notebook;
  } finally {
    await Deno.remove(outputDir, { recursive: true }).catch(() => {});
  }
}
