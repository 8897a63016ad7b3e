/**
 * Worker threads for streamed CSV batches: each takes a chunk of whole lines as bytes and gives
 * back the bytes of its CSV answer (batch_worker.ts), so parsing, encoding, scoring and formatting
 * all run beside the thread that reads and writes. A chunk the fast path does not accept comes
 * back unscored, to be parsed on the calling thread. Bytes move by transfer, not copy; each worker
 * is sent the model (forest, compiled encoding plan, decision rule, header layout) once per key.
 *
 * `deno compile` must be told about the worker module: `--include pipeline/serving/batch_worker.ts`.
 * @module
 */

import type { PackedForest } from "../forest/mod.ts";
import type { Decision } from "../model/artifact.ts";
import type { EncodingPlan, Layout } from "./batch_fast.ts";
import { rememberKey, WorkerSlots } from "./worker_slots.ts";

/** What a worker needs to score a batch's chunks. */
export interface BatchSetup {
  readonly forest: PackedForest;
  /**
   * The encoder compiled for the byte path (`encodingPlan`, plain data), or null when it has none:
   * workers then hand every chunk back. They never load the encoder itself, whose module brings
   * polars (~0.1 s of CPU and ~15 MB per worker at start).
   */
  readonly plan: EncodingPlan | null;
  readonly threshold: number;
  readonly reviewMargin: number;
  /** The header's layout, or null when every chunk must go through the ETL. */
  readonly layout: Layout | null;
}

/** A chunk to score; `setup` is sent only the first time a worker meets `key`. */
export interface BatchJob {
  id: number;
  key: string;
  setup?: BatchSetup;
  bytes: Uint8Array;
  firstRow: number;
  rows: number;
  /** Send the ids back too (for callers that record rows). */
  detail: boolean;
}

/**
 * A scored chunk: its CSV answer lines and, when asked (`detail`), P(bad), the decision code (see
 * {@link DECISIONS}) and the id of each row.
 */
export interface ScoredBytes {
  id: number;
  csv: Uint8Array;
  /** The chunk's bytes, handed back for reuse. */
  input: Uint8Array;
  probabilities: Float64Array | null;
  decisions: Uint8Array | null;
  ids: string[] | null;
}

/** A worker's answer: scored, handed back (`bytes`: the main thread parses it), or failed. */
export type BatchReply =
  | (ScoredBytes & { bytes?: undefined; error?: undefined })
  | { id: number; bytes: Uint8Array; error?: undefined; csv?: undefined; input?: undefined }
  | { id: number; error: string; bytes?: undefined; csv?: undefined; input?: undefined };

/** Decisions by the codes workers post. */
export const DECISIONS: readonly Decision[] = ["approve", "decline", "review"];

const WORKER_URL = new URL("./batch_worker.ts", import.meta.url);

/** What the pool remembers of a worker: the setup keys it was sent. */
interface Sent {
  keys: Set<string>;
}

/** A pool of batch workers; they start on first use and stop on {@link close}. */
export class BatchWorkers {
  readonly size: number;
  readonly #workers: WorkerSlots<Sent, BatchReply>;

  /** A pool of `size` workers (at least 1). */
  constructor(size: number) {
    this.#workers = new WorkerSlots(size, {
      url: WORKER_URL,
      name: "batch",
      state: () => ({ keys: new Set() }),
      label: "batch worker",
      closedMessage: "the batch workers were closed",
    });
    this.size = this.#workers.size;
  }

  /**
   * Scores `bytes` (`rows` whole lines) with the setup `key` names (`setup()` builds it for a worker
   * that has not met it). Takes ownership of the array's whole buffer, which is transferred: the
   * caller must hold nothing else in it. Resolves with the scored chunk, or with `{ bytes }` when
   * the chunk needs the slow path.
   */
  score(
    key: string,
    setup: () => BatchSetup,
    bytes: Uint8Array,
    firstRow: number,
    rows: number,
    detail = false,
  ): Promise<BatchReply> {
    if (this.#workers.closed) return Promise.reject(new Error("the batch workers are closed"));
    const slot = this.#workers.leastBusy();
    // Sent uncopied, its whole buffer transferred: a copy per chunk was ~85 MB per million rows to fault in and free.
    const job: BatchJob = { id: this.#workers.nextId(), key, bytes, firstRow, rows, detail };
    if (rememberKey(slot.state.keys, key)) job.setup = setup();
    return this.#workers.post(slot, job, [bytes.buffer as ArrayBuffer]);
  }

  /** Starts every worker now, so the first chunks do not wait for them. */
  warm(): this {
    this.#workers.warm();
    return this;
  }

  /** Stops the workers; pending chunks fail. */
  close(): void {
    this.#workers.close();
  }
}
