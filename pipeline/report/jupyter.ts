/**
 * What a notebook cell shows on the Deno Jupyter kernel: HTML tables, Markdown and SVG wrapped as
 * MIME bundles, {@link show} to display them reliably under headless execution, and the number
 * formats the notebooks' tables and sentences use. Nothing else in `pipeline/` builds Jupyter output.
 * @module
 */

/** A column of {@link htmlTable}: a header and how to read the cell from a row. */
export interface HtmlColumn<T> {
  header: string;
  cell: (row: T) => string | number | null | undefined;
  /** Right-aligned by default for numbers, left for text. */
  align?: "left" | "right";
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML content and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]);
}

/** A plain HTML table (escaped text, numbers right-aligned), optionally captioned. */
export function htmlTable<T>(
  rows: readonly T[],
  columns: readonly HtmlColumn<T>[],
  options: { caption?: string } = {},
): string {
  const cells = rows.map((row) => columns.map((c) => c.cell(row)));
  const alignOf = columns.map((c, j) =>
    c.align ??
      (cells.length > 0 && cells.every((r) => typeof r[j] === "number" || r[j] == null) ? "right" : "left")
  );
  const style = (j: number) => ` style="text-align:${alignOf[j]}"`;
  const text = (v: string | number | null | undefined) => escapeHtml(v == null ? "" : String(v));
  return [
    "<table>",
    ...(options.caption ? [`<caption>${escapeHtml(options.caption)}</caption>`] : []),
    `<thead><tr>${
      columns.map((c, j) => `<th${style(j)}>${escapeHtml(c.header)}</th>`).join("")
    }</tr></thead>`,
    "<tbody>",
    ...cells.map((r) => `<tr>${r.map((v, j) => `<td${style(j)}>${text(v)}</td>`).join("")}</tr>`),
    "</tbody>",
    "</table>",
  ].join("\n");
}

/** A value a Deno Jupyter cell displays as the given MIME bundle. */
export type Displayable = { [display: symbol]: () => Record<string, string> };

/** Wraps HTML so a Deno Jupyter cell displays it as `text/html` (with a plain-text fallback). */
export function jupyterHtml(html: string, plain = "(HTML table)"): Displayable {
  return { [Symbol.for("Jupyter.display")]: () => ({ "text/html": html, "text/plain": plain }) };
}

/** Wraps Markdown so a Deno Jupyter cell displays it as `text/markdown`. */
export function jupyterMarkdown(markdown: string): Displayable {
  return { [Symbol.for("Jupyter.display")]: () => ({ "text/markdown": markdown, "text/plain": markdown }) };
}

/** Wraps an SVG string so that a Deno Jupyter cell displays it inline as `image/svg+xml`. */
export function jupyterSvg(svg: string): Displayable {
  return { [Symbol.for("Jupyter.display")]: () => ({ "image/svg+xml": svg }) };
}

/** Milliseconds {@link show} waits after each display, so the kernel can send it before the next. */
export const DISPLAY_SETTLE_MS = 50;

/**
 * Output metadata key under which {@link show} numbers the displays of a kernel session 1, 2, 3, …
 * The notebook runner checks the numbers for gaps and strips them before writing the notebook.
 */
export const DISPLAY_SEQUENCE_KEY = "display_sequence";

/** The part of `Deno.jupyter` that {@link show} uses. */
interface JupyterKernelApi {
  format(item: unknown): Promise<Record<string, unknown>>;
  broadcast(type: string, content: Record<string, unknown>): Promise<void> | void;
}

let displaysSent = 0;

/** `Deno.jupyter`, which outside the kernel is missing or throws on access. */
function jupyterKernel(): JupyterKernelApi {
  try {
    const kernel = (Deno as unknown as { jupyter?: JupyterKernelApi }).jupyter;
    if (kernel) return kernel;
  } catch {
    // Deno 2.9 defines the property everywhere and throws outside `deno jupyter`.
  }
  throw new Error("show() needs the Deno Jupyter kernel (deno jupyter)");
}

/**
 * Displays each item in the running Deno Jupyter cell (anything `Deno.jupyter.display` accepts),
 * numbered under {@link DISPLAY_SEQUENCE_KEY}, waiting {@link DISPLAY_SETTLE_MS} after each. The
 * Deno 2.9 kernel queues outputs and forwards them to Jupyter apart from the cell's completion; a
 * headless client such as nbconvert drops what arrives after the cell has finished, and under load
 * a burst of large outputs is dropped on the way. Pacing makes that rare, and the numbers let the
 * runner notice when it happens. The value of a cell's last expression is sent even later, so
 * cells end in `await show(...)`, never in a bare expression.
 */
export async function show(...items: unknown[]): Promise<void> {
  const jupyter = jupyterKernel();
  for (const item of items) {
    const data = await jupyter.format(item);
    displaysSent++;
    await jupyter.broadcast("display_data", {
      data,
      metadata: { [DISPLAY_SEQUENCE_KEY]: displaysSent },
      transient: {},
    });
    await new Promise((resolve) => setTimeout(resolve, DISPLAY_SETTLE_MS));
  }
}

/** A rate as a percentage with `digits` decimals ("30.0 %"). */
export function percent(value: number, digits = 1): string {
  return `${(100 * value).toFixed(digits)} %`;
}

/** A number with `digits` decimals. */
export function fixed(value: number, digits = 3): string {
  return value.toFixed(digits);
}
