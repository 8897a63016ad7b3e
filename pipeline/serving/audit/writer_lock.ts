/**
 * The lock the SQLite trail's writer threads of one process (one per replica, all on one file) take
 * around each write transaction, and around the copy that completes a checkpoint (worker.ts), which
 * another writer's commits would otherwise keep from completing. A writer that finds it held sleeps
 * until the holder releases it, and is woken then: without it, the second writer's `BEGIN IMMEDIATE`
 * met SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between tries, and with two replicas
 * committing every millisecond or two those sleeps set the pace (`WORKERS=2`, `AUDIT_SYNC=full`, 16
 * connections: p99 495–625 ms).
 *
 * It only spares the sleeps: SQLite's own lock still keeps the transactions apart. So a holder that
 * never releases (its thread was terminated mid-transaction) is taken over once the wait times out.
 * Blocking waits (`Atomics.wait`) are allowed on worker threads only, where the writers run.
 * @module
 */

/** States of the lock's cell: free, held, held with a thread waiting. */
const FREE = 0, HELD = 1, CONTENDED = 2;

/** A mutex on a 4-byte `SharedArrayBuffer` that every writer thread of the process receives. */
export class WriterLock {
  readonly #cell: Int32Array;

  /** `buffer`: the shared cell (a fresh one when absent), to be sent to the other threads. */
  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.#cell = new Int32Array(buffer, 0, 1);
  }

  /**
   * Takes the lock, waiting at most `timeoutMs` for its holder; returns false when it took it over
   * after that wait instead (the caller then relies on SQLite's own lock alone).
   */
  acquire(timeoutMs: number): boolean {
    const cell = this.#cell;
    let state = Atomics.compareExchange(cell, 0, FREE, HELD);
    if (state === FREE) return true;
    const deadline = performance.now() + timeoutMs;
    if (state !== CONTENDED) state = Atomics.exchange(cell, 0, CONTENDED);
    while (state !== FREE) {
      const left = deadline - performance.now();
      if (left <= 0) {
        Atomics.store(cell, 0, CONTENDED); // taken over: the release below wakes whoever waits
        return false;
      }
      Atomics.wait(cell, 0, CONTENDED, left);
      state = Atomics.exchange(cell, 0, CONTENDED);
    }
    return true;
  }

  /** Releases the lock and wakes one waiting thread, if any. */
  release(): void {
    if (Atomics.sub(this.#cell, 0, 1) !== HELD) {
      Atomics.store(this.#cell, 0, FREE);
      Atomics.notify(this.#cell, 0, 1);
    }
  }

  /** Runs `work` holding the lock (see {@link acquire} for `timeoutMs`). */
  holding<T>(timeoutMs: number, work: () => T): T {
    this.acquire(timeoutMs);
    try {
      return work();
    } finally {
      this.release();
    }
  }
}
