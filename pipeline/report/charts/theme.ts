/**
 * The look shared by every chart: one font, one palette, one vega-lite config. Good (label 0) is
 * always teal and bad (label 1) always red-orange, in the dashboard and the notebooks alike.
 * @module
 */

import type { Config } from "vega-lite";

/** Generic font stack, so no chart depends on a font file being installed. */
export const FONT_FAMILY = "system-ui, sans-serif";

/** Colour of the good class (label 0, repaid) and of anything that lowers risk. */
export const GOOD_COLOR = "#0d9488";
/** Colour of the bad class (label 1, defaulted) and of anything that raises risk. */
export const BAD_COLOR = "#e0533a";
/** Colour of the model's own curve or bars when no class is implied. */
export const MODEL_COLOR = "#4361c2";
/** Colour of reference lines: chance diagonals, base rates, reference thresholds. */
export const REFERENCE_COLOR = "#8a96a8";
/** Colour of primary text. */
export const TEXT_COLOR = "#1f2937";
/** Colour of secondary text: axis labels, annotations. */
export const MUTED_TEXT_COLOR = "#4b5563";
/** Colour of grid lines. */
export const GRID_COLOR = "#e5e9f0";

/** Class colours keyed by the class name used in chart data. */
export const CLASS_COLORS = { good: GOOD_COLOR, bad: BAD_COLOR } as const;

/** Colours for unordered categories, model colour first, class colours kept for classes. */
export const CATEGORY_PALETTE: readonly string[] = [
  MODEL_COLOR,
  "#e8a33d",
  "#8a63c9",
  "#3fa3c9",
  "#c2578f",
  "#6b8e23",
  "#7f8c9d",
  "#b5651d",
];

/** Sequential ramp (low to high) for heat maps on [0, 1] and objective values. */
export const SEQUENTIAL_RANGE: readonly string[] = ["#f3f6fb", "#a9bde6", MODEL_COLOR, "#1f2f6b"];

/** Diverging ramp (negative, zero, positive) for correlations on [-1, 1]. */
export const DIVERGING_RANGE: readonly string[] = ["#2b7bb9", "#f4f4f4", "#d95f30"];

/** Default plot width in pixels. */
export const DEFAULT_WIDTH = 420;
/** Default plot height in pixels. */
export const DEFAULT_HEIGHT = 300;

/** Font size of axis labels, legend labels and annotations. */
export const LABEL_FONT_SIZE = 12;

/** The vega-lite config every chart is compiled with; a spec's own `config` overrides it. */
export const CHART_CONFIG: Config = {
  font: FONT_FAMILY,
  background: "#ffffff",
  padding: 8,
  view: { stroke: null, continuousWidth: DEFAULT_WIDTH, continuousHeight: DEFAULT_HEIGHT },
  title: {
    fontSize: 14,
    fontWeight: 600,
    color: TEXT_COLOR,
    anchor: "start",
    offset: 12,
    subtitleFontSize: LABEL_FONT_SIZE,
    subtitleColor: MUTED_TEXT_COLOR,
  },
  axis: {
    labelFontSize: LABEL_FONT_SIZE,
    labelColor: MUTED_TEXT_COLOR,
    labelLimit: 220,
    titleFontSize: LABEL_FONT_SIZE,
    titleFontWeight: 600,
    titleColor: TEXT_COLOR,
    titlePadding: 10,
    gridColor: GRID_COLOR,
    domainColor: REFERENCE_COLOR,
    tickColor: REFERENCE_COLOR,
  },
  axisBand: { grid: false, domain: false, ticks: false, labelPadding: 6 },
  legend: {
    labelFontSize: LABEL_FONT_SIZE,
    labelColor: MUTED_TEXT_COLOR,
    titleFontSize: LABEL_FONT_SIZE,
    titleFontWeight: 600,
    titleColor: TEXT_COLOR,
    symbolStrokeWidth: 2,
  },
  header: { labelFontSize: LABEL_FONT_SIZE, titleFontSize: LABEL_FONT_SIZE, labelColor: TEXT_COLOR },
  text: { fontSize: LABEL_FONT_SIZE, color: TEXT_COLOR },
  line: { strokeWidth: 2 },
  point: { filled: true, size: 36 },
  range: { category: [...CATEGORY_PALETTE] },
};
