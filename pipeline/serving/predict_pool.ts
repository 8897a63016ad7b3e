/**
 * A small pool of Web Workers that score feature matrices with the forest's own batch prediction
 * (a {@link PackedForest} wrapped in a `PackedPredictor`, bit-identical to `predictProba`), so batch
 * scoring uses every core: the caller parses and encodes the next chunk while workers score the
 * previous ones. Matrices and results move by transfer, not copy; each worker is sent a forest
 * once per key (the model's sha256), so a model swap needs no pool restart.
 *
 * The same workers compute explanations (attribute-level TreeSHAP, {@link PredictionPool.explain})
 * for `/predict` and explained batches, so the ~ms of an explanation runs beside the event loop on
 * every core. The worker runs the very `TreeShapExplainer` the main thread would, on a structured
 * clone of the same trees: its values are bit-identical (tests/serving/points_test.ts).
 *
 * `deno compile` must be told about the worker module: `--include pipeline/serving/predict_worker.ts`.
 * @module
 */

import type { ExplainableForest, Matrix, PackedForest, ShapPlayers } from "../forest/mod.ts";

/** What a worker needs to explain rows: the forest's trees and who the players are. */
export interface ExplainSource {
  readonly forest: ExplainableForest;
  readonly players: ShapPlayers;
}

/** Message to a worker: score rows (`predict`) or compute their Shapley values (`explain`). */
export type PredictJob = {
  kind: "predict";
  id: number;
  key: string;
  /** Sent only the first time a worker meets `key`. */
  forest?: PackedForest;
  data: Float64Array;
  rows: number;
  cols: number;
} | {
  kind: "explain";
  id: number;
  key: string;
  /** Sent only the first time a worker explains with `key`. */
  source?: { forest: { trees: ExplainableForest["trees"]; nFeaturesIn: number }; players: ShapPlayers };
  data: Float64Array;
  rows: number;
  cols: number;
};

/** Message from a worker. */
export type PredictReply = { id: number; out: Float64Array; error?: undefined } | {
  id: number;
  error: string;
};

interface Slot {
  worker: Worker;
  pending: number;
  forests: Set<string>;
  explainers: Set<string>;
}

interface Waiter {
  slot: Slot;
  resolve(out: Float64Array): void;
  reject(error: Error): void;
}

const WORKER_URL = new URL("./predict_worker.ts", import.meta.url);

/** Worker pool for batch scoring; workers start on first use and stop on {@link close}. */
export class PredictionPool {
  readonly size: number;
  #slots: (Slot | null)[];
  #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #closed = false;

  /** A pool of `size` workers (at least 1). */
  constructor(size: number = defaultPoolSize()) {
    this.size = Math.max(1, Math.floor(size));
    this.#slots = new Array(this.size).fill(null);
  }

  /** P(bad) for every row of `matrix`. Takes ownership of `matrix.data` (its buffer is transferred). */
  predict(key: string, forest: PackedForest, matrix: Matrix): Promise<Float64Array> {
    if (this.#closed) return Promise.reject(new Error("the prediction pool is closed"));
    const slot = this.#leastBusy();
    const id = this.#nextId++;
    const data = ownsBuffer(matrix.data) ? matrix.data : matrix.data.slice();
    const job: PredictJob = { kind: "predict", id, key, data, rows: matrix.rows, cols: matrix.cols };
    if (remember(slot.forests, key)) job.forest = forest;
    return this.#post(slot, job);
  }

  /**
   * Shapley values of `rows` encoded rows (row-major in `data`, which is copied, not taken):
   * `rows × players.count` values, row after row, bit-identical to a `TreeShapExplainer` on the
   * calling thread. Large requests are split across the workers.
   */
  async explain(key: string, source: ExplainSource, data: Float64Array, rows: number): Promise<Float64Array> {
    if (this.#closed) throw new Error("the prediction pool is closed");
    if (rows === 0) return new Float64Array(0);
    const cols = data.length / rows;
    const players = source.players.count;
    const parts = Math.max(1, Math.min(this.size, Math.ceil(rows / EXPLAIN_MIN_ROWS_PER_WORKER)));
    const per = Math.ceil(rows / parts);
    const jobs: Promise<Float64Array>[] = [];
    for (let from = 0; from < rows; from += per) {
      const count = Math.min(per, rows - from);
      const slot = this.#leastBusy();
      const slice = data.slice(from * cols, (from + count) * cols);
      const job: PredictJob = { kind: "explain", id: this.#nextId++, key, data: slice, rows: count, cols };
      if (remember(slot.explainers, key)) {
        const { trees, nFeaturesIn } = source.forest;
        job.source = { forest: { trees, nFeaturesIn }, players: source.players };
      }
      jobs.push(this.#post(slot, job));
    }
    const out = new Float64Array(rows * players);
    let offset = 0;
    for (const part of await Promise.all(jobs)) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  #post(slot: Slot, job: PredictJob): Promise<Float64Array> {
    slot.pending++;
    return new Promise<Float64Array>((resolve, reject) => {
      this.#waiters.set(job.id, { slot, resolve, reject });
      slot.worker.postMessage(job, [job.data.buffer as ArrayBuffer]);
    });
  }

  /** Starts every worker now, so the first large batch does not wait for them. */
  warm(): this {
    if (this.#closed) return this;
    for (let i = 0; i < this.#slots.length; i++) this.#slots[i] ??= this.#start(i);
    return this;
  }

  /** Stops the workers; pending predictions fail. */
  close(): void {
    this.#closed = true;
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      if (slot) this.#retire(i, slot, new Error("the prediction pool was closed"));
    }
  }

  #leastBusy(): Slot {
    let best = -1;
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      if (!slot) {
        best = i;
        break;
      }
      if (best < 0 || slot.pending < this.#slots[best]!.pending) best = i;
    }
    return this.#slots[best] ?? this.#start(best);
  }

  #start(index: number): Slot {
    const worker = new Worker(WORKER_URL, { type: "module", name: `predict-${index}` });
    const slot: Slot = { worker, pending: 0, forests: new Set(), explainers: new Set() };
    worker.onmessage = (event: MessageEvent<PredictReply>) => {
      const reply = event.data;
      const waiter = this.#waiters.get(reply.id);
      if (!waiter) return;
      this.#waiters.delete(reply.id);
      slot.pending--;
      if (reply.error !== undefined) waiter.reject(new Error(`prediction worker: ${reply.error}`));
      else waiter.resolve(reply.out);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#retire(index, slot, new Error(`prediction worker crashed: ${event.message}`));
    };
    this.#slots[index] = slot;
    return slot;
  }

  #retire(index: number, slot: Slot, error: Error): void {
    slot.worker.terminate();
    if (this.#slots[index] === slot) this.#slots[index] = null;
    for (const [id, waiter] of this.#waiters) {
      if (waiter.slot !== slot) continue;
      this.#waiters.delete(id);
      waiter.reject(error);
    }
  }
}

/** One worker per core, at most 4. */
export function defaultPoolSize(): number {
  return Math.min(4, Math.max(1, navigator.hardwareConcurrency || 1));
}

/** Rows below which splitting an explanation across workers costs more than it saves. */
const EXPLAIN_MIN_ROWS_PER_WORKER = 16;

/**
 * Notes that a worker is sent `key`; true when it had not been yet. Mirrors the worker's bounded
 * cache (two keys) so that a forgotten model is sent again.
 */
function remember(keys: Set<string>, key: string): boolean {
  if (keys.has(key)) return false;
  keys.add(key);
  if (keys.size > 2) keys.delete(keys.values().next().value!);
  return true;
}

function ownsBuffer(data: Float64Array): boolean {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength &&
    data.buffer instanceof ArrayBuffer;
}
