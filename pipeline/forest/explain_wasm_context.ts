/**
 * What the WebAssembly kernel's parts share (explain_wasm.ts assembles them): the memory layout,
 * the numbering of functions and globals, and the code helpers bound to a layout and a number of
 * point pairs P, with which every K-vector operation is unrolled into P instructions on constant
 * offsets.
 * @module
 */

import {
  add,
  type Code,
  f64,
  fadd,
  fload,
  fstore,
  Func,
  get,
  i32,
  ifElse,
  load,
  lt,
  mul,
  set,
  shl,
  splat,
  vadd,
  vload,
  vstore,
} from "./explain_assembler.ts";

export const NODE_BYTES = 24;
export const COLUMN_BYTES = 16;
export const TREE_BYTES = 16;

// Functions: explain (exported) first, then FUNCTIONS_PER_P for each number of point pairs, in this order.
export const VISIT = 0,
  CONSTANT = 1,
  SIMPLE_SPLIT = 2,
  BLOCK_SPLIT = 3,
  CONTRADICT = 4,
  ENTANGLE = 5,
  END_JOINED = 6;
export const SET_STATE = 7, SHARES = 8, CLEAR = 9;
export const FUNCTIONS_PER_P = 10;
// Globals: the current tree's table addresses, and the dead tied players.
export const G_T = 0,
  G_WEIGHT = 1,
  G_ONE_MINUS_T = 2,
  G_WEIGHT_OVER = 3,
  G_BERNSTEIN = 4,
  G_MOMENTS = 5,
  G_DEAD = 6;
export const N_GLOBALS = 7;

/** Byte addresses of the regions, and the sizes the kernel's code depends on. */
export interface Layout {
  /** Bytes per K-vector slot. */
  vb: number;
  /** Tied players (bits of a block). */
  nBits: number;
  /** First block-state slot used for entangling. */
  entangleSlots: number;
  nodes: number;
  columns: number;
  trees: number;
  tables: number;
  tableBytes: number;
  row: number;
  g: number;
  s: number;
  free: number;
  inverse: number;
  entangledG: number;
  h: number;
  hAtPoints: number;
  /** Per block-state slot, (nBits + 1)² sums of h by subset size: over all subsets, then per tied player those holding it. */
  sums: number;
  tied: number;
  bySize: number;
  moments: number;
  failed: number;
  failedUnit: number;
  zero: number;
  factorInverse: number;
  tiedPlayers: number;
  phi: number;
  ones: number;
  bytes: number;
}

/** A function: its parameter types and, given the function (for its locals), its code. */
export function fn(params: number[], build: (f: Func) => Code[]): { func: Func; body: Code } {
  const func = new Func(params);
  return { func, body: build(func).flat() };
}

/** Code helpers for `L` with P pairs of points, the functions of this P numbered from `first`. */
export function kernelContext(L: Layout, P: number, first: number) {
  const VB = L.vb;
  const zero = splat(f64(0));
  const one = splat(f64(1));
  /** The code of `body(o)` for each pair's byte offset o. */
  const unroll = (body: (o: number) => Code | Code[]): Code =>
    Array.from({ length: P }, (_, j) => [body(16 * j)].flat(2) as Code).flat();
  return {
    VB,
    P,
    H_SHIFT: L.nBits + 3,
    zero,
    one,
    unroll,
    /** The index of function `f` (VISIT … CLEAR) for this P. */
    index: (f: number) => first + f,
    /** acc = Σ over the pairs of `term(o)` (an f64x2; `lanes` sums it). */
    dot: (acc: number, term: (o: number) => Code): Code[] => [
      set(acc, zero),
      unroll((o) => set(acc, vadd(get(acc), term(o)))),
    ],
    tiedOf: (slot: Code) => load(shl(slot, i32(2)), L.tied),
    // Children in address order (preorder: the left one first), so the walk reads the nodes forward.
    leftFirst: (hot: number, cold: number, hotCode: Code, coldCode: Code) =>
      ifElse(lt(get(hot), get(cold)), [hotCode, coldCode], [coldCode, hotCode]),
    seq: (...parts: Code[]): Code => parts.flat(),
    addToPhi: (p: Code, value: Code) =>
      fstore(shl(p, i32(3)), fadd(fload(shl(p, i32(3)), L.phi), value), L.phi),
    /** Slot offset of a split's hot child (the cold child's is VB further). */
    childAt: (level: number) => mul(add(mul(get(level), i32(2)), i32(2)), i32(VB)),
    copy: (to: number, toRegion: number, from: number, fromRegion: number) =>
      unroll((o) => vstore(get(to), vload(get(from), fromRegion + o), toRegion + o)),
    sumChildren: (slot: number, hotAt: number, region: number) =>
      unroll((o) =>
        vstore(get(slot), vadd(vload(get(hotAt), region + o), vload(get(hotAt), region + VB + o)), region + o)
      ),
  };
}

/** The helpers of {@link kernelContext}. */
export type KernelContext = ReturnType<typeof kernelContext>;
