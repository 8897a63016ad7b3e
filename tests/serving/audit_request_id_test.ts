/**
 * The server's request ids (audit/request_id.ts): RFC 9562 UUIDv7s whose order is the order of
 * their times, so the audit trail's index on them grows at one end.
 */
import assert from "node:assert/strict";
import { timeOrderedUuid } from "../../pipeline/serving/audit/request_id.ts";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("a request id is a UUIDv7 whose first 48 bits are its time in ms", () => {
  for (const now of [0, 1, 1_764_388_800_123, 2 ** 48 - 1, Date.now()]) {
    const id = timeOrderedUuid(now);
    assert.match(id, V7);
    assert.equal(parseInt(id.replaceAll("-", "").slice(0, 12), 16), now, id);
  }
  assert.match(timeOrderedUuid(), V7);
});

Deno.test("request ids sort as their times do (to the ms), and do not repeat", () => {
  // Times drawn at random: sorting the ids as strings must order their times, as an index does.
  const times = Array.from({ length: 5_000 }, () => Math.floor(Math.random() * 2 ** 44));
  const ids = times.map((t) => ({ t, id: timeOrderedUuid(t) }));
  const byId = [...ids].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((x) => x.t);
  assert.deepEqual(byId, [...times].sort((a, b) => a - b));
  // 100,000 ids in the same millisecond: the random part keeps them apart.
  const same = new Set(Array.from({ length: 100_000 }, () => timeOrderedUuid(1_764_388_800_000)));
  assert.equal(same.size, 100_000);
});
