/**
 * The worker bookkeeping both pools share: answers matched by id (not by arrival order), work
 * spread to the least busy worker, errors and crashes failing exactly the messages they concern,
 * a crashed worker replaced on next use, and close failing what is pending.
 */
import assert from "node:assert/strict";
import { rememberKey, WorkerSlots } from "../../pipeline/serving/worker_slots.ts";

interface Reply {
  id: number;
  error?: string;
  value?: string;
  by?: string;
}

const slots = (size: number) =>
  new WorkerSlots<{ n: number }, Reply>(size, {
    url: new URL("./worker_slots_echo.ts", import.meta.url),
    name: "echo",
    state: () => ({ n: 0 }),
    label: "echo worker",
    closedMessage: "the echo pool was closed",
  });

function send(pool: WorkerSlots<{ n: number }, Reply>, message: Record<string, unknown>) {
  const slot = pool.leastBusy();
  return pool.post(slot, { id: pool.nextId(), ...message }, []);
}

Deno.test("answers go to their own message when they come back out of order, and work spreads to idle workers", async () => {
  const pool = slots(2);
  try {
    const slow = send(pool, { wait: 60, value: "slow" });
    const fast = send(pool, { wait: 0, value: "fast" });
    const third = send(pool, { wait: 0, value: "third" });
    const [a, b, c] = await Promise.all([slow, fast, third]);
    assert.deepEqual([a.value, b.value, c.value], ["slow", "fast", "third"]);
    // One message each to the two empty slots; the third goes to the one with fewer pending (a tie: the first).
    assert.deepEqual([a.by, b.by, c.by], ["echo-0", "echo-1", "echo-0"]);
  } finally {
    pool.close();
  }
});

Deno.test("an error answer rejects only its message, named by the pool's label", async () => {
  const pool = slots(1);
  try {
    const bad = send(pool, { wait: 0, value: "x", fail: true });
    const good = send(pool, { wait: 5, value: "y" });
    await assert.rejects(bad, { message: "echo worker: refused x" });
    assert.equal((await good).value, "y");
  } finally {
    pool.close();
  }
});

Deno.test("a crash fails the crashed worker's pending messages; the next message starts a fresh worker", async () => {
  const pool = slots(1);
  try {
    const first = pool.leastBusy();
    first.state.n = 7;
    const pending = send(pool, { wait: 50, value: "before" });
    const crash = send(pool, { wait: 0, value: "boom", crash: true });
    await assert.rejects(crash, /^Error: echo worker crashed: .*crashed on boom/);
    await assert.rejects(pending, /echo worker crashed/);
    const after = await send(pool, { wait: 0, value: "after" });
    assert.equal(after.value, "after");
    const fresh = pool.leastBusy();
    assert.notEqual(fresh.worker, first.worker);
    assert.equal(fresh.state.n, 0, "a fresh worker has fresh state");
  } finally {
    pool.close();
  }
});

Deno.test("close fails what is pending with the pool's message and says it is closed", async () => {
  const pool = slots(2);
  const pending = send(pool, { wait: 1_000, value: "never" });
  pool.close();
  assert.equal(pool.closed, true);
  await assert.rejects(pending, { message: "the echo pool was closed" });
  pool.warm(); // starts nothing once closed (the test's leak check would see a worker)
});

Deno.test("rememberKey: true the first time, then false; a third key forgets the oldest", () => {
  const keys = new Set<string>();
  assert.deepEqual(["a", "a", "b", "c", "a", "c"].map((k) => rememberKey(keys, k)), [
    true,
    false,
    true,
    true,
    true,
    false,
  ]);
  assert.deepEqual([...keys], ["c", "a"]);
});
