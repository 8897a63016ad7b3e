/**
 * The three kinds of search-space dimension a trial can ask for, validated once and compared by
 * value, so samplers can tell whether two trials asked the same question.
 * @module
 */

/** A value a trial may suggest. */
export type ParamValue = string | number | boolean | null;

/** A real-valued dimension, optionally on a log scale or a grid of `step`. */
export interface FloatDistribution {
  readonly kind: "float";
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly step: number | null;
}

/** An integer dimension on the grid `low, low + step, …`, optionally on a log scale (step 1 only). */
export interface IntDistribution {
  readonly kind: "int";
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly step: number;
}

/** A choice among unordered values. */
export interface CategoricalDistribution {
  readonly kind: "categorical";
  readonly choices: readonly ParamValue[];
}

/** Any search-space dimension. */
export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;

/** Options of a numeric dimension. */
export interface NumericOptions {
  /** Sample on a log scale; needs `low > 0` and no `step` (or step 1 for ints). */
  log?: boolean;
  /** Grid spacing; `high` is lowered onto the grid when the range is not a multiple of it. */
  step?: number;
}

/** Builds a validated {@link FloatDistribution}. */
export function floatDistribution(
  name: string,
  low: number,
  high: number,
  options: NumericOptions = {},
): FloatDistribution {
  const { log = false, step } = options;
  requireRange(name, low, high);
  if (log && low <= 0) throw new RangeError(`${name}: low must be > 0 on a log scale, got ${low}`);
  if (step === undefined) return { kind: "float", low, high, log, step: null };
  if (log) throw new RangeError(`${name}: step and log cannot be combined`);
  if (!(Number.isFinite(step) && step > 0)) throw new RangeError(`${name}: step must be > 0, got ${step}`);
  return { kind: "float", low, high: onGrid(low, high, step), log, step };
}

/** Builds a validated {@link IntDistribution}. */
export function intDistribution(
  name: string,
  low: number,
  high: number,
  options: NumericOptions = {},
): IntDistribution {
  const { log = false, step = 1 } = options;
  requireRange(name, low, high);
  if (!Number.isInteger(low) || !Number.isInteger(high)) {
    throw new RangeError(`${name}: low and high must be integers, got ${low} and ${high}`);
  }
  if (!Number.isInteger(step) || step < 1) {
    throw new RangeError(`${name}: step must be a positive integer, got ${step}`);
  }
  if (log && low < 1) throw new RangeError(`${name}: low must be >= 1 on a log scale, got ${low}`);
  if (log && step !== 1) throw new RangeError(`${name}: step must be 1 on a log scale, got ${step}`);
  return { kind: "int", low, high: low + Math.floor((high - low) / step) * step, log, step };
}

/** Builds a validated {@link CategoricalDistribution}. */
export function categoricalDistribution(
  name: string,
  choices: readonly ParamValue[],
): CategoricalDistribution {
  if (!Array.isArray(choices) || choices.length === 0) {
    throw new RangeError(`${name}: choices must not be empty`);
  }
  for (const choice of choices) {
    const type = typeof choice;
    if (choice !== null && type !== "string" && type !== "number" && type !== "boolean") {
      throw new TypeError(`${name}: choices must be string, number, boolean or null, got ${type}`);
    }
  }
  if (new Set(choices).size !== choices.length) throw new RangeError(`${name}: choices must be distinct`);
  return { kind: "categorical", choices: [...choices] };
}

/** True when both describe the same dimension, so their observations are comparable. */
export function sameDistribution(a: Distribution, b: Distribution): boolean {
  if (a.kind === "categorical" || b.kind === "categorical") {
    if (a.kind !== "categorical" || b.kind !== "categorical") return false;
    return a.choices.length === b.choices.length &&
      a.choices.every((choice, i) => Object.is(choice, b.choices[i]));
  }
  return a.kind === b.kind && a.low === b.low && a.high === b.high && a.log === b.log && a.step === b.step;
}

/** True when `value` is a value the distribution can produce. */
export function containsValue(distribution: Distribution, value: ParamValue): boolean {
  if (distribution.kind === "categorical") return choiceIndex(distribution, value) >= 0;
  if (typeof value !== "number" || !(value >= distribution.low && value <= distribution.high)) return false;
  if (distribution.kind === "int") return Number.isInteger((value - distribution.low) / distribution.step);
  if (distribution.step === null) return true;
  const k = (value - distribution.low) / distribution.step;
  return Math.abs(k - Math.round(k)) < 1e-8;
}

/** Position of `value` among the choices, or -1. */
export function choiceIndex(distribution: CategoricalDistribution, value: ParamValue): number {
  return distribution.choices.findIndex((choice) => Object.is(choice, value));
}

/** Puts `x` on the grid of a stepped distribution and inside its bounds. */
export function snapToGrid(x: number, low: number, high: number, step: number): number {
  const snapped = low + Math.round((x - low) / step) * step;
  return Math.min(high, Math.max(low, snapped));
}

function requireRange(name: string, low: number, high: number): void {
  if (!Number.isFinite(low) || !Number.isFinite(high)) {
    throw new RangeError(`${name}: low and high must be finite, got ${low} and ${high}`);
  }
  if (low > high) throw new RangeError(`${name}: low must not exceed high, got ${low} > ${high}`);
}

function onGrid(low: number, high: number, step: number): number {
  // The small tolerance keeps e.g. (1 - 0.1) / 0.1 = 8.999… from dropping the last grid point.
  return low + Math.floor((high - low) / step + 1e-8) * step;
}
