/**
 * A thread for audit_writer_lock_test.ts. `count` waits until `threads` threads have started, then
 * adds 1 to a shared counter `n` times, each a non-atomic read, pause and write under the lock (lost
 * updates show any overlap); `wait` says it is about to wait, takes the lock once and reports whether
 * it waited for a release or took it over, how long it took and when it got the lock.
 * @module
 */
import { WriterLock } from "../../pipeline/serving/audit/writer_lock.ts";

interface Scope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}
const scope = globalThis as unknown as Scope;

scope.onmessage = ({ data }) => {
  const lock = new WriterLock(data.lock);
  if (data.kind === "count") {
    const counter = new Int32Array(data.counter); // [sum, threads started]
    // Start together, so that the threads' loops really run at the same time.
    Atomics.add(counter, 1, 1);
    while (Atomics.load(counter, 1) < data.threads) { /* wait for the others */ }
    let sink = 0;
    for (let i = 0; i < data.n; i++) {
      lock.holding(5_000, () => {
        const seen = counter[0];
        for (let k = 0; k < 200; k++) sink += k; // widens the window between read and write
        counter[0] = seen + 1;
      });
    }
    scope.postMessage({ done: true, sink });
  } else {
    // Said before blocking, so that the test releases only once this thread is about to wait.
    scope.postMessage({ waiting: true });
    const start = performance.now();
    const released = lock.acquire(data.timeoutMs);
    scope.postMessage({ released, ms: performance.now() - start, acquiredAt: Date.now() });
    lock.release();
  }
};
