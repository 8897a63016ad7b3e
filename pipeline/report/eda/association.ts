/**
 * How strongly two variables go together: contingency tables, χ² and Cramér's V for categorical
 * pairs, Pearson's and Spearman's correlation for numeric ones, and the pairwise matrices the heat
 * maps draw.
 * @module
 */

import { sameLength } from "./groups.ts";

/** A two-way table of counts: `counts[r][c]` rows with level `rows[r]` of x and `cols[c]` of y. */
export interface ContingencyTable {
  rows: string[];
  cols: string[];
  counts: number[][];
}

/** Cross-tabulates two categorical variables; levels appear in first-seen order. */
export function contingencyTable(x: ArrayLike<string>, y: ArrayLike<string>): ContingencyTable {
  sameLength(x, y);
  const rowIndex = new Map<string, number>();
  const colIndex = new Map<string, number>();
  const cells: [number, number][] = [];
  for (let i = 0; i < x.length; i++) {
    if (!rowIndex.has(x[i])) rowIndex.set(x[i], rowIndex.size);
    if (!colIndex.has(y[i])) colIndex.set(y[i], colIndex.size);
    cells.push([rowIndex.get(x[i])!, colIndex.get(y[i])!]);
  }
  const counts = Array.from({ length: rowIndex.size }, () => new Array<number>(colIndex.size).fill(0));
  for (const [r, c] of cells) counts[r][c]++;
  return { rows: [...rowIndex.keys()], cols: [...colIndex.keys()], counts };
}

/** Pearson's χ² statistic of independence for a table of counts; empty rows and columns are ignored. */
export function chiSquared(counts: readonly (readonly number[])[]): number {
  const rowSums = counts.map((row) => row.reduce((s, v) => s + v, 0));
  const colSums = counts[0]?.map((_, c) => counts.reduce((s, row) => s + row[c], 0)) ?? [];
  const n = rowSums.reduce((s, v) => s + v, 0);
  let chi2 = 0;
  for (let r = 0; r < counts.length; r++) {
    for (let c = 0; c < colSums.length; c++) {
      const expected = (rowSums[r] * colSums[c]) / n;
      if (expected > 0) chi2 += (counts[r][c] - expected) ** 2 / expected;
    }
  }
  return chi2;
}

/**
 * Cramér's V, `sqrt(χ² / (n · (min(r, c) − 1)))` over the non-empty rows and columns, without bias
 * correction: 0 for independence, 1 when one variable determines the other; 0 if either has one level.
 */
export function cramersV(counts: readonly (readonly number[])[]): number {
  const rows = counts.filter((row) => row.some((v) => v > 0));
  const keep = (rows[0] ?? []).map((_, c) => rows.some((row) => row[c] > 0));
  const trimmed = rows.map((row) => row.filter((_, c) => keep[c]));
  const r = trimmed.length;
  const c = trimmed[0]?.length ?? 0;
  if (r < 2 || c < 2) return 0;
  const n = trimmed.reduce((s, row) => s + row.reduce((t, v) => t + v, 0), 0);
  return Math.sqrt(chiSquared(trimmed) / (n * (Math.min(r, c) - 1)));
}

/** A cell of a square association matrix, shaped for `heatmapSpec`. */
export interface MatrixCell {
  x: string;
  y: string;
  value: number;
}

/** Cramér's V of every pair of named categorical columns (the diagonal is 1). */
export function cramersVMatrix(
  columns: readonly { name: string; values: ArrayLike<string> }[],
): MatrixCell[] {
  return pairwise(columns, (a, b) => cramersV(contingencyTable(a, b).counts));
}

/** Pearson's correlation coefficient; 0 when either variable is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  sameLength(a, b);
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/** Ranks from 1, ties sharing their average rank. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((i, j) => values[i] - values[j]);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    for (let k = start; k < end; k++) ranks[order[k]] = (start + 1 + end) / 2;
    start = end;
  }
  return ranks;
}

/** Spearman's rank correlation: Pearson's on average ranks. */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(averageRanks(a), averageRanks(b));
}

/** Correlation (Pearson's by default) of every pair of named numeric columns. */
export function correlationMatrix(
  columns: readonly { name: string; values: ArrayLike<number> }[],
  method: "pearson" | "spearman" = "pearson",
): MatrixCell[] {
  return pairwise(columns, method === "pearson" ? pearson : spearman);
}

function pairwise<T>(
  columns: readonly { name: string; values: T }[],
  measure: (a: T, b: T) => number,
): MatrixCell[] {
  const cells: MatrixCell[] = [];
  for (const row of columns) {
    for (const col of columns) {
      cells.push({ x: col.name, y: row.name, value: row === col ? 1 : measure(row.values, col.values) });
    }
  }
  return cells;
}
