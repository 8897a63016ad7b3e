/**
 * The bookkeeping both worker pools share (the prediction pool, `predict_pool.ts`, and the batch
 * workers, `batch_workers.ts`): a fixed number of module workers started on first use, each message
 * answered by its id, the least busy worker chosen, and a crashed worker retired with its pending
 * messages failed (the next use starts a fresh one). What a message holds and what each worker
 * remembers (`state`, e.g. the models it was sent) stays with the pool that owns it.
 * @module
 */

/** One worker, how many of its messages await an answer, and what its pool remembers of it. */
export interface WorkerSlot<State> {
  readonly worker: Worker;
  pending: number;
  readonly state: State;
}

/** How a pool's workers start and how its errors read. */
export interface WorkerSlotsOptions<State> {
  /** The worker module. */
  url: URL;
  /** Workers are named `${name}-${index}`. */
  name: string;
  /** A fresh worker's state. */
  state: () => State;
  /** Prefix of the errors a worker reports or dies with, e.g. "prediction worker". */
  label: string;
  /** The error of messages still pending when the pool is closed. */
  closedMessage: string;
}

/** A worker's answer to a message: its id, and an error when it failed. */
export interface WorkerReply {
  id: number;
  error?: string;
}

interface Waiter<State, Reply> {
  slot: WorkerSlot<State>;
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/** A fixed-size set of workers answering messages by id; they start on first use. */
export class WorkerSlots<State, Reply extends WorkerReply> {
  readonly size: number;
  readonly #options: WorkerSlotsOptions<State>;
  readonly #slots: (WorkerSlot<State> | null)[];
  readonly #waiters = new Map<number, Waiter<State, Reply>>();
  #nextId = 1;
  #closed = false;

  /** `size` workers (at least 1), none started yet. */
  constructor(size: number, options: WorkerSlotsOptions<State>) {
    this.size = Math.max(1, Math.floor(size));
    this.#options = options;
    this.#slots = new Array(this.size).fill(null);
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** A fresh message id. */
  nextId(): number {
    return this.#nextId++;
  }

  /** The worker with the fewest pending messages, starting one when a slot is empty. */
  leastBusy(): WorkerSlot<State> {
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

  /** Sends `message` (whose `id` is from {@link nextId}) to `slot`; resolves with the worker's answer. */
  post(slot: WorkerSlot<State>, message: { id: number }, transfer: Transferable[]): Promise<Reply> {
    slot.pending++;
    return new Promise<Reply>((resolve, reject) => {
      this.#waiters.set(message.id, { slot, resolve, reject });
      slot.worker.postMessage(message, transfer);
    });
  }

  /** Starts every worker now, so the first messages do not wait for them. */
  warm(): void {
    if (this.#closed) return;
    for (let i = 0; i < this.#slots.length; i++) this.#slots[i] ??= this.#start(i);
  }

  /** Stops the workers; pending messages fail. */
  close(): void {
    this.#closed = true;
    for (let i = 0; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      if (slot) this.#retire(i, slot, new Error(this.#options.closedMessage));
    }
  }

  #start(index: number): WorkerSlot<State> {
    const { url, name, label, state } = this.#options;
    const worker = new Worker(url, { type: "module", name: `${name}-${index}` });
    const slot: WorkerSlot<State> = { worker, pending: 0, state: state() };
    worker.onmessage = (event: MessageEvent<Reply>) => {
      const reply = event.data;
      const waiter = this.#waiters.get(reply.id);
      if (!waiter) return;
      this.#waiters.delete(reply.id);
      slot.pending--;
      if (reply.error !== undefined) waiter.reject(new Error(`${label}: ${reply.error}`));
      else waiter.resolve(reply);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#retire(index, slot, new Error(`${label} crashed: ${event.message}`));
    };
    this.#slots[index] = slot;
    return slot;
  }

  #retire(index: number, slot: WorkerSlot<State>, error: Error): void {
    slot.worker.terminate();
    if (this.#slots[index] === slot) this.#slots[index] = null;
    for (const [id, waiter] of this.#waiters) {
      if (waiter.slot !== slot) continue;
      this.#waiters.delete(id);
      waiter.reject(error);
    }
  }
}

/**
 * Notes that a worker is sent `key` (a model's); true when it had not been yet. Mirrors the
 * workers' bounded caches (two keys), so that a forgotten model is sent again.
 */
export function rememberKey(keys: Set<string>, key: string): boolean {
  if (keys.has(key)) return false;
  keys.add(key);
  if (keys.size > 2) keys.delete(keys.values().next().value!);
  return true;
}
