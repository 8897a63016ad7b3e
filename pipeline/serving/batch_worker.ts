/**
 * Worker side of {@link BatchWorkers}: a whole chunk of a streamed CSV batch, from its bytes to the
 * bytes of its CSV answer. It parses and encodes the lines by the fast path's rules
 * (`encodeCleanBytes`), scores them with the forest's packed predictor, decides and formats each
 * row as `csvAnswerLine` would. A chunk with anything unusual (a bad value, a quote, a blank line,
 * non-ASCII) is handed back untouched: the main thread then parses it the slow way, with every
 * message exactly as before.
 * @module
 */

// Light imports only (no polars, no zod): every worker pays for its module graph at start.
import { csvCell } from "../data/csv.ts";
import { PackedPredictor } from "../forest/packed_predictor.ts";
import { decideAt } from "../model/decision.ts";
import { encodeCleanBytes } from "./batch_fast.ts";
import { type BatchJob, type BatchReply, type BatchSetup, DECISIONS } from "./batch_workers.ts";

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<BatchJob>) => void) | null;
  postMessage(message: BatchReply, transfer?: Transferable[]): void;
};

interface Prepared {
  readonly setup: BatchSetup;
  readonly predictor: PackedPredictor;
}

/** Stands in for the encoder: with a plan, `encodeCleanBytes` needs only its width. */
function planEncoder(cols: number) {
  return {
    nFeatures: cols,
    transformOne(): Float64Array {
      throw new Error("batch worker: the byte path needs an encoding plan");
    },
  };
}

/** The setups kept, by key; two cover a model swap in progress. */
const KEPT = 2;
const prepared = new Map<string, Prepared>();
const utf8 = new TextEncoder();
/** Scratch arrays reused for every chunk: a fresh matrix per chunk is garbage the collector frees late. */
let matrix = new Float64Array(0);
let scores = new Float64Array(0);
let spans = new Int32Array(0);
const DECISION_BYTES = DECISIONS.map((d) => utf8.encode(d));

/** A chunk's CSV answer written as bytes (ASCII but for ids, which are copied or encoded). */
class AnswerBytes {
  #buffer: Uint8Array;
  #at = 0;

  constructor(capacity: number) {
    this.#buffer = new Uint8Array(capacity);
  }

  /** Empties the writer, with room for `capacity` bytes. */
  reset(capacity: number): this {
    this.#at = 0;
    this.#room(capacity);
    return this;
  }

  #room(bytes: number): void {
    if (this.#at + bytes <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(this.#at + bytes, 2 * this.#buffer.length));
    grown.set(this.#buffer.subarray(0, this.#at));
    this.#buffer = grown;
  }

  byte(b: number): this {
    this.#room(1);
    this.#buffer[this.#at++] = b;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#buffer.set(b, this.#at);
    this.#at += b.length;
    return this;
  }

  /** A non-negative integer's decimal digits. */
  integer(n: number): this {
    return this.text(String(n));
  }

  /** ASCII text as is; anything else through UTF-8. */
  text(text: string): this {
    this.#room(text.length);
    for (let k = 0; k < text.length; k++) {
      const c = text.charCodeAt(k);
      if (c >= 0x80) return this.bytes(utf8.encode(text)); // what was copied so far is overwritten
      this.#buffer[this.#at + k] = c;
    }
    this.#at += text.length;
    return this;
  }

  /**
   * An id from the input's bytes, as `csvCell` writes it: the byte path took only ids without
   * quotes, commas or control characters, so `csvCell` leaves them as they are unless they start
   * like a formula, and those go through `csvCell` itself.
   */
  id(input: Uint8Array, start: number, end: number): this {
    const first = input[start];
    if (first === 61 || first === 43 || first === 45 || first === 64) {
      return this.text(csvCell(idDecoder.decode(input.subarray(start, end))));
    }
    return this.bytes(input.subarray(start, end));
  }

  /** A copy of the bytes written (the writer's own buffer is kept for the next chunk). */
  done(): Uint8Array {
    return this.#buffer.slice(0, this.#at);
  }
}

const idDecoder = new TextDecoder();
/** The answer's writer, reused for every chunk. */
const answer = new AnswerBytes(1 << 20);

scope.onmessage = (event) => {
  const job = event.data;
  try {
    if (job.setup) {
      prepared.delete(job.key);
      prepared.set(job.key, { setup: job.setup, predictor: new PackedPredictor(job.setup.forest) });
      while (prepared.size > KEPT) prepared.delete(prepared.keys().next().value!);
    }
    const ready = prepared.get(job.key);
    if (!ready) throw new Error(`batch worker has no setup ${job.key}`);
    const { setup, predictor } = ready;
    const plan = setup.plan;
    const rows = job.rows;
    const cells = rows * (plan?.cols ?? 0);
    if (matrix.length < cells) matrix = new Float64Array(Math.max(cells, 2 * matrix.length));
    const withIds = setup.layout !== null && setup.layout.idColumn >= 0;
    if (withIds && spans.length < 2 * rows) spans = new Int32Array(4 * rows);
    const fast = setup.layout && plan
      ? encodeCleanBytes(planEncoder(plan.cols), setup.layout, job.bytes, rows, {
        scratch: matrix,
        plan,
        // The answer copies ids from the input's bytes; strings only for callers that record rows.
        idSpans: withIds && !job.detail ? spans : undefined,
      })
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
    const out = answer.reset(rows * 64 + (withIds ? job.bytes.length : 0));
    for (let i = 0; i < rows; i++) {
      const p = probabilities[i];
      const decision = decideAt(p, threshold, reviewMargin);
      const code = DECISIONS.indexOf(decision);
      if (job.detail) decisions[i] = code;
      // csvAnswerLine's text for a scored row (shape: lines, ids when the CSV has them).
      const row = job.firstRow + i + 1;
      out.integer(row);
      out.byte(44);
      out.integer(row + 1);
      out.byte(44);
      if (ids) out.text(csvCell(ids[i])).byte(44);
      else if (withIds) out.id(job.bytes, spans[2 * i], spans[2 * i + 1]).byte(44);
      out.text(String(p));
      out.byte(44);
      out.bytes(DECISION_BYTES[code]);
      out.byte(44);
      out.byte(10);
    }
    const csv = out.done();
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
