/**
 * A small WebAssembly assembler for the explainer's kernel (explain_wasm.ts): expressions are
 * byte arrays in stack order, built by nesting calls, so `set(x, fmul(fload(get(a)), f64(2)))`
 * reads like the code it assembles. Only the opcodes the kernel uses; 128-bit SIMD for pairs of
 * doubles.
 * @module
 */

import { name, sleb, uleb } from "./wasm_binary.ts";

/** Bytes of an expression or of a sequence of statements. */
export type Code = number[];

/** Value types. */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

/** A function being assembled: its parameter and local types; locals are numbered after the parameters. */
export class Func {
  readonly locals: number[] = [];
  constructor(readonly params: readonly number[]) {}
  /** A new local of `type`; returns its index. */
  local(type: number): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }
}

// Concatenation by Array.prototype.concat, not spreads: the kernel is a few tens of kilobytes of
// nested expressions, assembled when a model loads, and spreads made that several times slower.
const seq = (...parts: Code[]): Code => ([] as number[]).concat(...parts);
const binary = (opcode: number) => (a: Code, b: Code): Code => a.concat(b, opcode);
const simd = (opcode: number): number[] => [0xfd].concat(uleb(opcode));
const simdBinary = (opcode: number) => (a: Code, b: Code): Code => a.concat(b, simd(opcode));

/** Constants, locals and globals. */
export const i32 = (v: number): Code => [0x41].concat(sleb(v | 0));
export const f64 = (v: number): Code => [0x44].concat(Array.from(new Uint8Array(Float64Array.of(v).buffer)));
export const get = (local: number): Code => [0x20].concat(uleb(local));
export const set = (local: number, value: Code): Code => value.concat(0x21, uleb(local));
export const gget = (global: number): Code => [0x23].concat(uleb(global));
export const gset = (global: number, value: Code): Code => value.concat(0x24, uleb(global));

/** Memory, at byte address `address` + `offset`. */
export const load = (address: Code, offset = 0): Code => address.concat(0x28, 2, uleb(offset));
export const store = (address: Code, value: Code, offset = 0): Code =>
  address.concat(value, 0x36, 2, uleb(offset));
export const fload = (address: Code, offset = 0): Code => address.concat(0x2b, 3, uleb(offset));
export const fstore = (address: Code, value: Code, offset = 0): Code =>
  address.concat(value, 0x39, 3, uleb(offset));
export const vload = (address: Code, offset = 0): Code => address.concat(simd(0), 3, uleb(offset));
export const vstore = (address: Code, value: Code, offset = 0): Code =>
  address.concat(value, simd(11), 3, uleb(offset));

/** i32 arithmetic and comparisons (signed). */
export const add = binary(0x6a);
export const sub = binary(0x6b);
export const mul = binary(0x6c);
export const and = binary(0x71);
export const or = binary(0x72);
export const xor = binary(0x73);
export const shl = binary(0x74);
export const eq = binary(0x46);
export const ne = binary(0x47);
export const lt = binary(0x48);
export const ge = binary(0x4e);
export const eqz = (a: Code): Code => a.concat(0x45);
export const ctz = (a: Code): Code => a.concat(0x68);
export const popcnt = (a: Code): Code => a.concat(0x69);

/** f64 arithmetic and comparisons. */
export const fadd = binary(0xa0);
export const fsub = binary(0xa1);
export const fmul = binary(0xa2);
export const fne = binary(0x62);
export const fle = binary(0x65);

/** Pairs of f64 (f64x2). */
export const splat = (a: Code): Code => a.concat(simd(20));
export const vadd = simdBinary(240);
export const vsub = simdBinary(241);
export const vmul = simdBinary(242);
export const vdiv = simdBinary(243);
export const vor = simdBinary(80);
/** 1 if any bit of the vector is set (so −0 counts as set), else 0. */
export const anyTrue = (a: Code): Code => a.concat(simd(83));
/** The sum of a pair's two lanes (the pair is read from `local` twice). */
export const lanes = (local: number): Code => get(local).concat(simd(33), 0, get(local), simd(33), 1, 0xa0);

/** Control. Branch depths count the enclosing blocks, loops and ifs from the inside out. */
export const block = (...body: Code[]): Code => [0x02, 0x40].concat(seq(...body), 0x0b);
export const loop = (...body: Code[]): Code => [0x03, 0x40].concat(seq(...body), 0x0b);
export const br = (depth: number): Code => [0x0c].concat(uleb(depth));
export const brIf = (depth: number, condition: Code): Code => condition.concat(0x0d, uleb(depth));
export const when = (
  condition: Code,
  ...body: Code[]
): Code => condition.concat(0x04, 0x40, seq(...body), 0x0b);
export const ifElse = (condition: Code, then: Code[], otherwise: Code[]): Code =>
  condition.concat(0x04, 0x40, seq(...then), 0x05, seq(...otherwise), 0x0b);
/** An f64 chosen by `condition`. */
export const choose = (condition: Code, then: Code, otherwise: Code): Code =>
  condition.concat(0x04, F64, then, 0x05, otherwise, 0x0b);
export const ret: Code = [0x0f];
export const call = (index: number, ...args: Code[]): Code => seq(...args).concat(0x10, uleb(index));

/** `while (condition) body` (inside `body`, depth 0 continues and 1 breaks). */
export const whileLoop = (condition: Code, ...body: Code[]): Code =>
  block(loop(brIf(1, eqz(condition)), ...body, br(0)));

/**
 * Every subset U of `mask` (a local), largest first down to the empty set: body runs with U set;
 * inside it, depth 0 is the loop and 1 leaves it.
 */
export const forSubsets = (u: number, mask: Code, ...body: Code[]): Code =>
  seq(
    set(u, mask),
    block(loop(...body, brIf(1, eqz(get(u))), set(u, and(sub(get(u), i32(1)), mask)), br(0))),
  );

/** Every set bit of `bits` (an expression): body runs with `bit` set to the lowest remaining one. */
export const forBits = (rest: number, bit: number, bits: Code, ...body: Code[]): Code =>
  seq(
    set(rest, bits),
    whileLoop(
      get(rest),
      set(bit, and(get(rest), sub(i32(0), get(rest)))),
      ...body,
      set(rest, xor(get(rest), get(bit))),
    ),
  );

/** `for (i = 0; i < end; i += 16)`: over the pairs of a K-vector, `end` its byte length. */
export const forPairs = (i: number, end: Code, ...body: Code[]): Code =>
  seq(set(i, i32(0)), whileLoop(lt(get(i), end), ...body, set(i, add(get(i), i32(16)))));

/** A module of `funcs` (all `(i32…) → ()`), importing `env.memory`, with mutable i32 globals. */
export function assemble(
  funcs: readonly { func: Func; body: Code }[],
  nGlobals: number,
  exported: string,
): Uint8Array<ArrayBuffer> {
  const types = [...new Set(funcs.map(({ func }) => func.params.join(",")))];
  const typeSection = [
    ...uleb(types.length),
    ...types.flatMap((t) => {
      const params = t === "" ? [] : t.split(",").map(Number);
      return [0x60, ...uleb(params.length), ...params, 0];
    }),
  ];
  const functionSection = [
    ...uleb(funcs.length),
    ...funcs.flatMap(({ func }) => uleb(types.indexOf(func.params.join(",")))),
  ];
  const globalSection = [
    ...uleb(nGlobals),
    ...Array.from({ length: nGlobals }, () => [I32, 1, 0x41, 0, 0x0b]).flat(),
  ];
  const codeSection = uleb(funcs.length).concat(
    ...funcs.map(({ func, body }) => {
      const locals = func.locals.flatMap((type) => [1, type]);
      const code = uleb(func.locals.length).concat(locals, body, 0x0b);
      return uleb(code.length).concat(code);
    }),
  );
  const section = (id: number, body: number[]) => [id].concat(uleb(body.length), body);
  return new Uint8Array(
    [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00].concat(
      section(1, typeSection),
      section(2, [1].concat(name("env"), name("memory"), 0x02, 0x00, 0x01)),
      section(3, functionSection),
      section(6, globalSection),
      section(7, [1].concat(name(exported), 0x00, 0)),
      section(10, codeSection),
    ),
  );
}
