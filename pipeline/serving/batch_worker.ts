/**
 * Worker side of {@link BatchWorkers}: a whole chunk of a streamed CSV batch, from its bytes to the
 * bytes of its CSV answer. It parses and encodes the lines by the fast path's rules
 * (`encodeCleanBytes`), scores them with the forest's packed predictor, decides and formats each
 * row as `csvAnswerLine` would. A chunk with anything unusual (a bad value, a quote, a blank line,
 * non-ASCII) is handed back untouched: the main thread then parses it the slow way, with every
 * message exactly as before.
 * @module
 */

import { csvCell } from "../data/csv.ts";
import { FeatureEncoder } from "../features/encoder.ts";
import { PackedPredictor } from "../forest/packed_predictor.ts";
import { decideAt } from "../model/decision.ts";
import { encodeCleanBytes, type EncodingPlan, encodingPlan } from "./batch_fast.ts";
import { type BatchJob, type BatchReply, type BatchSetup, DECISIONS } from "./batch_workers.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<BatchJob>) => void) | null;
  postMessage(message: BatchReply, transfer?: Transferable[]): void;
};

interface Prepared {
  readonly setup: BatchSetup;
  readonly encoder: FeatureEncoder;
  readonly plan: EncodingPlan | null;
  readonly predictor: PackedPredictor;
}

/** The setups kept, by key; two cover a model swap in progress. */
const KEPT = 2;
const prepared = new Map<string, Prepared>();
const utf8 = new TextEncoder();
/** Scratch arrays reused for every chunk: a fresh matrix per chunk is garbage the collector frees late. */
let matrix = new Float64Array(0);
let scores = new Float64Array(0);

scope.onmessage = (event) => {
  const job = event.data;
  try {
    if (job.setup) {
      prepared.delete(job.key);
      const encoder = FeatureEncoder.fromJSON(job.setup.encoder);
      prepared.set(job.key, {
        setup: job.setup,
        encoder,
        plan: encodingPlan(encoder),
        predictor: new PackedPredictor(job.setup.forest),
      });
      while (prepared.size > KEPT) prepared.delete(prepared.keys().next().value!);
    }
    const ready = prepared.get(job.key);
    if (!ready) throw new Error(`batch worker has no setup ${job.key}`);
    const { setup, predictor } = ready;
    const rows = job.rows;
    const cells = rows * ready.encoder.nFeatures;
    if (matrix.length < cells) matrix = new Float64Array(Math.max(cells, 2 * matrix.length));
    const fast = setup.layout
      ? encodeCleanBytes(ready.encoder, setup.layout, job.bytes, rows, matrix, ready.plan)
      : null;
    if (!fast || !finite(fast.matrix.data)) {
      scope.postMessage({ id: job.id, bytes: job.bytes }, [job.bytes.buffer as ArrayBuffer]);
      return;
    }
    // Probabilities and decisions go back only to callers that record rows; the CSV always does.
    if (scores.length < rows) scores = new Float64Array(Math.max(rows, 2 * scores.length));
    const probabilities = job.detail ? new Float64Array(rows) : scores.subarray(0, rows);
    predictor.predictInto(fast.matrix.data, rows, probabilities);
    const decisions = new Uint8Array(job.detail ? rows : 0);
    const { threshold, reviewMargin } = setup;
    const ids = fast.ids;
    let text = "";
    for (let i = 0; i < rows; i++) {
      const p = probabilities[i];
      const decision = decideAt(p, threshold, reviewMargin);
      if (job.detail) decisions[i] = DECISIONS.indexOf(decision);
      const row = job.firstRow + i + 1;
      // csvAnswerLine's text for a scored row (shape: lines, ids when the CSV has them).
      text += ids
        ? `${row},${row + 1},${csvCell(ids[i])},${p},${decision},\n`
        : `${row},${row + 1},${p},${decision},\n`;
    }
    const csv = utf8.encode(text);
    if (!job.detail) {
      const input = job.bytes;
      scope.postMessage({ id: job.id, csv, input, probabilities: null, decisions: null, ids: null }, [
        csv.buffer as ArrayBuffer,
        input.buffer as ArrayBuffer,
      ]);
      return;
    }
    const reply: BatchReply = { id: job.id, csv, input: job.bytes, probabilities, decisions, ids };
    scope.postMessage(reply, [
      csv.buffer as ArrayBuffer,
      job.bytes.buffer as ArrayBuffer,
      probabilities.buffer as ArrayBuffer,
      decisions.buffer,
    ]);
  } catch (error) {
    scope.postMessage({ id: job.id, error: (error as Error).message ?? String(error) });
  }
};

/** Whether every feature is finite (the main thread refuses a non-finite one with its own message). */
function finite(data: Float64Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] - data[i] !== 0) return false;
  return true;
}
