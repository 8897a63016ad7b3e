/**
 * Weight of evidence and information value, the credit-scoring ranking of single predictors:
 * WoE `ln(%good / %bad)` per group (positive marks a lower-risk group) and IV `Σ (%good − %bad)·WoE`,
 * for every attribute and engineered feature.
 * @module
 */

import type pl from "nodejs-polars";
import { ENGINEERED_FEATURES } from "../../features/encoder.ts";
import { ATTRIBUTES, isCategorical } from "../../data/schema.ts";
import { type BinningOptions, countsByBin, numericBinning } from "./binning.ts";
import { countsByCategory, type GroupBadRate, type GroupCounts, withBadRates } from "./groups.ts";

/** Pseudo-count added to each bin's good and bad counts when a bin lacks one class. */
export const WOE_SMOOTHING = 0.5;

/** One row of a weight-of-evidence table. */
export interface WoeBin extends GroupBadRate {
  /** Share of all good applicants in this bin. */
  distGood: number;
  /** Share of all bad applicants in this bin. */
  distBad: number;
  /** ln(distGood / distBad): positive for lower-risk bins. */
  woe: number;
  /** (distGood − distBad) · WoE, this bin's part of the information value. */
  iv: number;
}

/** A variable's weight-of-evidence table and its information value. */
export interface WoeTable {
  bins: WoeBin[];
  iv: number;
  /** Whether the smoothing constant was applied (some bin had no good or no bad applicant). */
  smoothed: boolean;
  smoothing: number;
}

/**
 * Weight of evidence `ln(%good / %bad)` per group and information value `Σ (%good − %bad)·WoE`.
 * Empty groups are dropped; when a remaining group has no good or no bad applicant, `smoothing`
 * is added to every group's good and bad counts (and to the totals accordingly), keeping the log finite.
 */
export function weightOfEvidence(groups: readonly GroupCounts[], smoothing = WOE_SMOOTHING): WoeTable {
  if (!(smoothing > 0) || !Number.isFinite(smoothing)) {
    throw new RangeError(`smoothing must be a positive number, got ${smoothing}`);
  }
  const present = groups.filter((g) => g.good + g.bad > 0);
  const totalGood = present.reduce((s, g) => s + g.good, 0);
  const totalBad = present.reduce((s, g) => s + g.bad, 0);
  if (totalGood === 0 || totalBad === 0) {
    throw new RangeError(`weightOfEvidence needs both classes, got ${totalGood} good and ${totalBad} bad`);
  }
  const smoothed = present.some((g) => g.good === 0 || g.bad === 0);
  const a = smoothed ? smoothing : 0;
  const k = present.length;
  const bins = withBadRates(present).map((g) => {
    const distGood = (g.good + a) / (totalGood + k * a);
    const distBad = (g.bad + a) / (totalBad + k * a);
    const woe = Math.log(distGood / distBad);
    return { ...g, distGood, distBad, woe, iv: (distGood - distBad) * woe };
  });
  return { bins, iv: bins.reduce((s, b) => s + b.iv, 0), smoothed, smoothing };
}

/** Conventional strength of a predictor by its information value. */
export type IvStrength = "useless" | "weak" | "medium" | "strong";

/** The usual IV bands: below 0.02 useless, to 0.1 weak, to 0.3 medium, above strong. */
export const IV_BANDS: readonly { readonly below: number; readonly strength: IvStrength }[] = [
  { below: 0.02, strength: "useless" },
  { below: 0.1, strength: "weak" },
  { below: 0.3, strength: "medium" },
  { below: Infinity, strength: "strong" },
];

/** The strength band an information value falls in. */
export function ivStrength(iv: number): IvStrength {
  return IV_BANDS.find((band) => iv < band.below)!.strength;
}

/** The information value of one variable, ready to rank. */
export interface VariableIv {
  name: string;
  label: string;
  /** "nominal", "ordered", "numeric" for attributes; "engineered" for engineered features. */
  kind: string;
  /** How groups were formed: "category", "value" or "quantile". */
  grouping: string;
  iv: number;
  strength: IvStrength;
  table: WoeTable;
}

/** WoE table and IV of every attribute: categoricals by code, numerics binned by {@link numericBinning}. */
export function attributeInformationValues(
  frame: pl.DataFrame,
  bad: ArrayLike<number>,
  options: BinningOptions = {},
): VariableIv[] {
  return ATTRIBUTES.map((a) => {
    const column = frame.getColumn(a.name).toArray();
    const { groups, grouping } = isCategorical(a)
      ? { groups: countsByCategory(a, column as string[], bad), grouping: "category" }
      : numericGroups(column as number[], bad, options);
    return variableIv(a.name, a.label.en, a.kind, grouping, groups);
  });
}

/** WoE table and IV of each engineered feature, computed with its polars expression. */
export function engineeredInformationValues(
  frame: pl.DataFrame,
  bad: ArrayLike<number>,
  options: BinningOptions = {},
): VariableIv[] {
  const values = engineeredFeatureValues(frame);
  return ENGINEERED_FEATURES.map((f) => {
    const { groups, grouping } = numericGroups(values[f.name], bad, options);
    return variableIv(f.name, f.name, "engineered", grouping, groups);
  });
}

/** The engineered features' values for every row, by feature name. */
export function engineeredFeatureValues(frame: pl.DataFrame): Record<string, Float64Array> {
  const computed = frame.select(...ENGINEERED_FEATURES.map((f) => f.expression().alias(f.name)));
  return Object.fromEntries(
    ENGINEERED_FEATURES.map((
      f,
    ) => [f.name, Float64Array.from(computed.getColumn(f.name).toArray() as number[])]),
  );
}

/** Sorts by information value, strongest first (ties by name). */
export function rankByIv<T extends { name: string; iv: number }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => b.iv - a.iv || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function numericGroups(values: ArrayLike<number>, bad: ArrayLike<number>, options: BinningOptions) {
  const binning = numericBinning(values, options);
  return { groups: countsByBin(values, bad, binning), grouping: binning.method };
}

function variableIv(
  name: string,
  label: string,
  kind: string,
  grouping: string,
  groups: GroupCounts[],
): VariableIv {
  const table = weightOfEvidence(groups);
  return { name, label, kind, grouping, iv: table.iv, strength: ivStrength(table.iv), table };
}
