/**
 * A batch result written out as JSON or CSV, the same rows in the same order either way, with
 * each explained row's reasons when the batch was explained. CSV cells that a spreadsheet would
 * run as a formula are neutralised with a leading apostrophe.
 * @module
 */

import { csvCell } from "../data/csv.ts";
import { type AttributeContribution, formatContribution } from "../model/reasons.ts";
import type { Decision } from "../model/artifact.ts";
import type { BatchResult, RowError } from "./batch.ts";
import { BATCH_REASONS, decisions } from "./batch.ts";
import type { ServingModel } from "./model_holder.ts";

/** What identifies the scoring in an answer. */
export interface BatchHeader {
  readonly serving: ServingModel;
  readonly reviewMargin: number;
  readonly requestId?: string;
}

/** Whether some rejected rows are counted but not described (see {@link BatchResult.errors}). */
export function errorsTruncated(result: Pick<BatchResult, "errors" | "errorsTotal">): boolean {
  return result.errors.length < result.errorsTotal;
}

/** Says how much of the error list an answer carries, when it is truncated. */
export function errorsNote(result: Pick<BatchResult, "errors" | "errorsTotal">): string {
  return `${result.errorsTotal} rows were rejected; only the first ${result.errors.length} are listed in detail`;
}

/**
 * The JSON answer: predictions for scored rows (with signed `reasons`, largest first, when the
 * batch was explained), errors for the first rejected ones and the count of all of them.
 */
export function batchToJson(result: BatchResult, header: BatchHeader) {
  const decided = decisions(header.serving, result, header.reviewMargin);
  const reasons = result.reasons;
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
      ...(reasons
        ? {
          reasons: (reasons[i] ?? []).map((r) => ({
            ...r,
            direction: r.contribution > 0 ? "raises" as const : "lowers" as const,
          })),
        }
        : {}),
    });
  }
  return jsonAnswer(header, { ...result, scored: predictions.length }, predictions);
}

/** What the JSON answer says about the batch besides its predictions. */
export interface BatchCounts {
  readonly rows: number;
  readonly scored: number;
  readonly errors: readonly RowError[];
  readonly errorsTotal: number;
}

function jsonAnswer<P>(header: BatchHeader, counts: BatchCounts, predictions: P[]) {
  const truncated = counts.errors.length < counts.errorsTotal;
  return {
    model_version: header.serving.version,
    run_id: header.serving.runId,
    threshold: header.serving.model.threshold,
    review_margin: header.reviewMargin,
    ...(header.requestId === undefined ? {} : { request_id: header.requestId }),
    rows: counts.rows,
    scored: counts.scored,
    rejected: counts.errorsTotal,
    predictions,
    errors: counts.errors,
    errors_total: counts.errorsTotal,
    errors_truncated: truncated,
    ...(truncated ? { errors_note: errorsNote(counts) } : {}),
  };
}

/**
 * The JSON answer's text before its first prediction and after its last, for an answer written
 * out prediction by prediction ({@link predictionJson}, comma-separated): together byte for byte
 * `JSON.stringify(batchToJson(…))`.
 */
export function jsonAnswerFrame(header: BatchHeader, counts: BatchCounts): { before: string; after: string } {
  const text = JSON.stringify(jsonAnswer(header, counts, []));
  // Keys and string values before it are JSON-escaped, so this unescaped key occurs once.
  const at = text.indexOf('"predictions":[]') + '"predictions":['.length;
  return { before: text.slice(0, at), after: text.slice(at) };
}

/** One unexplained prediction of a CSV batch's JSON answer, as `batchToJson` writes it. */
export function predictionJson(
  row: number,
  line: number,
  id: string | undefined,
  probability: number,
  decision: Decision,
): string {
  return JSON.stringify({
    row,
    line,
    ...(id === undefined ? {} : { id }),
    probability_bad: probability,
    decision,
  });
}

/**
 * The CSV answer: one line per input row, in input order; rejected rows carry `error` instead of
 * a score (a short placeholder past the rows described in detail); an explained batch adds
 * `reason_1`…`reason_3` columns ("attribute:+0.031") after the others.
 */
export function batchToCsv(result: BatchResult, header: BatchHeader): string {
  const decided = decisions(header.serving, result, header.reviewMargin);
  const shape = { lines: result.firstLine !== null, ids: result.ids !== null, reasons: !!result.reasons };
  const omitted = omittedErrorNote(result.errors.length);
  const errorsByRow = new Map<number, RowError>();
  for (const e of result.errors) errorsByRow.set(e.row, e);
  const out: string[] = new Array(result.rows + 1);
  out[0] = csvAnswerHeader(shape);
  for (let i = 0; i < result.rows; i++) {
    out[i + 1] = csvAnswerLine(
      shape,
      i + 1,
      shape.lines ? result.firstLine! + i : 0,
      result.ids?.[i],
      result.probabilities[i],
      decided[i],
      errorsByRow.get(i + 1),
      omitted,
      result.reasons?.[i],
    );
  }
  return out.join("\n") + "\n";
}

/** Which optional columns a CSV answer has. */
export interface CsvAnswerShape {
  readonly lines: boolean;
  readonly ids: boolean;
  readonly reasons: boolean;
}

/** The CSV answer's header line (no line break). */
export function csvAnswerHeader(shape: CsvAnswerShape): string {
  return [
    "row",
    ...(shape.lines ? ["line"] : []),
    ...(shape.ids ? ["id"] : []),
    "probability_bad",
    "decision",
    "error",
    ...(shape.reasons ? Array.from({ length: BATCH_REASONS }, (_, k) => `reason_${k + 1}`) : []),
  ].join(",");
}

/** The `error` cell of a rejected row past the rows described in detail. */
export function omittedErrorNote(detailed: number): string {
  return `rejected (details only for the first ${detailed} rejected rows)`;
}

/** One row of the CSV answer (no line break): a score and decision, or the row's error. */
export function csvAnswerLine(
  shape: CsvAnswerShape,
  row: number,
  line: number,
  id: string | undefined,
  probability: number,
  decision: Decision | undefined,
  error: RowError | undefined,
  omitted: string,
  top?: readonly AttributeContribution[],
): string {
  let text = String(row);
  if (shape.lines) text += "," + line;
  if (shape.ids) text += "," + csvCell(id ?? "");
  if (decision !== undefined) {
    text += "," + probability + "," + decision + ",";
  } else {
    text += ",,," +
      (error ? csvCell(error.issues.map((x) => `${x.field}: ${x.message}`).join("; ")) : omitted);
  }
  if (shape.reasons) {
    for (let k = 0; k < BATCH_REASONS; k++) {
      text += "," + (top?.[k] ? csvCell(formatContribution(top[k])) : "");
    }
  }
  return text;
}
