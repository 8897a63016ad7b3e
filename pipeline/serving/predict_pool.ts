/**
 * A small pool of Web Workers that score feature matrices with the forest's own batch prediction
 * (a {@link PackedForest} wrapped in a `PackedPredictor`, bit-identical to `predictProba`), so batch
 * scoring uses every core: the caller parses and encodes the next chunk while workers score the
 * previous ones. Matrices and results move by transfer, not copy; each worker is sent a forest
 * once per key (the model's sha256), so a model swap needs no pool restart.
 *
 * `deno compile` must be told about the worker module: `--include pipeline/serving/predict_worker.ts`.
 * @module
 */

import type { Matrix, PackedForest } from "../forest/mod.ts";

/** Message to a worker. */
export interface PredictJob {
  id: number;
  key: string;
  /** Sent only the first time a worker meets `key`. */
  forest?: PackedForest;
  data: Float64Array;
  rows: number;
  cols: number;
}

/** Message from a worker. */
export type PredictReply = { id: number; out: Float64Array; error?: undefined } | {
  id: number;
  error: string;
};

interface Slot {
  worker: Worker;
  pending: number;
  forests: Set<string>;
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
    const job: PredictJob = { id, key, data, rows: matrix.rows, cols: matrix.cols };
    if (!slot.forests.has(key)) {
      job.forest = forest;
      slot.forests.add(key);
      // Mirror the worker's bounded cache so a forgotten forest is sent again.
      if (slot.forests.size > 2) slot.forests.delete(slot.forests.values().next().value!);
    }
    slot.pending++;
    return new Promise<Float64Array>((resolve, reject) => {
      this.#waiters.set(id, { slot, resolve, reject });
      slot.worker.postMessage(job, [data.buffer as ArrayBuffer]);
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
    const slot: Slot = { worker, pending: 0, forests: new Set() };
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

function ownsBuffer(data: Float64Array): boolean {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength &&
    data.buffer instanceof ArrayBuffer;
}
