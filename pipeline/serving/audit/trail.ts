/**
 * Where the prediction routes report their decisions: the audit trail (awaited: durable before the
 * answer) and the in-memory window for drift monitoring. Each row carries the server's request id
 * (the key), the client's `X-Request-Id` as a correlation id only, and the identity of the model
 * that decided (version, run, artifact sha256, threshold, review margin). A client's batch row ids
 * are stored as keyed pseudonyms.
 * @module
 */

import { setImmediate } from "node:timers";
import type { Context } from "hono";
import type { Decision } from "../../model/artifact.ts";
import type { AttributeContribution } from "../../model/reasons.ts";
import type { BatchResult } from "../batch.ts";
import type { ServedWindow } from "../drift_window.ts";
import { ApiError } from "../errors.ts";
import type { ServingModel } from "../model_holder.ts";
import type { Prediction } from "../prediction.ts";
import { Pseudonymiser } from "./pseudonym.ts";
import type { DecisionRecord } from "./schema.ts";
import { type AuditStore, AuditUnavailableError, type BatchWriter } from "./store.ts";

/** How the trail reads a batch row's input back: as a record (for the drift window) or as JSON text. */
export interface BatchInputs {
  record(row: number): unknown;
  /** Row `row` as JSON, its `id` (if any) replaced by `pseudonym(id)`. */
  json(row: number, pseudonym: (id: string) => string): string;
}

/** A batch recorded as it is scored; see {@link DecisionTrail.openBatch}. */
export interface BatchRecording {
  /**
   * Stages rows `firstRow`… (0-based): their probabilities and decisions (undefined = rejected, not
   * recorded) and a way to read their inputs back (called afresh for each pass, rows asked in
   * increasing order, 0 = `firstRow`). Resolves when the trail can take more.
   */
  add(
    firstRow: number,
    probabilities: Float64Array,
    decided: readonly (Decision | undefined)[],
    inputs: () => BatchInputs,
    reasons?: readonly (readonly AttributeContribution[] | undefined)[],
  ): Promise<void>;
  /** Makes every staged row part of the trail in one transaction; `rows` counts all the batch's rows. */
  commit(rows: number): Promise<void>;
  /** Drops every staged row. */
  abort(): Promise<void>;
}

/** The server's id of a request and the client's own, if it sent a sane one. */
export interface RequestIds {
  requestId: string;
  correlationId: string | null;
}

/** The ids the request middleware set. */
export function requestIds(c: Context): RequestIds {
  return {
    requestId: (c.get("requestId" as never) as string | undefined) ?? "",
    correlationId: (c.get("correlationId" as never) as string | undefined) ?? null,
  };
}

/** Rows of a batch sent to the backend at a time; the event loop gets a turn between them. */
const BATCH_CHUNK_ROWS = 2048;
/** Chunks of a batch in flight at once, which bounds the memory a huge batch holds. */
const BATCH_CHUNKS_IN_FLIGHT = 4;

/** The audit trail's refusal as the answer: 503 while it is unavailable, anything else stays a 500. */
function answerable(error: unknown): unknown {
  if (error instanceof AuditUnavailableError) {
    return new ApiError(
      503,
      "audit_unavailable",
      "the decision could not be recorded in the audit trail, so it is not answered; retry shortly",
    );
  }
  return error;
}

/** The trail and the drift window, fed by the prediction routes. */
export class DecisionTrail {
  readonly #pseudonyms: Pseudonymiser;
  readonly #reviewMargin: number;

  constructor(
    readonly audit: AuditStore | null,
    readonly window: ServedWindow | null,
    options: { reviewMargin?: number; pseudonyms?: Pseudonymiser } = {},
  ) {
    this.#reviewMargin = options.reviewMargin ?? 0;
    this.#pseudonyms = options.pseudonyms ?? new Pseudonymiser();
  }

  /** Records one `/predict` answer; resolves once the decision is durable. */
  predicted(
    answer: Prediction,
    applicant: unknown,
    serving?: ServingModel,
    correlationId: string | null = null,
  ): Promise<void> | undefined {
    this.window?.add(applicant as Record<string, unknown>, answer.probability_bad, answer.run_id);
    if (!this.audit) return undefined;
    return this.audit.record({
      requestId: answer.request_id,
      correlationId,
      row: null,
      time: new Date().toISOString(),
      modelVersion: answer.model_version,
      runId: answer.run_id,
      modelSha256: serving?.sha256 ?? null,
      threshold: answer.threshold,
      reviewMargin: answer.review_margin,
      inputs: applicant,
      probability: answer.probability_bad,
      pd: typeof answer.pd === "number" ? answer.pd : null,
      decision: answer.decision,
      reasons: answer.reasons ?? null,
    }).catch((error) => {
      throw answerable(error);
    });
  }

  /**
   * Records the scored rows of a batch; resolves once all are durable. They join the trail
   * together or not at all (a batch answered with an error leaves no rows). `inputs` reads row i's
   * input back (0-based, in order).
   */
  async batch(
    serving: ServingModel,
    result: BatchResult,
    decided: readonly (Decision | undefined)[],
    ids: RequestIds | string,
    inputs: BatchInputs,
  ): Promise<void> {
    const recording = this.openBatch(serving, ids);
    try {
      await recording.add(0, result.probabilities, decided, () => inputs, result.reasons);
    } catch (error) {
      await recording.abort();
      throw error;
    }
    await recording.commit(result.rows);
  }

  /**
   * A batch recorded piece by piece as it is scored (a streamed upload): {@link BatchRecording.add}
   * stages each piece's rows, {@link BatchRecording.commit} makes them part of the trail in one
   * transaction and then feeds the drift window, {@link BatchRecording.abort} drops them all.
   */
  openBatch(serving: ServingModel, ids: RequestIds | string): BatchRecording {
    const { audit, window } = this;
    const { requestId, correlationId } = typeof ids === "string"
      ? { requestId: ids, correlationId: null }
      : ids;
    const time = new Date().toISOString();
    const now = Date.parse(time);
    const reviewMargin = this.#reviewMargin;
    const pseudonym = this.#pseudonyms.pseudonym;
    // Rows wait here until there are more than one chunk's worth: a small batch is one group,
    // which the backend commits in one transaction anyway; a larger one is staged.
    let chunk: DecisionRecord[] = [];
    let writer: BatchWriter | null = null;
    const inFlight: Promise<void>[] = [];
    /** The latest pieces, enough to cover the window's capacity: the window takes a batch's last rows. */
    const recent: {
      firstRow: number;
      probabilities: Float64Array;
      decided: readonly (Decision | undefined)[];
      inputs: () => BatchInputs;
    }[] = [];
    let failed: unknown = null;
    const fail = (error: unknown): never => {
      failed ??= error;
      throw answerable(error);
    };
    return {
      add: async (firstRow, probabilities, decided, inputs, reasons) => {
        if (failed) throw answerable(failed);
        if (window) {
          recent.push({ firstRow, probabilities, decided, inputs });
          let kept = recent.reduce((n, r) => n + r.decided.length, 0);
          while (recent.length > 1 && kept - recent[0].decided.length >= window.capacity) {
            kept -= recent.shift()!.decided.length;
          }
        }
        if (!audit) return;
        const rows = inputs();
        try {
          for (let i = 0; i < decided.length; i++) {
            const decision = decided[i];
            if (decision === undefined) continue;
            const probability = probabilities[i];
            chunk.push({
              requestId,
              correlationId,
              row: firstRow + i + 1,
              time,
              modelVersion: serving.version,
              runId: serving.runId,
              modelSha256: serving.sha256,
              threshold: serving.model.threshold,
              reviewMargin,
              inputs: undefined,
              inputsJson: rows.json(i, pseudonym),
              probability,
              pd: serving.model.pd(probability),
              decision,
              reasons: reasons?.[i] ?? null,
            });
            if (chunk.length > BATCH_CHUNK_ROWS) {
              // The backend takes chunk k while chunk k+1 is read; at most a few are in flight.
              writer ??= audit.batch();
              const job = writer.add(chunk.slice(0, BATCH_CHUNK_ROWS));
              job.catch(() => {}); // awaited below or at commit
              inFlight.push(job);
              chunk = chunk.slice(BATCH_CHUNK_ROWS);
              if (inFlight.length >= BATCH_CHUNKS_IN_FLIGHT) await inFlight.shift();
              await new Promise((resolve) => setImmediate(resolve));
            }
          }
        } catch (error) {
          fail(error);
        }
      },
      commit: async (rows) => {
        if (failed) throw answerable(failed);
        try {
          if (audit) {
            if (writer) {
              if (chunk.length > 0) inFlight.push(writer.add(chunk));
              await Promise.all(inFlight);
              await writer.commit();
            } else {
              await audit.recordAll(chunk);
            }
          }
        } catch (error) {
          await Promise.allSettled(inFlight);
          await writer?.abort();
          fail(error);
        }
        if (!window) return;
        const from = Math.max(0, rows - window.capacity);
        for (const piece of recent) {
          if (piece.firstRow + piece.decided.length <= from) continue;
          const inputs = piece.inputs();
          for (let i = Math.max(0, from - piece.firstRow); i < piece.decided.length; i++) {
            if (piece.decided[i] === undefined) continue;
            window.add(
              inputs.record(i) as Record<string, unknown>,
              piece.probabilities[i],
              serving.runId,
              now,
            );
          }
        }
      },
      abort: async () => {
        failed ??= new Error("the batch was abandoned");
        await Promise.allSettled(inFlight);
        await writer?.abort();
      },
    };
  }

  /** Fills the drift window from the trail's newest rows (after a restart). */
  async seedWindow(): Promise<number> {
    if (!this.audit || !this.window) return 0;
    const rows = await this.audit.recent(this.window.capacity);
    for (const r of rows) {
      if (r.inputs && typeof r.inputs === "object") {
        this.window.add(r.inputs as Record<string, unknown>, r.probability_bad, r.run_id, Date.parse(r.time));
      }
    }
    return rows.length;
  }
}
