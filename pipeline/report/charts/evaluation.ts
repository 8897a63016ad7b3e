/**
 * Charts of how well a fitted model separates and prices risk: ROC, precision–recall, expected cost
 * by threshold, the confusion matrix at the chosen threshold, and calibration.
 * @module
 */

import type { VegaLiteSpec } from "./render.ts";
import { type ChartOptions, fixed3, type LayerItem, percent1, plotSize, SCHEMA_URL } from "./common.ts";
import {
  BAD_COLOR,
  GOOD_COLOR,
  MODEL_COLOR,
  MUTED_TEXT_COLOR,
  REFERENCE_COLOR,
  TEXT_COLOR,
} from "./theme.ts";
import { ChartInputError, requireCount, requireFinite, requireInRange, requireItems } from "./validate.ts";

/** One point of a ROC curve. */
export interface RocPoint {
  fpr: number;
  tpr: number;
}

/** Options of {@linkcode rocCurveSpec}. */
export interface RocCurveOptions extends ChartOptions {
  /** Area under the curve, printed in the title. */
  auc: number;
}

/** One point of a precision–recall curve. */
export interface PrPoint {
  recall: number;
  precision: number;
}

/** Options of {@linkcode prCurveSpec}. */
export interface PrCurveOptions extends ChartOptions {
  /** Average precision, printed in the title. */
  ap: number;
  /** Share of bad applicants, the precision of a random ranking. */
  baseRate: number;
}

/** Expected cost at one decision threshold. */
export interface CostPoint {
  threshold: number;
  cost: number;
}

/** A labelled threshold drawn for comparison, such as the Bayes threshold 1/6. */
export interface ReferenceThreshold {
  threshold: number;
  label: string;
}

/** Options of {@linkcode costCurveSpec}. */
export interface CostCurveOptions extends ChartOptions {
  /** The threshold the model ships with. */
  chosenThreshold: number;
  /** Thresholds to compare against, drawn as dashed lines. */
  references?: readonly ReferenceThreshold[];
}

/** Counts of a binary confusion matrix, bad (label 1) being the positive class. */
export interface ConfusionCounts {
  /** Bad applicants declined. */
  tp: number;
  /** Good applicants declined. */
  fp: number;
  /** Good applicants approved. */
  tn: number;
  /** Bad applicants approved. */
  fn: number;
}

/** One bin of a reliability (calibration) curve. */
export interface ReliabilityBin {
  /** Mean predicted probability of bad in the bin. */
  meanPredicted: number;
  /** Observed share of bad in the bin. */
  observed: number;
  /** Applicants in the bin; empty bins are skipped. */
  count: number;
}

const unitScale = { domain: [0, 1], nice: false, zero: true };
const unitAxis = { format: ".1f", tickCount: 5 };
const chanceLine: LayerItem = {
  data: { values: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
  mark: { type: "line", color: REFERENCE_COLOR, strokeDash: [4, 4], strokeWidth: 1.5 },
  encoding: {
    x: { field: "x", type: "quantitative" },
    y: { field: "y", type: "quantitative" },
  },
};

/** ROC curve with the chance diagonal; the AUC goes in the title. */
export function rocCurveSpec(points: readonly RocPoint[], options: RocCurveOptions): VegaLiteSpec {
  const where = "rocCurveSpec";
  requireItems(where, "points", points);
  const values = points.map((p, i) => ({
    order: i,
    fpr: requireInRange(where, `points[${i}].fpr`, p?.fpr, 0, 1),
    tpr: requireInRange(where, `points[${i}].tpr`, p?.tpr, 0, 1),
  }));
  const auc = requireInRange(where, "options.auc", options?.auc, 0, 1);
  return {
    $schema: SCHEMA_URL,
    description: `ROC curve, AUC ${fixed3(auc)}`,
    title: `${options.title ?? "ROC curve"} (AUC = ${fixed3(auc)})`,
    ...plotSize(where, options, { width: 360, height: 320 }),
    layer: [
      chanceLine,
      {
        data: { values },
        mark: { type: "line", color: MODEL_COLOR, interpolate: "linear" },
        encoding: {
          x: {
            field: "fpr",
            type: "quantitative",
            title: "False positive rate",
            scale: unitScale,
            axis: unitAxis,
          },
          y: {
            field: "tpr",
            type: "quantitative",
            title: "True positive rate",
            scale: unitScale,
            axis: unitAxis,
          },
          order: { field: "order", type: "quantitative" },
        },
      },
    ],
  };
}

/** Precision–recall curve with the base rate (a random ranking) as a dashed rule. */
export function prCurveSpec(points: readonly PrPoint[], options: PrCurveOptions): VegaLiteSpec {
  const where = "prCurveSpec";
  requireItems(where, "points", points);
  const values = points.map((p, i) => ({
    order: i,
    recall: requireInRange(where, `points[${i}].recall`, p?.recall, 0, 1),
    precision: requireInRange(where, `points[${i}].precision`, p?.precision, 0, 1),
  }));
  const ap = requireInRange(where, "options.ap", options?.ap, 0, 1);
  const baseRate = requireInRange(where, "options.baseRate", options.baseRate, 0, 1);
  return {
    $schema: SCHEMA_URL,
    description: `Precision-recall curve, average precision ${fixed3(ap)}`,
    title: `${options.title ?? "Precision–recall"} (AP = ${fixed3(ap)})`,
    ...plotSize(where, options, { width: 360, height: 320 }),
    layer: [
      {
        data: { values: [{ baseRate, label: `base rate ${fixed3(baseRate)}` }] },
        layer: [
          {
            mark: { type: "rule", color: REFERENCE_COLOR, strokeDash: [4, 4], strokeWidth: 1.5 },
            encoding: { y: { field: "baseRate", type: "quantitative" } },
          },
          {
            mark: { type: "text", align: "left", baseline: "bottom", dx: 4, dy: -4, color: MUTED_TEXT_COLOR },
            encoding: {
              x: { datum: 0, type: "quantitative" },
              y: { field: "baseRate", type: "quantitative" },
              text: { field: "label" },
            },
          },
        ],
      },
      {
        data: { values },
        mark: { type: "line", color: MODEL_COLOR },
        encoding: {
          x: { field: "recall", type: "quantitative", title: "Recall", scale: unitScale, axis: unitAxis },
          y: {
            field: "precision",
            type: "quantitative",
            title: "Precision",
            scale: unitScale,
            axis: unitAxis,
          },
          order: { field: "order", type: "quantitative" },
        },
      },
    ],
  };
}

/** Cost at `threshold`, read off the sweep by linear interpolation (clamped at its ends). */
function costAt(sweep: readonly CostPoint[], threshold: number): number {
  if (threshold <= sweep[0].threshold) return sweep[0].cost;
  for (let i = 1; i < sweep.length; i++) {
    const right = sweep[i];
    if (threshold <= right.threshold) {
      const left = sweep[i - 1];
      const span = right.threshold - left.threshold;
      const t = span === 0 ? 1 : (threshold - left.threshold) / span;
      return left.cost + t * (right.cost - left.cost);
    }
  }
  return sweep[sweep.length - 1].cost;
}

/** Expected cost by decision threshold, marking the chosen threshold and any reference thresholds. */
export function costCurveSpec(sweep: readonly CostPoint[], options: CostCurveOptions): VegaLiteSpec {
  const where = "costCurveSpec";
  requireItems(where, "sweep", sweep);
  const values = sweep
    .map((p, i) => ({
      threshold: requireFinite(where, `sweep[${i}].threshold`, p?.threshold),
      cost: requireFinite(where, `sweep[${i}].cost`, p?.cost),
    }))
    .sort((a, b) => a.threshold - b.threshold);
  const chosen = requireFinite(where, "options.chosenThreshold", options?.chosenThreshold);
  const references = (options.references ?? []).map((r, i) => ({
    threshold: requireFinite(where, `options.references[${i}].threshold`, r?.threshold),
    label: r.label ?? "",
  }));
  const chosenCost = costAt(values, chosen);
  const referenceLayer: LayerItem = {
    data: { values: references },
    layer: [
      {
        mark: { type: "rule", color: REFERENCE_COLOR, strokeDash: [4, 4], strokeWidth: 1.5 },
        encoding: { x: { field: "threshold", type: "quantitative" } },
      },
      {
        mark: {
          type: "text",
          angle: 270,
          align: "right",
          baseline: "bottom",
          dy: -3,
          color: MUTED_TEXT_COLOR,
        },
        encoding: {
          x: { field: "threshold", type: "quantitative" },
          y: { value: 24 },
          text: { field: "label" },
        },
      },
    ],
  };
  const xScale = { zero: false, nice: false };
  return {
    $schema: SCHEMA_URL,
    description: `Expected cost by decision threshold; chosen threshold ${fixed3(chosen)}`,
    title: options.title ?? "Expected cost by threshold",
    ...plotSize(where, options),
    layer: [
      ...(references.length > 0 ? [referenceLayer] : []),
      {
        data: { values },
        mark: { type: "line", color: MODEL_COLOR },
        encoding: {
          x: {
            field: "threshold",
            type: "quantitative",
            title: "Decision threshold on P(bad)",
            scale: xScale,
          },
          y: { field: "cost", type: "quantitative", title: "Expected cost", scale: { zero: false } },
        },
      },
      {
        data: { values: [{ threshold: chosen, cost: chosenCost, label: `chosen ${fixed3(chosen)}` }] },
        layer: [
          {
            mark: { type: "rule", color: TEXT_COLOR, strokeWidth: 1.5 },
            encoding: { x: { field: "threshold", type: "quantitative" } },
          },
          {
            mark: { type: "point", color: TEXT_COLOR, size: 60 },
            encoding: {
              x: { field: "threshold", type: "quantitative" },
              y: { field: "cost", type: "quantitative" },
            },
          },
          {
            mark: { type: "text", align: "left", baseline: "top", dx: 4, fontWeight: 600, color: TEXT_COLOR },
            encoding: {
              x: { field: "threshold", type: "quantitative" },
              y: { value: 4 },
              text: { field: "label" },
            },
          },
        ],
      },
    ],
  };
}

/** Confusion matrix as a labelled heat map: rows actual good/bad, columns predicted approve/decline. */
export function confusionMatrixSpec(counts: ConfusionCounts, options: ChartOptions = {}): VegaLiteSpec {
  const where = "confusionMatrixSpec";
  if (counts == null || typeof counts !== "object") {
    throw new ChartInputError(`${where}: counts must be an object {tp, fp, tn, fn}`);
  }
  const tp = requireCount(where, "counts.tp", counts.tp);
  const fp = requireCount(where, "counts.fp", counts.fp);
  const tn = requireCount(where, "counts.tn", counts.tn);
  const fn = requireCount(where, "counts.fn", counts.fn);
  const total = tp + fp + tn + fn;
  if (total === 0) throw new ChartInputError(`${where}: counts are all zero; nothing to chart`);
  const cells = [
    { actual: "good", predicted: "approve", count: tn, kind: "TN" },
    { actual: "good", predicted: "decline", count: fp, kind: "FP" },
    { actual: "bad", predicted: "approve", count: fn, kind: "FN" },
    { actual: "bad", predicted: "decline", count: tp, kind: "TP" },
  ];
  const largest = Math.max(tp, fp, tn, fn);
  const values = cells.map((cell) => ({
    ...cell,
    outcome: cell.kind === "TN" || cell.kind === "TP" ? "correct" : "error",
    shade: 0.1 + 0.45 * (cell.count / largest),
    detail: `${percent1(cell.count / total)} · ${cell.kind}`,
  }));
  const x = {
    field: "predicted",
    type: "nominal",
    sort: ["approve", "decline"],
    title: "Predicted",
    axis: { orient: "top", labelAngle: 0 },
  } as const;
  const y = { field: "actual", type: "nominal", sort: ["good", "bad"], title: "Actual" } as const;
  return {
    $schema: SCHEMA_URL,
    description: `Confusion matrix: TN ${tn}, FP ${fp}, FN ${fn}, TP ${tp}`,
    title: options.title ?? "Confusion matrix",
    ...plotSize(where, options, { width: 300, height: 220 }),
    data: { values },
    encoding: { x, y },
    layer: [
      {
        mark: { type: "rect", stroke: "#ffffff", strokeWidth: 2 },
        encoding: {
          color: {
            field: "outcome",
            type: "nominal",
            scale: { domain: ["correct", "error"], range: [GOOD_COLOR, BAD_COLOR] },
            legend: null,
          },
          fillOpacity: { field: "shade", type: "quantitative", scale: null },
        },
      },
      {
        mark: { type: "text", fontSize: 18, fontWeight: 600, dy: -9, color: TEXT_COLOR },
        encoding: { text: { field: "count", type: "quantitative" } },
      },
      {
        mark: { type: "text", dy: 11, color: MUTED_TEXT_COLOR },
        encoding: { text: { field: "detail" } },
      },
    ],
  };
}

/** Reliability (calibration) curve: observed bad rate against mean predicted, sized by bin count. */
export function reliabilitySpec(bins: readonly ReliabilityBin[], options: ChartOptions = {}): VegaLiteSpec {
  const where = "reliabilitySpec";
  requireItems(where, "bins", bins);
  const values = bins
    .map((b, i) => ({ bin: b, i, count: requireCount(where, `bins[${i}].count`, b?.count) }))
    .filter(({ count }) => count > 0)
    .map(({ bin, i, count }) => ({
      meanPredicted: requireInRange(where, `bins[${i}].meanPredicted`, bin.meanPredicted, 0, 1),
      observed: requireInRange(where, `bins[${i}].observed`, bin.observed, 0, 1),
      count,
    }));
  if (values.length === 0) throw new ChartInputError(`${where}: every bin in bins is empty (count 0)`);
  const x = {
    field: "meanPredicted",
    type: "quantitative",
    title: "Mean predicted P(bad)",
    scale: unitScale,
    axis: unitAxis,
  } as const;
  const y = {
    field: "observed",
    type: "quantitative",
    title: "Observed bad rate",
    scale: unitScale,
    axis: unitAxis,
  } as const;
  return {
    $schema: SCHEMA_URL,
    description: "Reliability curve: observed bad rate against mean predicted probability",
    title: options.title ?? "Calibration",
    ...plotSize(where, options, { width: 360, height: 320 }),
    layer: [
      chanceLine,
      {
        data: { values },
        layer: [
          { mark: { type: "line", color: MODEL_COLOR }, encoding: { x, y } },
          {
            mark: { type: "point", color: MODEL_COLOR, opacity: 0.9 },
            encoding: {
              x,
              y,
              size: {
                field: "count",
                type: "quantitative",
                title: "Applicants",
                scale: { range: [30, 260], zero: false },
                legend: { symbolFillColor: MODEL_COLOR, symbolStrokeColor: MODEL_COLOR, tickCount: 3 },
              },
            },
          },
        ],
      },
    ],
  };
}
