/**
 * LEB128 integers as WebAssembly's binary format writes them: indices, sizes and immediates. Shared
 * by the packed predictor's module (`wasm.ts`) and the explainer's assembler.
 * @module
 */

/** Unsigned LEB128 bytes of a non-negative 32-bit integer. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 bytes of a 32-bit integer. */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
