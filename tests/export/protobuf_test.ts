/**
 * The protobuf writer against the worked examples of the protocol-buffers encoding guide
 * (protobuf.dev/programming-guides/encoding) and hand-computed bytes.
 */

import assert from "node:assert/strict";
import { littleEndianBytes, ProtoWriter } from "../../pipeline/export/protobuf.ts";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
const bytesOf = (write: (w: ProtoWriter) => void) => {
  const w = new ProtoWriter();
  write(w);
  return hex(w.finish());
};

Deno.test("varints as the encoding guide writes them", () => {
  assert.equal(bytesOf((w) => w.varint(0)), "00");
  assert.equal(bytesOf((w) => w.varint(1)), "01");
  assert.equal(bytesOf((w) => w.varint(127)), "7f");
  assert.equal(bytesOf((w) => w.varint(128)), "80 01");
  assert.equal(bytesOf((w) => w.varint(150)), "96 01");
  assert.equal(bytesOf((w) => w.varint(300)), "ac 02");
  // 2^31 leaves the 32-bit fast path: 2^31 = 0b1000…0 (31 zeros) → 4 × 0x80, then 0x08.
  assert.equal(bytesOf((w) => w.varint(2 ** 31)), "80 80 80 80 08");
  // The largest safe integer, 2^53 − 1: seven full groups of seven ones, then 0b1111.
  assert.equal(bytesOf((w) => w.varint(Number.MAX_SAFE_INTEGER)), "ff ff ff ff ff ff ff 0f");
  assert.equal(bytesOf((w) => w.varint(2n ** 64n - 1n)), "ff ff ff ff ff ff ff ff ff 01");
});

Deno.test("a negative int64 is ten bytes of two's complement, as protobuf writes it", () => {
  assert.equal(bytesOf((w) => w.varint(-1)), "ff ff ff ff ff ff ff ff ff 01");
  assert.equal(bytesOf((w) => w.varint(-2n)), "fe ff ff ff ff ff ff ff ff 01");
  assert.equal(bytesOf((w) => w.varint(-(2n ** 63n))), "80 80 80 80 80 80 80 80 80 01");
});

Deno.test("out-of-range values are refused", () => {
  assert.throws(() => new ProtoWriter().varint(0.5), RangeError);
  assert.throws(() => new ProtoWriter().varint(2 ** 53), RangeError);
  assert.throws(() => new ProtoWriter().varint(2n ** 64n), RangeError);
  assert.throws(() => new ProtoWriter().varint(-(2n ** 63n) - 1n), RangeError);
  assert.throws(() => new ProtoWriter().tag(0, 0), RangeError);
  assert.throws(() => new ProtoWriter().tag(2 ** 29, 0), RangeError);
});

Deno.test('the guide\'s messages: Test1.a = 150, Test2.b = "testing", Test3.c = Test1, packed Test4.d', () => {
  assert.equal(bytesOf((w) => w.int(1, 150)), "08 96 01");
  assert.equal(bytesOf((w) => w.string(2, "testing")), "12 07 74 65 73 74 69 6e 67");
  assert.equal(bytesOf((w) => w.message(3, (c) => c.int(1, 150))), "1a 03 08 96 01");
  assert.equal(bytesOf((w) => w.packedVarints(4, [3, 270, 86942])), "22 06 03 8e 02 9e a7 05");
  assert.equal(bytesOf((w) => w.packedVarints(4, [])), "");
});

Deno.test("fixed-width numbers are little-endian IEEE 754", () => {
  // 1.0 = 0x3ff0000000000000; field 1, wire type 1 → key 0x09.
  assert.equal(bytesOf((w) => w.double(1, 1)), "09 00 00 00 00 00 00 f0 3f");
  // −2.5 as float = 0xc0200000; field 2, wire type 5 → key 0x15.
  assert.equal(bytesOf((w) => w.float(2, -2.5)), "15 00 00 20 c0");
  // 0.1 is not a float: it rounds to 0x3dcccccd.
  assert.equal(bytesOf((w) => w.float(1, 0.1)), "0d cd cc cc 3d");
  assert.equal(
    bytesOf((w) => w.packedDoubles(3, [1, -2])),
    "1a 10 00 00 00 00 00 00 f0 3f 00 00 00 00 00 00 00 c0",
  );
  assert.equal(bytesOf((w) => w.packedFloats(3, [1])), "1a 04 00 00 80 3f");
  assert.equal(hex(littleEndianBytes(new BigInt64Array([-1n]))), "ff ff ff ff ff ff ff ff");
});

Deno.test("UTF-8 strings and large messages grow the buffer", () => {
  assert.equal(bytesOf((w) => w.string(1, "é")), "0a 02 c3 a9");
  const w = new ProtoWriter();
  const big = new Uint8Array(100_000).fill(7);
  w.bytes(1, big);
  const out = w.finish();
  // key, then 100,000 as a varint (a0 8d 06), then the bytes.
  assert.equal(hex(out.subarray(0, 4)), "0a a0 8d 06");
  assert.equal(out.length, 4 + 100_000);
  assert.equal(out[out.length - 1], 7);
});
