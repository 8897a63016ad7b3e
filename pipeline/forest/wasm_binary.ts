/**
 * What the forest's WebAssembly assemblers share: LEB128 integers and names as the binary format
 * writes them (as arrays, or in place into a buffer sized in advance), the memory layout's
 * alignment, and whether the host has 128-bit SIMD. Used by the packed predictor's walk
 * (`wasm.ts`), QuickScorer (`quickscorer.ts`) and the explainer's assembler.
 * @module
 */

/** Writes `n` (a non-negative 32-bit integer) as unsigned LEB128 at `at`; returns the next position. */
export function writeUleb(out: Uint8Array, at: number, n: number): number {
  do {
    const low = n & 0x7f;
    n >>>= 7;
    out[at++] = n === 0 ? low : low | 0x80;
  } while (n !== 0);
  return at;
}

/** Writes `n` (a 32-bit integer) as signed LEB128 at `at`; returns the next position. */
export function writeSleb(out: Uint8Array, at: number, n: number): number {
  for (;;) {
    const low = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (low & 0x40) === 0) || (n === -1 && (low & 0x40) !== 0)) {
      out[at++] = low;
      return at;
    }
    out[at++] = low | 0x80;
  }
}

/** Writes `size` as a 5-byte LEB128 (padded, which WebAssembly accepts) at `at`, for sizes known only after. */
export function writePaddedUleb(out: Uint8Array, at: number, size: number): void {
  for (let i = 0; i < 5; i++) {
    out[at + i] = (size & 0x7f) | (i < 4 ? 0x80 : 0);
    size >>>= 7;
  }
}

/** Room for any 32-bit LEB128. */
const scratch = new Uint8Array(5);

/** Unsigned LEB128 bytes of a non-negative 32-bit integer. */
export function uleb(n: number): number[] {
  return Array.from(scratch.subarray(0, writeUleb(scratch, 0, n)));
}

/** Signed LEB128 bytes of a 32-bit integer. */
export function sleb(n: number): number[] {
  return Array.from(scratch.subarray(0, writeSleb(scratch, 0, n)));
}

/** A name (ASCII) as the binary format writes it: its length, then its bytes. */
export function name(text: string): number[] {
  return uleb(text.length).concat(Array.from(text, (c) => c.charCodeAt(0)));
}

/** `bytes` rounded up to a 64-byte cache line. */
export function alignToLine(bytes: number): number {
  return (bytes + 63) & ~63;
}

let simd: boolean | undefined;

/** Whether this runtime compiles WebAssembly SIMD (checked once, on a module of one `i32x4.splat`). */
export function simdAvailable(): boolean {
  // (module (func (result v128) i32.const 0 i32x4.splat))
  simd ??= typeof WebAssembly === "object" && WebAssembly.validate(
    Uint8Array.of(
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version
      ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type: () -> v128
      ...[0x03, 0x02, 0x01, 0x00], // one function of type 0
      ...[0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b], // its code
    ),
  );
  return simd;
}
