/**
 * Data-quality checks of a loaded table against the schema: types, missing and distinct values,
 * observed ranges and codes against what the schema accepts, and duplicate rows.
 * @module
 */

import type pl from "nodejs-polars";
import { type Attribute, ATTRIBUTES, isCategorical } from "../../data/schema.ts";

/** Quality of one attribute against the schema. */
export interface AttributeQuality {
  name: string;
  label: string;
  kind: Attribute["kind"];
  dtype: string;
  missing: number;
  distinct: number;
  /** Observed range ("4–72") or the codes seen ("4 of 5 codes"). */
  observed: string;
  /** What the schema accepts ("1–120 months") or how many codes it defines. */
  accepted: string;
  /** Whether every value lies in the schema's range or code list. */
  withinSchema: boolean;
  /** Schema codes that never occur in the data. */
  unusedCodes: string[];
}

/** Row count, duplicate rows and per-attribute quality checks of a loaded table. */
export interface QualityReport {
  rows: number;
  columns: number;
  duplicateRows: number;
  missingValues: number;
  attributes: AttributeQuality[];
}

/** Checks types, missing values, distinct values, ranges and codes against the schema, and duplicate rows. */
export function qualityReport(frame: pl.DataFrame): QualityReport {
  const attributes = ATTRIBUTES.map((a): AttributeQuality => {
    const series = frame.getColumn(a.name);
    const values = series.toArray() as (string | number | null)[];
    const present = values.filter((v) => v !== null);
    const distinct = new Set(present);
    const base = {
      name: a.name,
      label: a.label.en,
      kind: a.kind,
      dtype: String(series.dtype).replace(/^DataType\((.*)\)$/, "$1"),
      missing: values.length - present.length,
      distinct: distinct.size,
    };
    if (isCategorical(a)) {
      const codes = a.codes.map((c) => c.code);
      const unusedCodes = codes.filter((c) => !distinct.has(c));
      return {
        ...base,
        observed: `${codes.length - unusedCodes.length} of ${codes.length} codes`,
        accepted: `${codes.length} codes`,
        withinSchema: present.every((v) => codes.includes(v as string)),
        unusedCodes,
      };
    }
    const numbers = present as number[];
    const min = Math.min(...numbers);
    const max = Math.max(...numbers);
    return {
      ...base,
      observed: `${min}–${max}`,
      accepted: `${a.min}–${a.max} ${a.unit.en}`,
      withinSchema: numbers.every((v) => Number.isInteger(v) && v >= a.min && v <= a.max),
      unusedCodes: [],
    };
  });
  const keys = new Set<string>();
  let duplicateRows = 0;
  const records = frame.select(...ATTRIBUTES.map((a) => a.name)).rows();
  for (const record of records) {
    const key = JSON.stringify(record);
    if (keys.has(key)) duplicateRows++;
    keys.add(key);
  }
  return {
    rows: frame.height,
    columns: frame.width,
    duplicateRows,
    missingValues: attributes.reduce((s, a) => s + a.missing, 0),
    attributes,
  };
}
