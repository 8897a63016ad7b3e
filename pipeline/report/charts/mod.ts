/**
 * Charts for the runs dashboard (server-rendered SVG) and the notebooks (inline `image/svg+xml`,
 * wrapped by `../jupyter.ts`).
 * Builders are pure functions from typed data to vega-lite specs; `renderSvg` turns any spec into a
 * deterministic SVG string without a browser, a canvas, the network or the filesystem.
 *
 * @example
 * ```ts
 * import { renderSvg, rocCurveSpec } from "./mod.ts";
 * const svg = await renderSvg(rocCurveSpec([{ fpr: 0, tpr: 0 }, { fpr: 0.2, tpr: 0.7 }, { fpr: 1, tpr: 1 }], { auc: 0.78 }));
 * ```
 * @module
 */

export { ChartRenderError, type RenderOptions, renderSvg, type VegaLiteSpec } from "./render.ts";
export { ChartInputError } from "./validate.ts";
export type { ChartOptions } from "./common.ts";
export {
  BAD_COLOR,
  CATEGORY_PALETTE,
  CHART_CONFIG,
  CLASS_COLORS,
  DEFAULT_HEIGHT,
  DEFAULT_WIDTH,
  DIVERGING_RANGE,
  FONT_FAMILY,
  GOOD_COLOR,
  GRID_COLOR,
  MODEL_COLOR,
  MUTED_TEXT_COLOR,
  REFERENCE_COLOR,
  SEQUENTIAL_RANGE,
  TEXT_COLOR,
} from "./theme.ts";
export {
  type ConfusionCounts,
  confusionMatrixSpec,
  type CostCurveOptions,
  costCurveSpec,
  type CostPoint,
  type PrCurveOptions,
  prCurveSpec,
  type PrPoint,
  type ReferenceThreshold,
  type ReliabilityBin,
  reliabilitySpec,
  type RocCurveOptions,
  rocCurveSpec,
  type RocPoint,
} from "./evaluation.ts";
export {
  type FeatureImportance,
  type FeatureImportanceOptions,
  featureImportanceSpec,
  type SignedBarOptions,
  signedBarSpec,
  type SignedItem,
} from "./explanation.ts";
export {
  type Direction,
  type OptimisationHistoryOptions,
  optimisationHistorySpec,
  type ParallelCoordinatesOptions,
  parallelCoordinatesSpec,
  type TrialParams,
  type TrialRecord,
} from "./tuning.ts";
export {
  type BadRateByCategoryOptions,
  badRateByCategorySpec,
  type BoxPlotByClassOptions,
  boxPlotByClassSpec,
  type CategoryBadRate,
  type ClassLabel,
  type ClassValue,
  type HeatmapCell,
  type HeatmapOptions,
  heatmapSpec,
  type HistogramByClassOptions,
  histogramByClassSpec,
} from "./exploration.ts";
