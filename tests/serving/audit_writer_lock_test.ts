/**
 * The writer lock of the replicas' SQLite writers (audit/writer_lock.ts): threads holding it never
 * overlap, a waiting thread is woken by the release (not by its timeout), a holder that never
 * releases is taken over once the wait times out, and a trail opened with the lock commits only
 * while no one else holds it.
 */
import assert from "node:assert/strict";
import { WriterLock } from "../../pipeline/serving/audit/writer_lock.ts";
import { SqliteAuditLog } from "../../pipeline/serving/audit/sqlite.ts";
import { decisionRecord } from "./audit_backends.ts";

const WORKER = new URL("./audit_writer_lock_worker.ts", import.meta.url);

/** Runs one job of the worker; `onWaiting` is called when a `wait` job is about to block. */
function spawn(message: Record<string, unknown>, onWaiting = () => {}): Promise<Record<string, unknown>> {
  const worker = new Worker(WORKER, { type: "module" });
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    worker.onmessage = (event) => event.data.waiting ? onWaiting() : resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
    worker.postMessage(message);
  }).finally(() => worker.terminate());
}

Deno.test("three threads adding under the lock lose no update", async () => {
  const lock = new WriterLock();
  const counter = new SharedArrayBuffer(8);
  const n = 20_000;
  await Promise.all([0, 1, 2].map(() => spawn({ kind: "count", lock: lock.buffer, counter, n, threads: 3 })));
  assert.equal(new Int32Array(counter)[0], 3 * n);
});

Deno.test("a waiting thread gets the lock when it is released, long before its timeout", async () => {
  const lock = new WriterLock();
  assert.equal(lock.acquire(0), true, "a free lock is taken at once");
  const waiting = Promise.withResolvers<void>();
  const waited = spawn({ kind: "wait", lock: lock.buffer, timeoutMs: 10_000 }, waiting.resolve);
  await waiting.promise;
  // Long enough for the thread to be asleep in the lock, not spinning on its way there.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const releasedAt = Date.now();
  lock.release();
  const { released, ms, acquiredAt } = await waited;
  assert.equal(released, true);
  assert.ok((acquiredAt as number) >= releasedAt, "the lock was taken only after its release");
  assert.ok((ms as number) < 5_000, `woken by the release, not the 10 s timeout: waited ${ms} ms`);
});

Deno.test("a holder that never releases is taken over after the timeout", async () => {
  const lock = new WriterLock();
  lock.acquire(0);
  const { released, ms } = await spawn({ kind: "wait", lock: lock.buffer, timeoutMs: 200 });
  assert.equal(released, false);
  assert.ok((ms as number) >= 190, `gave up after ${ms} ms`);
});

Deno.test("a trail opened with the lock commits only once no one else holds it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "credit-writer-lock-" });
  const lock = new WriterLock();
  const trail = await SqliteAuditLog.open(`${dir}/audit.sqlite`, { writerLock: lock.buffer });
  try {
    await trail.record(decisionRecord("before"));
    lock.acquire(0);
    let committed = false;
    const pending = trail.record(decisionRecord("while held")).then(() => (committed = true));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(committed, false, "the commit waited for the lock");
    lock.release();
    await pending;
    assert.equal(await trail.count(), 2);
  } finally {
    await trail.close();
    await Deno.remove(dir, { recursive: true });
  }
});
