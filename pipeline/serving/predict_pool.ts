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

import { setImmediate } from "node:timers";
import type { ExplainableForest, Matrix, PackedForest, ShapPlayers } from "../forest/mod.ts";
import { rememberKey, type WorkerSlot, WorkerSlots } from "./worker_slots.ts";

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

/** What the pool remembers of a worker: the models it was sent, to predict and to explain. */
interface Sent {
  forests: Set<string>;
  explainers: Set<string>;
}

/** A small explanation request waiting to be sent with the others of its turn. */
interface Gathered {
  key: string;
  source: ExplainSource;
  data: Float64Array;
  rows: number;
  resolve(out: Float64Array): void;
  reject(error: Error): void;
}

const WORKER_URL = new URL("./predict_worker.ts", import.meta.url);

/** Worker pool for batch scoring; workers start on first use and stop on {@link close}. */
export class PredictionPool {
  readonly size: number;
  readonly #workers: WorkerSlots<Sent, PredictReply>;
  /** Small explanations waiting for the end of this turn of the event loop. */
  #gathered: Gathered[] = [];

  /** A pool of `size` workers (at least 1). */
  constructor(size: number = defaultPoolSize()) {
    this.#workers = new WorkerSlots(size, {
      url: WORKER_URL,
      name: "predict",
      state: () => ({ forests: new Set(), explainers: new Set() }),
      label: "prediction worker",
      closedMessage: "the prediction pool was closed",
    });
    this.size = this.#workers.size;
  }

  /** P(bad) for every row of `matrix`. Takes ownership of `matrix.data` (its buffer is transferred). */
  predict(key: string, forest: PackedForest, matrix: Matrix): Promise<Float64Array> {
    if (this.#workers.closed) return Promise.reject(new Error("the prediction pool is closed"));
    const slot = this.#workers.leastBusy();
    const id = this.#workers.nextId();
    const data = ownsBuffer(matrix.data) ? matrix.data : matrix.data.slice();
    const job: PredictJob = { kind: "predict", id, key, data, rows: matrix.rows, cols: matrix.cols };
    if (rememberKey(slot.state.forests, key)) job.forest = forest;
    return this.#post(slot, job);
  }

  /**
   * Shapley values of `rows` encoded rows (row-major in `data`, which is copied, not taken):
   * `rows × players.count` values, row after row, bit-identical to a `TreeShapExplainer` on the
   * calling thread. Large requests are split across the workers. Small ones (a `/predict`) are
   * gathered for the rest of the event loop's turn and sent together, split across the workers:
   * one message per worker for all the requests that arrived in one turn, not one per request.
   */
  explain(key: string, source: ExplainSource, data: Float64Array, rows: number): Promise<Float64Array> {
    if (this.#workers.closed) return Promise.reject(new Error("the prediction pool is closed"));
    if (rows === 0) return Promise.resolve(new Float64Array(0));
    if (rows >= EXPLAIN_MIN_ROWS_PER_WORKER) return this.#explainNow(key, source, data, rows);
    return new Promise((resolve, reject) => {
      this.#gathered.push({ key, source, data: data.slice(), rows, resolve, reject });
      if (this.#gathered.length === 1) setImmediate(this.#flushGathered);
    });
  }

  /** Sends the small explanations gathered this turn: per model, split evenly across the workers. */
  #flushGathered = (): void => {
    const gathered = this.#gathered;
    this.#gathered = [];
    if (this.#workers.closed) {
      for (const g of gathered) g.reject(new Error("the prediction pool is closed"));
      return;
    }
    const byKey = new Map<string, Gathered[]>();
    for (const g of gathered) {
      const same = byKey.get(g.key);
      if (same) same.push(g);
      else byKey.set(g.key, [g]);
    }
    for (const [key, requests] of byKey) {
      // Whole requests per worker, as many on each as can be.
      const per = Math.ceil(requests.length / Math.min(this.size, requests.length));
      for (let first = 0; first < requests.length; first += per) {
        this.#sendGathered(key, requests.slice(first, first + per));
      }
    }
  };

  #sendGathered(key: string, requests: Gathered[]): void {
    const { source } = requests[0];
    const cols = requests[0].data.length / requests[0].rows;
    const rows = requests.reduce((n, g) => n + g.rows, 0);
    const data = new Float64Array(rows * cols);
    let offset = 0;
    for (const g of requests) {
      data.set(g.data, offset);
      offset += g.data.length;
    }
    const players = source.players.count;
    this.#explainNow(key, source, data, rows, true).then((out) => {
      let at = 0;
      for (const g of requests) {
        g.resolve(out.slice(at, at + g.rows * players));
        at += g.rows * players;
      }
    }, (error) => {
      for (const g of requests) g.reject(error);
    });
  }

  /**
   * Explains `rows` rows in chunks of at most {@link EXPLAIN_CHUNK_ROWS} (fewer rows are shared
   * among the workers, at least {@link EXPLAIN_MIN_ROWS_PER_WORKER} each), each to the least busy
   * worker, at most {@link EXPLAIN_CHUNKS_IN_FLIGHT} per worker at a time: both cores work on a
   * large batch, and a `/predict` arriving meanwhile waits for a chunk, not the whole batch.
   * `owned`: `data` may be handed to the worker as it is (a single chunk).
   */
  #explainNow(
    key: string,
    source: ExplainSource,
    data: Float64Array,
    rows: number,
    owned = false,
  ): Promise<Float64Array> {
    const cols = data.length / rows;
    const players = source.players.count;
    const send = (from: number, count: number) => {
      const slot = this.#workers.leastBusy();
      const slice = owned && count === rows ? data : data.slice(from * cols, (from + count) * cols);
      const job: PredictJob = {
        kind: "explain",
        id: this.#workers.nextId(),
        key,
        data: slice,
        rows: count,
        cols,
      };
      if (rememberKey(slot.state.explainers, key)) {
        const { trees, nFeaturesIn } = source.forest;
        job.source = { forest: { trees, nFeaturesIn }, players: source.players };
      }
      return this.#post(slot, job);
    };
    const chunk = Math.min(
      EXPLAIN_CHUNK_ROWS,
      Math.max(EXPLAIN_MIN_ROWS_PER_WORKER, Math.ceil(rows / this.size)),
    );
    if (rows <= chunk) return send(0, rows);
    const out = new Float64Array(rows * players);
    const limit = this.size * EXPLAIN_CHUNKS_IN_FLIGHT;
    return new Promise((resolve, reject) => {
      let next = 0;
      let running = 0;
      let failed = false;
      const pump = () => {
        if (this.#workers.closed && !failed) {
          // A closed pool must not start workers again for the rest of a batch.
          failed = true;
          reject(new Error("the prediction pool is closed"));
        }
        while (!failed && running < limit && next < rows) {
          const from = next;
          const count = Math.min(chunk, rows - from);
          next += count;
          running++;
          send(from, count).then((part) => {
            out.set(part, from * players);
            running--;
            if (next >= rows && running === 0) resolve(out);
            else pump();
          }, (error) => {
            failed = true;
            reject(error);
          });
        }
      };
      pump();
    });
  }

  #post(slot: WorkerSlot<Sent>, job: PredictJob): Promise<Float64Array> {
    return this.#workers.post(slot, job, [job.data.buffer as ArrayBuffer]).then((reply) => {
      // A reply with an error was rejected by the slots; this one carries the values.
      return (reply as { out: Float64Array }).out;
    });
  }

  /** Starts every worker now, so the first large batch does not wait for them. */
  warm(): this {
    this.#workers.warm();
    return this;
  }

  /** Stops the workers; pending predictions fail. */
  close(): void {
    this.#workers.close();
  }
}

/** One worker per core, at most 4. */
export function defaultPoolSize(): number {
  return Math.min(4, Math.max(1, navigator.hardwareConcurrency || 1));
}

/** Explanations of fewer rows are gathered with the others of their turn (see {@link PredictionPool.explain}). */
const EXPLAIN_MIN_ROWS_PER_WORKER = 16;
/**
 * Rows per message of a large explanation: about 13 ms of work on the production model (~0.8 ms a
 * row), so a `/predict` explanation sent meanwhile waits behind one chunk on its worker, while a
 * message's own cost (~50 µs) stays under 1 %. `deno task bench:serve` measures `/predict` during an
 * explained batch (load 7.5–8.5, one run each): 128 rows, two in flight: p90 0.57 s (by hand); 32
 * rows, two in flight: 71 req/s, p99 469 ms; 16 rows, two: 127 req/s, p99 262 ms; 16 rows, one:
 * 190 req/s, p99 213 ms, and the batch no slower.
 */
const EXPLAIN_CHUNK_ROWS = 16;
/** Chunks of one large explanation on each worker at once: the next is sent when one comes back. */
const EXPLAIN_CHUNKS_IN_FLIGHT = 1;

function ownsBuffer(data: Float64Array): boolean {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength &&
    data.buffer instanceof ArrayBuffer;
}
