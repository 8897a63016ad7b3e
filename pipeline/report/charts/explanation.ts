/**
 * Charts of what drives the model: global feature importance and the signed contributions behind
 * one applicant's score (reason codes).
 * @module
 */

import type { VegaLiteSpec } from "./render.ts";
import {
  barListHeight,
  type ChartOptions,
  linesOf,
  plotSize,
  SCHEMA_URL,
  significant3,
  wrapLabel,
  wrappedLabelAxis,
} from "./common.ts";
import { BAD_COLOR, GOOD_COLOR, MODEL_COLOR, MUTED_TEXT_COLOR, REFERENCE_COLOR } from "./theme.ts";
import { ChartInputError, requireFinite, requireItems, requireText, requireUnique } from "./validate.ts";

/** Importance of one feature. */
export interface FeatureImportance {
  name: string;
  importance: number;
}

/** Options of {@linkcode featureImportanceSpec}. */
export interface FeatureImportanceOptions extends ChartOptions {
  /** How many of the most important features to show. Default 20. */
  top?: number;
}

/** A named signed contribution to the predicted risk. */
export interface SignedItem {
  name: string;
  value: number;
}

/** Options of {@linkcode signedBarSpec}. */
export interface SignedBarOptions extends ChartOptions {
  /** Title of the value axis. Default "Contribution to P(bad)". */
  valueTitle?: string;
}

/** Horizontal bars of the `top` most important features, largest first. */
export function featureImportanceSpec(
  items: readonly FeatureImportance[],
  options: FeatureImportanceOptions = {},
): VegaLiteSpec {
  const where = "featureImportanceSpec";
  requireItems(where, "items", items);
  const top = options.top ?? 20;
  if (!Number.isInteger(top) || top < 1) {
    throw new ChartInputError(`${where}: options.top must be a positive integer, got ${top}`);
  }
  const values = items.map((item, i) => ({
    name: requireText(where, `items[${i}].name`, item?.name),
    importance: requireFinite(where, `items[${i}].importance`, item.importance),
  }));
  requireUnique(where, "items", "name", values.map((v) => v.name));
  const shown = values
    .sort((a, b) => b.importance - a.importance || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, top)
    .map((v) => ({
      ...v,
      display: wrapLabel(v.name),
      label: significant3(v.importance),
      description: `${v.name}: importance ${significant3(v.importance)}`,
    }));
  const y = {
    field: "display",
    type: "nominal",
    sort: shown.map((v) => v.display),
    title: null,
    axis: wrappedLabelAxis,
  } as const;
  return {
    $schema: SCHEMA_URL,
    description: `Feature importance, top ${shown.length} of ${items.length}`,
    title: options.title ?? "Feature importance",
    ...plotSize(where, options, {
      height: barListHeight(shown.length, linesOf(shown.map((v) => v.display))),
    }),
    data: { values: shown },
    encoding: {
      y,
      x: { field: "importance", type: "quantitative", title: "Importance" },
    },
    layer: [
      { mark: { type: "bar", color: MODEL_COLOR }, encoding: { description: { field: "description" } } },
      {
        mark: { type: "text", align: "left", dx: 4, color: MUTED_TEXT_COLOR },
        encoding: { text: { field: "label" } },
      },
    ],
  };
}

/** Legend entries of {@linkcode signedBarSpec}, in legend order. */
const EFFECTS = [
  { effect: "raises risk", color: BAD_COLOR },
  { effect: "lowers risk", color: GOOD_COLOR },
  { effect: "no effect", color: REFERENCE_COLOR },
];

/** A domain spanning 0 and every value, with room beyond the bar ends for the value labels. */
function paddedDomain(values: readonly number[]): number[] {
  const low = Math.min(0, ...values);
  const high = Math.max(0, ...values);
  const room = 0.18 * (high - low || 1);
  return [low < 0 ? low - room : 0, high > 0 ? high + room : 0];
}

/** Horizontal bars of signed contributions, largest magnitude first: red raises risk, green lowers it. */
export function signedBarSpec(items: readonly SignedItem[], options: SignedBarOptions = {}): VegaLiteSpec {
  const where = "signedBarSpec";
  requireItems(where, "items", items);
  const values = items.map((item, i) => {
    const value = requireFinite(where, `items[${i}].value`, item?.value);
    const name = requireText(where, `items[${i}].name`, item.name);
    const effect = value > 0 ? "raises risk" : value < 0 ? "lowers risk" : "no effect";
    const label = (value > 0 ? "+" : value < 0 ? "\u2212" : "") + significant3(Math.abs(value));
    return {
      name,
      display: wrapLabel(name),
      value,
      effect,
      label,
      description: `${name}: ${effect} by ${label}`,
    };
  });
  requireUnique(where, "items", "name", values.map((v) => v.name));
  values.sort((a, b) =>
    Math.abs(b.value) - Math.abs(a.value) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
  const y = {
    field: "display",
    type: "nominal",
    sort: values.map((v) => v.display),
    title: null,
    axis: wrappedLabelAxis,
  } as const;
  const x = {
    field: "value",
    type: "quantitative",
    title: options.valueTitle ?? "Contribution to P(bad)",
    scale: { domain: paddedDomain(values.map((v) => v.value)), nice: true },
  } as const;
  return {
    $schema: SCHEMA_URL,
    description: `Signed contributions of ${values.length} items to the predicted risk`,
    title: options.title ?? "What moves this score",
    ...plotSize(where, options, {
      height: barListHeight(values.length, linesOf(values.map((v) => v.display))),
    }),
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          y,
          x,
          color: {
            field: "effect",
            type: "nominal",
            scale: {
              domain: EFFECTS.filter((e) => values.some((v) => v.effect === e.effect)).map((e) => e.effect),
              range: EFFECTS.filter((e) => values.some((v) => v.effect === e.effect)).map((e) => e.color),
            },
            legend: { title: null, orient: "top" },
          },
          description: { field: "description" },
        },
      },
      {
        transform: [{ filter: "datum.value >= 0" }],
        mark: { type: "text", align: "left", dx: 4, color: MUTED_TEXT_COLOR },
        encoding: { y, x, text: { field: "label" } },
      },
      {
        transform: [{ filter: "datum.value < 0" }],
        mark: { type: "text", align: "right", dx: -4, color: MUTED_TEXT_COLOR },
        encoding: { y, x, text: { field: "label" } },
      },
      {
        data: { values: [{ zero: 0 }] },
        mark: { type: "rule", color: REFERENCE_COLOR },
        encoding: { x: { field: "zero", type: "quantitative" } },
      },
    ],
  };
}
