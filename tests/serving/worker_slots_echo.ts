/**
 * A worker for tests/serving/worker_slots_test.ts: answers `{ id, wait, value }` after `wait` ms
 * with its own name and the value; `fail` answers with an error, `crash` throws at top level.
 */
/// <reference lib="deno.worker" />
self.onmessage = (
  event: MessageEvent<{ id: number; wait: number; value: string; fail?: boolean; crash?: boolean }>,
) => {
  const { id, wait, value, fail, crash } = event.data;
  if (crash) throw new Error(`crashed on ${value}`);
  setTimeout(() => {
    if (fail) self.postMessage({ id, error: `refused ${value}` });
    else self.postMessage({ id, value, by: self.name });
  }, wait);
};
