/**
 * Charts of a hyperparameter search: the objective per trial with the best so far, and how each
 * hyperparameter relates to the objective.
 * @module
 */

import type { VegaLiteSpec } from "./render.ts";
import { type ChartOptions, plotSize, SCHEMA_URL, significant3 } from "./common.ts";
import {
  CATEGORY_PALETTE,
  DEFAULT_WIDTH,
  MODEL_COLOR,
  MUTED_TEXT_COLOR,
  REFERENCE_COLOR,
  SEQUENTIAL_RANGE,
  TEXT_COLOR,
} from "./theme.ts";
import { ChartInputError, requireFinite, requireItems, requireText } from "./validate.ts";

/** Which way the objective improves, spelled as Optuna spells it. */
export type Direction = "minimize" | "maximize";

/** One trial of a study, as Optuna records it; `value` is null for trials that gave none. */
export interface TrialRecord {
  number: number;
  value: number | null;
  state: string;
}

/** Options of {@linkcode optimisationHistorySpec}. */
export interface OptimisationHistoryOptions extends ChartOptions {
  direction: Direction;
}

/** A trial's hyperparameters and the objective value they reached. */
export interface TrialParams {
  params: Record<string, number | string>;
  value: number;
}

/** Options of {@linkcode parallelCoordinatesSpec}. */
export interface ParallelCoordinatesOptions extends ChartOptions {
  /** Which way the objective improves; the best trials are drawn darkest and on top. Default "minimize". */
  direction?: Direction;
}

const BEST_SERIES = "best so far";

function requireDirection(where: string, direction: unknown): Direction {
  if (direction !== "minimize" && direction !== "maximize") {
    throw new ChartInputError(
      `${where}: options.direction must be "minimize" or "maximize", got ${direction}`,
    );
  }
  return direction;
}

/** Objective value per trial (points, coloured by state) with the best value so far as a step line. */
export function optimisationHistorySpec(
  trials: readonly TrialRecord[],
  options: OptimisationHistoryOptions,
): VegaLiteSpec {
  const where = "optimisationHistorySpec";
  requireItems(where, "trials", trials);
  const direction = requireDirection(where, options?.direction);
  const checked = trials.map((t, i) => {
    const number = requireFinite(where, `trials[${i}].number`, t?.number);
    const state = requireText(where, `trials[${i}].state`, t.state);
    const value = t.value === null ? null : requireFinite(where, `trials[${i}].value`, t.value);
    return { number, state, value };
  }).sort((a, b) => a.number - b.number);
  const scored = checked.filter((t): t is { number: number; state: string; value: number } =>
    t.value !== null
  );
  if (scored.length === 0) {
    throw new ChartInputError(`${where}: no trial in trials has a value; nothing to chart`);
  }
  const better = direction === "minimize" ? (a: number, b: number) => a < b : (a: number, b: number) => a > b;
  const best: { number: number; value: number; series: string }[] = [];
  for (const trial of scored) {
    if (trial.state.toUpperCase() !== "COMPLETE") continue;
    const previous = best.at(-1)?.value;
    const value = previous === undefined || better(trial.value, previous) ? trial.value : previous;
    best.push({ number: trial.number, value, series: BEST_SERIES });
  }
  const last = checked.at(-1)!;
  if (best.length > 0 && best.at(-1)!.number < last.number) {
    best.push({ ...best.at(-1)!, number: last.number });
  }
  const states = [...new Set(scored.map((t) => t.state))];
  const stateColors = states.map((s, i) =>
    s.toUpperCase() === "COMPLETE" ? MODEL_COLOR : CATEGORY_PALETTE[1 + (i % (CATEGORY_PALETTE.length - 1))]
  );
  const unscored = checked.length - scored.length;
  const x = {
    field: "number",
    type: "quantitative",
    title: "Trial",
    axis: { tickMinStep: 1, format: "d" },
  } as const;
  const y = {
    field: "value",
    type: "quantitative",
    title: "Objective value",
    scale: { zero: false },
  } as const;
  const color = {
    field: "series",
    type: "nominal",
    title: null,
    scale: best.length > 0
      ? { domain: [...states, BEST_SERIES], range: [...stateColors, TEXT_COLOR] }
      : { domain: states, range: stateColors },
    legend: { orient: "top" },
  } as const;
  return {
    $schema: SCHEMA_URL,
    description: `Optimisation history of ${checked.length} trials (${direction})`,
    title: {
      text: options.title ?? "Optimisation history",
      subtitle: `${checked.length} ${checked.length === 1 ? "trial" : "trials"}, ${direction}` +
        (unscored > 0 ? `; ${unscored} without a value` : ""),
    },
    ...plotSize(where, options),
    layer: [
      {
        data: { values: scored.map((t) => ({ number: t.number, value: t.value, series: t.state })) },
        mark: { type: "point", opacity: 0.6 },
        encoding: { x, y, color },
      },
      ...(best.length > 0
        ? [
          {
            data: { values: best },
            mark: { type: "line", interpolate: "step-after" },
            encoding: { x, y, color },
          } as const,
        ]
        : []),
    ],
  };
}

interface AxisLayout {
  name: string;
  /** Position of a raw value on the axis, 0 at the bottom and 1 at the top. */
  position: (value: number | string) => number;
  ticks: { position: number; label: string }[];
}

/** Lays out one hyperparameter's axis: linear, log (for wide positive ranges) or categorical. */
function layoutAxis(name: string, raw: (number | string)[]): AxisLayout {
  if (raw.every((v) => typeof v === "number")) {
    const numbers = raw as number[];
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    if (min === max) {
      return {
        name,
        position: () => 0.5,
        ticks: [{ position: 0.5, label: significant3(min) }],
      };
    }
    const useLog = min > 0 && max / min >= 100;
    const t = useLog ? Math.log : (v: number) => v;
    const position = (v: number | string) => (t(v as number) - t(min)) / (t(max) - t(min));
    const label = useLog ? `${name} (log)` : name;
    return {
      name: label,
      position,
      ticks: [{ position: 0, label: significant3(min) }, { position: 1, label: significant3(max) }],
    };
  }
  const levels = [...new Set(raw.map(String))].sort();
  const position = (v: number | string) =>
    levels.length === 1 ? 0.5 : levels.indexOf(String(v)) / (levels.length - 1);
  return { name, position, ticks: levels.map((level) => ({ position: position(level), label: level })) };
}

/** Parallel coordinates of hyperparameters (each axis scaled to its own range), lines coloured by objective. */
export function parallelCoordinatesSpec(
  trials: readonly TrialParams[],
  options: ParallelCoordinatesOptions = {},
): VegaLiteSpec {
  const where = "parallelCoordinatesSpec";
  requireItems(where, "trials", trials);
  const direction = requireDirection(where, options.direction ?? "minimize");
  const names: string[] = [];
  const rawByName = new Map<string, (number | string)[]>();
  trials.forEach((trial, i) => {
    requireFinite(where, `trials[${i}].value`, trial?.value);
    if (trial.params == null || typeof trial.params !== "object") {
      throw new ChartInputError(`${where}: trials[${i}].params must be an object`);
    }
    for (const [name, value] of Object.entries(trial.params)) {
      if (typeof value === "number") requireFinite(where, `trials[${i}].params.${name}`, value);
      else requireText(where, `trials[${i}].params.${name}`, value);
      if (!rawByName.has(name)) {
        names.push(name);
        rawByName.set(name, []);
      }
      rawByName.get(name)!.push(value);
    }
  });
  if (names.length === 0) throw new ChartInputError(`${where}: no trial in trials has any params`);
  const axes = names.map((name) => layoutAxis(name, rawByName.get(name)!));
  const worstFirst = direction === "minimize"
    ? (a: TrialParams, b: TrialParams) => b.value - a.value
    : (a: TrialParams, b: TrialParams) => a.value - b.value;
  const order = trials.map((trial, i) => ({ trial, i })).sort((a, b) => worstFirst(a.trial, b.trial));
  const lines = order.flatMap(({ trial, i }) =>
    names.flatMap((name, k) =>
      name in trial.params
        ? [{ trial: i, axis: axes[k].name, y: axes[k].position(trial.params[name]), value: trial.value }]
        : []
    )
  );
  const ticks = axes.flatMap((axis) =>
    axis.ticks.map((tick) => ({ axis: axis.name, y: tick.position, ...tick }))
  );
  const x = { field: "axis", type: "nominal", sort: axes.map((a) => a.name), title: null } as const;
  const padded: number[] = [-0.05, 1.05];
  const y = { field: "y", type: "quantitative", axis: null, scale: { domain: padded, nice: false } } as const;
  return {
    $schema: SCHEMA_URL,
    description: `Parallel coordinates of ${names.length} hyperparameters over ${trials.length} trials`,
    title: options.title ?? "Hyperparameters and objective",
    ...plotSize(where, options, { width: Math.max(DEFAULT_WIDTH, 110 * names.length) }),
    layer: [
      {
        data: { values: axes.map((a) => ({ axis: a.name, y: 0, y2: 1 })) },
        mark: { type: "rule", color: REFERENCE_COLOR },
        encoding: {
          x: { ...x, axis: { labelAngle: 0, domain: false, ticks: false, labelPadding: 8 } },
          y,
          y2: { field: "y2" },
        },
      },
      {
        data: { values: lines },
        mark: { type: "line", strokeWidth: 1.5, opacity: 0.7 },
        encoding: {
          x,
          y,
          detail: { field: "trial", type: "nominal" },
          color: {
            field: "value",
            type: "quantitative",
            title: "Objective",
            scale: { range: [...SEQUENTIAL_RANGE].slice(1), reverse: direction === "minimize" },
          },
        },
      },
      {
        data: { values: ticks },
        encoding: { x, y, text: { field: "label" } },
        layer: [
          {
            mark: { type: "text", align: "left", dx: 5, fontSize: 11, stroke: "#ffffff", strokeWidth: 3 },
          },
          { mark: { type: "text", align: "left", dx: 5, fontSize: 11, color: MUTED_TEXT_COLOR } },
        ],
      },
    ],
  };
}
