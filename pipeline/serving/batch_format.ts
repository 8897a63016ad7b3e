/**
 * A batch result written out as JSON or CSV, the same rows in the same order either way. CSV
 * cells that a spreadsheet would run as a formula are neutralised with a leading apostrophe.
 * @module
 */

import type { BatchResult, RowError } from "./batch.ts";
import { decisions } from "./batch.ts";
import type { ServingModel } from "./model_holder.ts";

/** What identifies the scoring in an answer. */
export interface BatchHeader {
  readonly serving: ServingModel;
  readonly reviewMargin: number;
  readonly requestId?: string;
}

/** The JSON answer: predictions for scored rows, errors for rejected ones. */
export function batchToJson(result: BatchResult, header: BatchHeader) {
  const decided = decisions(header.serving, result, header.reviewMargin);
  const predictions = [];
  for (let i = 0; i < result.rows; i++) {
    const decision = decided[i];
    if (decision === undefined) continue;
    const id = result.ids?.[i];
    predictions.push({
      row: i + 1,
      ...(result.firstLine === null ? {} : { line: result.firstLine + i }),
      ...(id === undefined ? {} : { id }),
      probability_bad: result.probabilities[i],
      decision,
    });
  }
  return {
    model_version: header.serving.version,
    run_id: header.serving.runId,
    threshold: header.serving.model.threshold,
    review_margin: header.reviewMargin,
    ...(header.requestId === undefined ? {} : { request_id: header.requestId }),
    rows: result.rows,
    scored: predictions.length,
    rejected: result.errors.length,
    predictions,
    errors: result.errors,
  };
}

/** The CSV answer: one line per input row, in input order; rejected rows carry `error` instead of a score. */
export function batchToCsv(result: BatchResult, header: BatchHeader): string {
  const decided = decisions(header.serving, result, header.reviewMargin);
  const hasLines = result.firstLine !== null;
  const hasIds = result.ids !== null;
  const columns = [
    "row",
    ...(hasLines ? ["line"] : []),
    ...(hasIds ? ["id"] : []),
    "probability_bad",
    "decision",
    "error",
  ];
  const errorsByRow = new Map<number, RowError>();
  for (const e of result.errors) errorsByRow.set(e.row, e);
  const out: string[] = new Array(result.rows + 1);
  out[0] = columns.join(",");
  for (let i = 0; i < result.rows; i++) {
    let line = String(i + 1);
    if (hasLines) line += "," + (result.firstLine! + i);
    if (hasIds) line += "," + csvCell(result.ids![i] ?? "");
    const decision = decided[i];
    if (decision !== undefined) {
      line += "," + result.probabilities[i] + "," + decision + ",";
    } else {
      const error = errorsByRow.get(i + 1);
      line += ",,," +
        csvCell(error ? error.issues.map((x) => `${x.field}: ${x.message}`).join("; ") : "rejected");
    }
    out[i + 1] = line;
  }
  return out.join("\n") + "\n";
}

/** RFC 4180 quoting, with formula-looking cells prefixed by an apostrophe (CSV injection). */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
