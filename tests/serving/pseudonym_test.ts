/**
 * The trail's own HMAC-SHA-256 against `node:crypto`'s: random keys (short, 64 bytes, longer than a
 * block) and ids (empty, ASCII, non-ASCII, and lengths around the 55/64-byte padding edges).
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { PSEUDONYM_PREFIX, Pseudonymiser } from "../../pipeline/serving/audit/pseudonym.ts";

function expected(key: string, id: string): string {
  return PSEUDONYM_PREFIX +
    createHmac("sha256", new TextEncoder().encode(key)).update(id, "utf8").digest("hex")
      .slice(0, 32);
}

Deno.test("pseudonyms are HMAC-SHA-256 as node:crypto computes it, for every key and id length", () => {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const alphabet = 'abcXYZ019-_,"é€😀 ';
  const text = (n: number) =>
    Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
  const keys = ["k", "a-secret-key", "x".repeat(64), text(63), text(65), "y".repeat(200)];
  for (const key of keys) {
    const pseudonyms = new Pseudonymiser(key);
    const ids = ["", "r1", "applicant-7", "é", "😀", ...Array.from({ length: 130 }, (_, n) => "i".repeat(n))];
    for (let k = 0; k < 40; k++) ids.push(text(Math.floor(next() * 150)));
    for (const id of ids) {
      assert.equal(pseudonyms.pseudonym(id), expected(key, id), `key ${key.length}, id ${id}`);
    }
  }
});

Deno.test("without a key, pseudonyms are stable within the process and differ between keys", () => {
  const a = new Pseudonymiser();
  const b = new Pseudonymiser();
  assert.ok(a.ephemeral);
  assert.equal(a.pseudonym("r1"), a.pseudonym("r1"));
  assert.notEqual(a.pseudonym("r1"), b.pseudonym("r1"));
});
