/**
 * Pieces shared by the spec builders: the schema URL, sizing and number formats.
 * @module
 */

import type { VegaLiteSpec } from "./render.ts";
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, LABEL_FONT_SIZE } from "./theme.ts";
import { estimateTextWidth } from "./text_width.ts";
import { ChartInputError } from "./validate.ts";

/** The vega-lite schema our specs follow; only a label for editors, never fetched. */
export const SCHEMA_URL = "https://vega.github.io/schema/vega-lite/v6.json";

/** One layer of a layered vega-lite spec. */
export type LayerItem = Extract<VegaLiteSpec, { layer: unknown }>["layer"][number];

/** Options every spec builder accepts. */
export interface ChartOptions {
  /** Chart title; each builder has a sensible default. */
  title?: string;
  /** Plot width in pixels (axes and legends come on top). */
  width?: number;
  /** Plot height in pixels (axes and legends come on top). */
  height?: number;
}

/** The plot size: the caller's if valid, else the builder's default. */
export function plotSize(
  where: string,
  options: ChartOptions,
  defaults: { width?: number; height?: number } = {},
): { width: number; height: number } {
  const width = options.width ?? defaults.width ?? DEFAULT_WIDTH;
  const height = options.height ?? defaults.height ?? DEFAULT_HEIGHT;
  for (const [name, value] of [["width", width], ["height", height]] as const) {
    if (!Number.isFinite(value) || value <= 0) {
      throw new ChartInputError(`${where}: options.${name} must be a positive number, got ${value}`);
    }
  }
  return { width, height };
}

/** Height of a list of horizontal bars: a fixed band per row, so long lists never get squashed. */
export function barListHeight(rows: number, linesPerRow = 1): number {
  return Math.max(60, rows * (linesPerRow > 1 ? 15 * linesPerRow + 12 : 22));
}

/** Widest line of a wrapped category label, in pixels. */
export const WRAPPED_LABEL_WIDTH = 210;

/**
 * Breaks a long label into two lines of similar width at a space, so descriptive category labels
 * stay readable instead of being cut; what still does not fit is ellipsised by vega.
 */
export function wrapLabel(text: string, maxWidth = WRAPPED_LABEL_WIDTH): string {
  const width = (line: string) => estimateTextWidth(line, { fontSize: LABEL_FONT_SIZE });
  if (width(text) <= maxWidth) return text;
  const words = text.split(" ");
  let best = text;
  let bestWidth = Infinity;
  for (let k = 1; k < words.length; k++) {
    const first = words.slice(0, k).join(" ");
    const second = words.slice(k).join(" ");
    const widest = Math.max(width(first), width(second));
    if (widest < bestWidth) {
      best = `${first}\n${second}`;
      bestWidth = widest;
    }
  }
  return best;
}

/** Axis settings for labels made by {@linkcode wrapLabel}. */
export const wrappedLabelAxis = {
  labelExpr: "split(datum.label, '\\n')",
  labelLimit: WRAPPED_LABEL_WIDTH + 10,
  labelLineHeight: 15,
};

/** Number of lines of the longest wrapped label. */
export function linesOf(labels: readonly string[]): number {
  return Math.max(1, ...labels.map((label) => label.split("\n").length));
}

/** Formats a number to three decimals, the precision our metrics are reported at. */
export function fixed3(value: number): string {
  return value.toFixed(3);
}

/** Formats a number with three significant digits, for values of unknown magnitude. */
export function significant3(value: number): string {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(2);
  return String(Number(value.toPrecision(3)));
}

/** Formats a rate as a percentage with one decimal. */
export function percent1(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}
