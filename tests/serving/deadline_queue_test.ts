import assert from "node:assert/strict";
import { DeadlineQueue } from "../../pipeline/serving/deadline_queue.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Catches a cancelled deadline that still fires, a live one lost behind a cancelled head, and
// deadlines fired out of the order they were started.
Deno.test("uncancelled deadlines expire once each, in start order; cancelled ones never", async () => {
  const queue = new DeadlineQueue(10);
  const fired: string[] = [];
  const a = queue.start(() => fired.push("a"));
  queue.start(() => fired.push("b"));
  const c = queue.start(() => fired.push("c"));
  queue.start(() => fired.push("d"));
  a.cancel();
  c.cancel();
  await sleep(60);
  assert.deepEqual(fired, ["b", "d"]);
  assert.equal(queue.pending, 0);
  // The queue restarts its timer for deadlines started after it went idle.
  queue.start(() => fired.push("e"));
  await sleep(60);
  assert.deepEqual(fired, ["b", "d", "e"]);
  queue.close();
});

// Catches a timer that fires every deadline at its first wake-up instead of each at its own time.
Deno.test("a deadline expires only when its own time has come on the queue's clock", async () => {
  let now = 0;
  const queue = new DeadlineQueue(10, () => now);
  const fired: string[] = [];
  queue.start(() => fired.push("early"));
  now = 5;
  queue.start(() => fired.push("late")); // due at 15 on the clock
  now = 12; // the timer wakes: only "early" (due at 10) is over
  await sleep(40);
  assert.deepEqual(fired, ["early"]);
  now = 15;
  await sleep(40);
  assert.deepEqual(fired, ["early", "late"]);
  queue.close();
});

// Catches the sweep of cancelled entries dropping a live one (a stalled body never answered 408).
Deno.test("thousands of cancelled deadlines are swept out; the live ones among them still expire", async () => {
  const queue = new DeadlineQueue(20);
  const fired: number[] = [];
  for (let i = 0; i < 5000; i++) {
    const deadline = queue.start(() => fired.push(i));
    if (i % 1000 !== 7) deadline.cancel();
  }
  assert.equal(queue.pending, 5);
  await sleep(80);
  assert.deepEqual(fired, [7, 1007, 2007, 3007, 4007]);
  queue.close();
});

// Catches a shutdown that leaves the timer running (and a deadline firing into a closed server).
Deno.test("after close nothing expires", async () => {
  const queue = new DeadlineQueue(10);
  let fired = false;
  queue.start(() => fired = true);
  queue.close();
  await sleep(40);
  assert.equal(fired, false);
});
