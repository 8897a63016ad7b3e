/**
 * The outer folds of a nested evaluation as `folds.csv` (`repeat,fold,row`, `row` the 0-based line of
 * `data/german.data`): made from the project's `repeatedStratifiedKFold` for development, and read
 * back with every check the peers rely on — each repeat a partition of all rows into stratified folds.
 * @module
 */

import { UserError } from "../../pipeline/errors.ts";
import type { RepeatedFold } from "../../pipeline/data/split.ts";
import { parseCsv, toCsv } from "../../pipeline/data/csv.ts";

/** The outer folds of `folds.csv`: test rows per (repeat, fold). */
export interface OuterFolds {
  repeats: number;
  k: number;
  rows: number;
  /** Test rows (0-based data lines, ascending) of every fold, in (repeat, fold) order. */
  folds: { repeat: number; fold: number; test: number[] }[];
}

/** `folds.csv` text of repeated folds; `lineOf(i)` maps a table row to its 0-based data line. */
export function foldsCsv(folds: readonly RepeatedFold[], lineOf: (index: number) => number): string {
  const records: Record<string, number>[] = [];
  for (const f of folds) {
    const rows = Array.from(f.test, lineOf).sort((a, b) => a - b);
    for (const row of rows) records.push({ repeat: f.repeat, fold: f.fold, row });
  }
  return toCsv(["repeat", "fold", "row"], records);
}

/**
 * The folds in one canonical text (`repeat,fold,row` sorted by all three): equal folds give equal
 * text, and so an equal sha256, whatever order the file listed them in.
 */
export function canonicalFoldsCsv(outer: OuterFolds): string {
  return toCsv(
    ["repeat", "fold", "row"],
    outer.folds.flatMap((f) => f.test.map((row) => ({ repeat: f.repeat, fold: f.fold, row }))),
  );
}

/**
 * Parses and checks `folds.csv` against the labels of the data's rows (1 = bad): whole numbers,
 * folds numbered 0…k−1 in every repeat, each repeat a partition of all rows, and stratified (per
 * class, fold counts within a repeat differ by at most one). Refuses naming the first problem.
 */
export function parseFoldsCsv(text: string, labels: ArrayLike<number>, source = "folds.csv"): OuterFolds {
  const records = parseCsv(text);
  if (records.length === 0) throw new UserError(`${source} has no rows`);
  for (const column of ["repeat", "fold", "row"]) {
    if (!(column in records[0])) {
      throw new UserError(`${source} has no ${column} column (repeat,fold,row expected)`);
    }
  }
  const n = labels.length;
  const byRepeat = new Map<number, Map<number, number[]>>();
  records.forEach((r, i) => {
    const [repeat, fold, row] = ["repeat", "fold", "row"].map((c) => {
      const v = Number(r[c]);
      if (r[c] === "" || !Number.isInteger(v) || v < 0) {
        throw new UserError(
          `${source} line ${i + 2}: ${c} must be a whole number ≥ 0, got ${JSON.stringify(r[c])}`,
        );
      }
      return v;
    });
    if (row >= n) throw new UserError(`${source} line ${i + 2}: row ${row} is beyond the data's ${n} rows`);
    let folds = byRepeat.get(repeat);
    if (!folds) byRepeat.set(repeat, folds = new Map());
    let rows = folds.get(fold);
    if (!rows) folds.set(fold, rows = []);
    rows.push(row);
  });
  const repeats = [...byRepeat.keys()].sort((a, b) => a - b);
  repeats.forEach((r, i) => {
    if (r !== i) {
      throw new UserError(`${source}: repeats must be numbered 0…${repeats.length - 1}, found ${r}`);
    }
  });
  const k = byRepeat.get(0)!.size;
  const out: OuterFolds["folds"] = [];
  for (const repeat of repeats) {
    const folds = byRepeat.get(repeat)!;
    if (folds.size !== k) {
      throw new UserError(`${source}: repeat ${repeat} has ${folds.size} folds, repeat 0 has ${k}`);
    }
    const seen = new Uint8Array(n);
    const badCounts: number[] = [], goodCounts: number[] = [];
    for (let fold = 0; fold < k; fold++) {
      const rows = folds.get(fold);
      if (!rows) throw new UserError(`${source}: repeat ${repeat} has no fold ${fold}`);
      let bad = 0;
      for (const row of rows) {
        if (seen[row]++) throw new UserError(`${source}: row ${row} appears twice in repeat ${repeat}`);
        bad += labels[row] === 1 ? 1 : 0;
      }
      badCounts.push(bad);
      goodCounts.push(rows.length - bad);
      out.push({ repeat, fold, test: rows.sort((a, b) => a - b) });
    }
    const missing = seen.indexOf(0);
    if (missing >= 0) throw new UserError(`${source}: row ${missing} is in no fold of repeat ${repeat}`);
    for (const [name, counts] of [["bad", badCounts], ["good", goodCounts]] as const) {
      if (Math.max(...counts) - Math.min(...counts) > 1) {
        throw new UserError(
          `${source}: repeat ${repeat} is not stratified: ${name} rows per fold range ` +
            `${Math.min(...counts)}–${Math.max(...counts)}`,
        );
      }
    }
  }
  return { repeats: repeats.length, k, rows: n, folds: out };
}
