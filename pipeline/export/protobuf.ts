/**
 * A small protocol-buffers writer: varints, fixed 32/64-bit numbers, length-delimited bytes and
 * nested messages, and packed repeated numbers. Enough to write ONNX's messages; it knows nothing
 * about ONNX. Messages are built bottom-up (a nested message is finished, then framed with its
 * length), so the writer never needs to patch a length after the fact.
 * @module
 */

/** Protocol-buffers wire types. */
export const WireType = { VARINT: 0, FIXED64: 1, LENGTH_DELIMITED: 2, FIXED32: 5 } as const;

const textEncoder = new TextEncoder();
const TWO_POW_64 = 1n << 64n;

/** Accumulates one message's bytes. */
export class ProtoWriter {
  #bytes = new Uint8Array(256);
  #length = 0;
  readonly #scratch = new DataView(new ArrayBuffer(8));

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** The message's bytes (a copy). */
  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  /**
   * An unsigned or two's-complement varint: a negative int64 takes ten bytes, as protobuf writes
   * it. Accepts safe integers and bigints within the 64-bit range.
   */
  varint(value: number | bigint): this {
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) throw new RangeError(`varint needs a safe integer, got ${value}`);
      if (value >= 0 && value < 0x80000000) {
        // The common case, kept on 32-bit integer arithmetic.
        let v = value;
        this.#reserve(5);
        while (v >= 0x80) {
          this.#bytes[this.#length++] = (v & 0x7f) | 0x80;
          v >>>= 7;
        }
        this.#bytes[this.#length++] = v;
        return this;
      }
      value = BigInt(value);
    }
    if (value < -(1n << 63n) || value >= TWO_POW_64) throw new RangeError(`varint ${value} exceeds 64 bits`);
    let v = value < 0n ? value + TWO_POW_64 : value;
    this.#reserve(10);
    while (v >= 0x80n) {
      this.#bytes[this.#length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#bytes[this.#length++] = Number(v);
    return this;
  }

  /** A field's key: its number and wire type. */
  tag(field: number, wireType: number): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) {
      throw new RangeError(`field number ${field} is out of range`);
    }
    return this.varint(field * 8 + wireType);
  }

  /** An int32/int64/uint64/enum/bool field. */
  int(field: number, value: number | bigint): this {
    return this.tag(field, WireType.VARINT).varint(value);
  }

  /** A `double` field (fixed 64-bit, little-endian). */
  double(field: number, value: number): this {
    this.tag(field, WireType.FIXED64);
    this.#scratch.setFloat64(0, value, true);
    return this.raw(new Uint8Array(this.#scratch.buffer, 0, 8));
  }

  /** A `float` field (fixed 32-bit, little-endian; the value is rounded to single precision). */
  float(field: number, value: number): this {
    this.tag(field, WireType.FIXED32);
    this.#scratch.setFloat32(0, value, true);
    return this.raw(new Uint8Array(this.#scratch.buffer, 0, 4));
  }

  /** A `bytes` field. */
  bytes(field: number, value: Uint8Array): this {
    return this.tag(field, WireType.LENGTH_DELIMITED).varint(value.length).raw(value);
  }

  /** A `string` field, UTF-8 encoded. */
  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  /** A nested message field, written by `write` into its own writer and then framed. */
  message(field: number, write: (writer: ProtoWriter) => void): this {
    const nested = new ProtoWriter();
    write(nested);
    return this.tag(field, WireType.LENGTH_DELIMITED).varint(nested.#length).raw(
      nested.#bytes.subarray(0, nested.#length),
    );
  }

  /** A packed repeated varint field (`[packed = true]` int32/int64); nothing when empty. */
  packedVarints(field: number, values: ArrayLike<number | bigint>): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (let i = 0; i < values.length; i++) inner.varint(values[i]);
    return this.bytes(field, inner.#bytes.subarray(0, inner.#length));
  }

  /** A packed repeated `double` field; nothing when empty. */
  packedDoubles(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    return this.bytes(field, littleEndianBytes(Float64Array.from(values)));
  }

  /** A packed repeated `float` field; nothing when empty. */
  packedFloats(field: number, values: ArrayLike<number>): this {
    if (values.length === 0) return this;
    return this.bytes(field, littleEndianBytes(Float32Array.from(values)));
  }

  /** Bytes appended as they are (already encoded). */
  raw(bytes: Uint8Array): this {
    this.#reserve(bytes.length);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.length;
    return this;
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.length) return;
    let capacity = this.#bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array in little-endian order (protobuf's and ONNX's raw_data order). */
export function littleEndianBytes(
  array: Float64Array | Float32Array | BigInt64Array | Uint8Array,
): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (littleEndian || array.BYTES_PER_ELEMENT === 1) return bytes.slice();
  const out = new Uint8Array(bytes.length);
  const width = array.BYTES_PER_ELEMENT;
  for (let i = 0; i < bytes.length; i += width) {
    for (let b = 0; b < width; b++) out[i + b] = bytes[i + width - 1 - b];
  }
  return out;
}
