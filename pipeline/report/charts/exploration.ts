/**
 * Charts for exploring the data before modelling: a feature's distribution by class, bad rate by
 * category, and association heat maps (Cramér's V, correlations).
 * @module
 */

import { quantile } from "../../stats.ts";
import type { VegaLiteSpec } from "./render.ts";
import {
  barListHeight,
  type ChartOptions,
  linesOf,
  percent1,
  plotSize,
  SCHEMA_URL,
  significant3,
  wrapLabel,
  wrappedLabelAxis,
} from "./common.ts";
import {
  BAD_COLOR,
  CLASS_COLORS,
  DEFAULT_WIDTH,
  DIVERGING_RANGE,
  GOOD_COLOR,
  MUTED_TEXT_COLOR,
  SEQUENTIAL_RANGE,
  TEXT_COLOR,
} from "./theme.ts";
import {
  ChartInputError,
  requireCount,
  requireFinite,
  requireInRange,
  requireItems,
  requireText,
  requireUnique,
} from "./validate.ts";

/** The two classes, good (label 0) and bad (label 1). */
export type ClassLabel = "good" | "bad";

/** One observed value of a numeric feature and the applicant's class. */
export interface ClassValue {
  value: number;
  label: ClassLabel;
}

/** Options of {@linkcode histogramByClassSpec}. */
export interface HistogramByClassOptions extends ChartOptions {
  /** Title of the value axis, usually the feature's name and unit. */
  fieldTitle: string;
  /** Upper bound on the number of bins; vega picks round bin edges. Default 20. */
  bins?: number;
}

/** Options of {@linkcode boxPlotByClassSpec}. */
export interface BoxPlotByClassOptions extends ChartOptions {
  /** Title of the value axis, usually the feature's name and unit. */
  fieldTitle: string;
}

/** Bad rate and size of one category of a feature. */
export interface CategoryBadRate {
  /** Category code, such as "A11". */
  category: string;
  /** Readable label shown on the axis; the code is used when empty. */
  label: string;
  count: number;
  badRate: number;
}

/** Options of {@linkcode badRateByCategorySpec}. */
export interface BadRateByCategoryOptions extends ChartOptions {
  /** Bad rate over all applicants, drawn as a rule. */
  overallBadRate: number;
}

/** One cell of a heat map. */
export interface HeatmapCell {
  x: string;
  y: string;
  value: number;
}

/** Options of {@linkcode heatmapSpec}. */
export interface HeatmapOptions extends ChartOptions {
  /** Colour scale domain; a domain spanning 0, such as [-1, 1], gets a diverging scale. Default [0, 1]. */
  domain?: readonly [number, number];
}

const CLASS_DOMAIN = ["good", "bad"];
const classColor = {
  field: "label",
  type: "nominal",
  title: null,
  scale: { domain: CLASS_DOMAIN, range: [CLASS_COLORS.good, CLASS_COLORS.bad] },
  legend: { orient: "top" },
} as const;

function checkClassValues(where: string, values: readonly ClassValue[]): ClassValue[] {
  requireItems(where, "values", values);
  return values.map((v, i) => {
    const value = requireFinite(where, `values[${i}].value`, v?.value);
    if (v.label !== "good" && v.label !== "bad") {
      throw new ChartInputError(`${where}: values[${i}].label must be "good" or "bad", got ${v.label}`);
    }
    return { value, label: v.label };
  });
}

/** Overlaid histograms of a numeric feature for good and bad applicants. */
export function histogramByClassSpec(
  values: readonly ClassValue[],
  options: HistogramByClassOptions,
): VegaLiteSpec {
  const where = "histogramByClassSpec";
  const checked = checkClassValues(where, values);
  const fieldTitle = requireText(where, "options.fieldTitle", options?.fieldTitle);
  const bins = options.bins ?? 20;
  if (!Number.isInteger(bins) || bins < 1) {
    throw new ChartInputError(`${where}: options.bins must be a positive integer, got ${bins}`);
  }
  return {
    $schema: SCHEMA_URL,
    description: `Histogram of ${fieldTitle} by class`,
    title: options.title ?? `${fieldTitle} by class`,
    ...plotSize(where, options),
    data: { values: checked },
    mark: { type: "bar", opacity: 0.6, binSpacing: 1 },
    encoding: {
      x: { field: "value", type: "quantitative", bin: { maxbins: bins }, title: fieldTitle },
      y: { aggregate: "count", type: "quantitative", stack: null, title: "Applicants" },
      color: classColor,
    },
  };
}

/** Tukey box of one class: quartiles, whiskers at the last values within 1.5 IQR, and the outliers. */
function tukeyBox(label: ClassLabel, values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25);
  const median = quantile(sorted, 0.5);
  const q3 = quantile(sorted, 0.75);
  const reach = 1.5 * (q3 - q1);
  const inside = sorted.filter((v) => v >= q1 - reach && v <= q3 + reach);
  const lower = inside[0];
  const upper = inside[inside.length - 1];
  const outliers = sorted.filter((v) => v < lower || v > upper).map((value) => ({ label, value }));
  const f = significant3;
  const description = `${label}: n ${sorted.length}, median ${f(median)}, quartiles ${f(q1)} to ${f(q3)}, ` +
    `whiskers ${f(lower)} to ${f(upper)}, ${outliers.length} outliers`;
  return { box: { label, q1, median, q3, lower, upper, description }, outliers };
}

/** Box plots (whiskers at 1.5 IQR, outliers as points) of a numeric feature for good and bad applicants. */
export function boxPlotByClassSpec(
  values: readonly ClassValue[],
  options: BoxPlotByClassOptions,
): VegaLiteSpec {
  const where = "boxPlotByClassSpec";
  const checked = checkClassValues(where, values);
  const fieldTitle = requireText(where, "options.fieldTitle", options?.fieldTitle);
  const classes = (["good", "bad"] as const)
    .map((label) => ({ label, classValues: checked.filter((v) => v.label === label).map((v) => v.value) }))
    .filter(({ classValues }) => classValues.length > 0)
    .map(({ label, classValues }) => tukeyBox(label, classValues));
  const outliers = classes.flatMap((c) => c.outliers);
  const y = { field: "label", type: "nominal", sort: CLASS_DOMAIN, title: null } as const;
  const x = (field: string) =>
    ({ field, type: "quantitative", title: fieldTitle, scale: { zero: false } }) as const;
  const color = { ...classColor, legend: null };
  return {
    $schema: SCHEMA_URL,
    description: `Box plot of ${fieldTitle} by class`,
    title: options.title ?? `${fieldTitle} by class`,
    ...plotSize(where, options, { height: 150 }),
    layer: [
      {
        data: { values: classes.map((c) => c.box) },
        layer: [
          {
            mark: { type: "rule", strokeWidth: 1.5 },
            encoding: { y, x: x("lower"), x2: { field: "upper" }, color },
          },
          {
            mark: { type: "bar", size: 32 },
            encoding: { y, x: x("q1"), x2: { field: "q3" }, color, description: { field: "description" } },
          },
          {
            mark: { type: "tick", color: "#ffffff", thickness: 2, size: 32 },
            encoding: { y, x: x("median") },
          },
        ],
      },
      ...(outliers.length > 0
        ? [
          {
            data: { values: outliers },
            mark: { type: "point", opacity: 0.5, size: 24 },
            encoding: { y, x: x("value"), color },
          } as const,
        ]
        : []),
    ],
  };
}

/** Bad rate per category as bars (red above the overall rate, green below), with counts and the overall rate. */
export function badRateByCategorySpec(
  rows: readonly CategoryBadRate[],
  options: BadRateByCategoryOptions,
): VegaLiteSpec {
  const where = "badRateByCategorySpec";
  requireItems(where, "rows", rows);
  const overall = requireInRange(where, "options.overallBadRate", options?.overallBadRate, 0, 1);
  const values = rows.map((row, i) => {
    const category = requireText(where, `rows[${i}].category`, row?.category);
    const badRate = requireInRange(where, `rows[${i}].badRate`, row.badRate, 0, 1);
    return {
      category,
      display: wrapLabel(typeof row.label === "string" && row.label.trim() !== "" ? row.label : category),
      count: requireCount(where, `rows[${i}].count`, row.count),
      badRate,
      versus: badRate > overall ? "above overall" : "at or below overall",
      countLabel: `n = ${row.count}`,
      description: `${row.label || category}: bad rate ${percent1(badRate)}, n = ${row.count}`,
    };
  });
  requireUnique(where, "rows", "category", values.map((v) => v.category));
  requireUnique(where, "rows", "label", values.map((v) => v.display.replace("\n", " ")));
  const y = {
    field: "display",
    type: "nominal",
    sort: values.map((v) => v.display),
    title: null,
    axis: wrappedLabelAxis,
    scale: { paddingInner: 0.25 },
  } as const;
  const x = { field: "badRate", type: "quantitative", title: "Bad rate", axis: { format: ".0%" } } as const;
  return {
    $schema: SCHEMA_URL,
    description: `Bad rate by category, overall ${percent1(overall)}`,
    title: options.title ?? "Bad rate by category",
    ...plotSize(where, options, {
      width: 360,
      height: barListHeight(values.length, linesOf(values.map((v) => v.display))),
    }),
    layer: [
      {
        data: { values },
        layer: [
          {
            mark: { type: "bar" },
            encoding: {
              y,
              x,
              color: {
                field: "versus",
                type: "nominal",
                title: null,
                scale: { domain: ["above overall", "at or below overall"], range: [BAD_COLOR, GOOD_COLOR] },
                legend: { orient: "top" },
              },
              description: { field: "description" },
            },
          },
          {
            mark: { type: "text", align: "left", dx: 4, color: MUTED_TEXT_COLOR },
            encoding: { y, x, text: { field: "countLabel" } },
          },
        ],
      },
      {
        data: { values: [{ badRate: overall, label: `overall ${percent1(overall)}` }] },
        layer: [
          {
            mark: { type: "rule", color: TEXT_COLOR, strokeDash: [4, 3], strokeWidth: 1.5 },
            encoding: { x: { field: "badRate", type: "quantitative" } },
          },
          {
            mark: { type: "text", align: "left", baseline: "bottom", dx: 4, dy: -2, color: TEXT_COLOR },
            encoding: {
              x: { field: "badRate", type: "quantitative" },
              y: { value: 0 },
              text: { field: "label" },
            },
          },
        ],
      },
    ],
  };
}

/** Heat map of a matrix of values, such as Cramér's V or correlations, with each value printed in its cell. */
export function heatmapSpec(cells: readonly HeatmapCell[], options: HeatmapOptions = {}): VegaLiteSpec {
  const where = "heatmapSpec";
  requireItems(where, "cells", cells);
  const [low, high] = options.domain ?? [0, 1];
  requireFinite(where, "options.domain[0]", low);
  requireFinite(where, "options.domain[1]", high);
  if (!(low < high)) {
    throw new ChartInputError(`${where}: options.domain must be increasing, got [${low}, ${high}]`);
  }
  const values = cells.map((cell, i) => ({
    x: requireText(where, `cells[${i}].x`, cell?.x),
    y: requireText(where, `cells[${i}].y`, cell.y),
    value: requireFinite(where, `cells[${i}].value`, cell.value),
  }));
  requireUnique(where, "cells", "(x, y)", values.map((v) => `(${v.x}, ${v.y})`));
  const xs = [...new Set(values.map((v) => v.x))];
  const ys = [...new Set(values.map((v) => v.y))];
  const step = Math.max(26, Math.min(44, Math.floor(DEFAULT_WIDTH / xs.length)));
  const diverging = low < 0 && high > 0;
  const strength = (v: number) => diverging ? Math.abs(v) / Math.max(-low, high) : (v - low) / (high - low);
  const labelled = values.map((v) => ({
    ...v,
    label: step >= 34 ? v.value.toFixed(2) : v.value.toFixed(2).replace(/^(-?)0\./, "$1."),
    dark: strength(v.value) > 0.6,
  }));
  return {
    $schema: SCHEMA_URL,
    description: `Heat map of ${xs.length} by ${ys.length} values`,
    title: options.title ?? "Association",
    ...plotSize(where, options, { width: step * xs.length, height: step * ys.length }),
    data: { values: labelled },
    encoding: {
      x: { field: "x", type: "nominal", sort: xs, title: null, axis: { labelAngle: -40, labelLimit: 160 } },
      y: { field: "y", type: "nominal", sort: ys, title: null, axis: { labelLimit: 160 } },
    },
    layer: [
      {
        mark: { type: "rect", stroke: "#ffffff", strokeWidth: 1 },
        encoding: {
          color: {
            field: "value",
            type: "quantitative",
            title: null,
            scale: diverging
              ? { domain: [low, high], domainMid: 0, range: [...DIVERGING_RANGE], clamp: true }
              : { domain: [low, high], range: [...SEQUENTIAL_RANGE], clamp: true },
            legend: { gradientLength: Math.min(200, step * ys.length), format: ".1f" },
          },
        },
      },
      {
        mark: { type: "text", fontSize: step >= 34 ? 11 : 10 },
        encoding: {
          text: { field: "label" },
          color: { condition: { test: "datum.dark", value: "#ffffff" }, value: TEXT_COLOR },
        },
      },
    ],
  };
}
