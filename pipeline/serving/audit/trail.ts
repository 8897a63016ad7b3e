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
import type { BatchResult } from "../batch.ts";
import type { ServedWindow } from "../drift_window.ts";
import { ApiError } from "../errors.ts";
import type { ServingModel } from "../model_holder.ts";
import type { Prediction } from "../prediction.ts";
import { Pseudonymiser } from "./pseudonym.ts";
import type { DecisionRecord } from "./schema.ts";
import { type AuditStore, AuditUnavailableError } from "./store.ts";

/** How the trail reads a batch row's input back: as a record (for the drift window) or as JSON text. */
export interface BatchInputs {
  record(row: number): unknown;
  /** Row `row` as JSON, its `id` (if any) replaced by `pseudonym(id)`. */
  json(row: number, pseudonym: (id: string) => string): string;
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
    const { audit, window } = this;
    if (!audit && !window) return;
    const { requestId, correlationId } = typeof ids === "string"
      ? { requestId: ids, correlationId: null }
      : ids;
    const time = new Date().toISOString();
    const now = Date.parse(time);
    // Without the trail, only the rows the window will keep are worth reading.
    const first = audit ? 0 : Math.max(0, result.rows - window!.capacity);
    const windowFrom = window ? Math.max(0, result.rows - window.capacity) : result.rows;
    // One chunk or less: one group, which the backend commits in one transaction anyway.
    const writer = audit && result.rows > BATCH_CHUNK_ROWS ? audit.batch() : null;
    let chunk: DecisionRecord[] = [];
    const inFlight: Promise<void>[] = [];
    try {
      for (let i = first; i < result.rows; i++) {
        const decision = decided[i];
        if (decision === undefined) continue;
        const probability = result.probabilities[i];
        if (i >= windowFrom) {
          window!.add(inputs.record(i) as Record<string, unknown>, probability, serving.runId, now);
        }
        if (!audit) continue;
        chunk.push({
          requestId,
          correlationId,
          row: i + 1,
          time,
          modelVersion: serving.version,
          runId: serving.runId,
          modelSha256: serving.sha256,
          threshold: serving.model.threshold,
          reviewMargin: this.#reviewMargin,
          inputs: undefined,
          inputsJson: inputs.json(i, this.#pseudonyms.pseudonym),
          probability,
          pd: serving.model.pd(probability),
          decision,
          reasons: result.reasons?.[i] ?? null,
        });
        if (writer && chunk.length === BATCH_CHUNK_ROWS) {
          // The backend takes chunk k while chunk k+1 is read; at most a few are in flight.
          inFlight.push(writer.add(chunk));
          chunk = [];
          if (inFlight.length >= BATCH_CHUNKS_IN_FLIGHT) await inFlight.shift();
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      if (!audit) return;
      if (writer) {
        if (chunk.length > 0) inFlight.push(writer.add(chunk));
        await Promise.all(inFlight);
        await writer.commit();
      } else {
        await audit.recordAll(chunk);
      }
    } catch (error) {
      await Promise.allSettled(inFlight);
      await writer?.abort();
      throw answerable(error);
    }
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
