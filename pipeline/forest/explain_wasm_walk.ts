/**
 * The WebAssembly kernel's walk (explain_wasm.ts): visiting a node, and the splits whose children
 * share the parent's block state (a constant factor, or a player not tied in a block); the
 * TypeScript twins are the methods of the same names in explain_typescript.ts.
 * @module
 */

import {
  add,
  and,
  call,
  choose,
  type Code,
  eq,
  eqz,
  F64,
  f64,
  fle,
  fload,
  fmul,
  fne,
  fstore,
  fsub,
  Func,
  ge,
  get,
  gget,
  gset,
  I32,
  i32,
  ifElse,
  lanes,
  load,
  lt,
  mul,
  ne,
  or,
  ret,
  set,
  shl,
  splat,
  store,
  V128,
  vadd,
  vdiv,
  vload,
  vmul,
  vstore,
  when,
} from "./explain_assembler.ts";
import { MULTI, SIMPLE, SINGLE } from "./explain_plan.ts";

import {
  BLOCK_SPLIT,
  CLEAR,
  CONSTANT,
  fn,
  G_DEAD,
  G_T,
  G_WEIGHT,
  kernelContext,
  type Layout,
  NODE_BYTES,
  SIMPLE_SPLIT,
  VISIT,
} from "./explain_wasm_context.ts";

/** VISIT, CONSTANT, SIMPLE_SPLIT and CLEAR for P pairs of points, the functions numbered from `first`. */
export function walkFunctions(L: Layout, P: number, first: number) {
  const { VB, zero, one, unroll, index, tiedOf, leftFirst, addToPhi, childAt, sumChildren } = kernelContext(
    L,
    P,
    first,
  );

  const visit = fn([I32, I32, I32, I32], (f) => {
    const [node, level, side, state] = [0, 1, 2, 3];
    const [slot, right, column, col, hot, cold, kind, p, mask, u, hb] = Array.from(
      { length: 11 },
      () => f.local(I32),
    );
    const v = f.local(V128), x = f.local(V128);
    return [
      set(slot, mul(add(mul(get(level), i32(2)), get(side)), i32(VB))),
      set(right, load(get(node), 16)),
      when(
        lt(get(right), i32(0)),
        set(v, splat(fload(get(node), 0))),
        ifElse(eqz(tiedOf(get(state))), [
          unroll((o) => vstore(get(slot), vmul(get(v), vload(get(slot), L.g + o)), L.s + o)),
        ], [
          set(hb, mul(get(state), i32(VB))),
          unroll((o) => [
            set(x, vmul(get(v), vload(get(slot), L.g + o))),
            vstore(get(slot), get(x), L.free + o),
            vstore(get(slot), vmul(get(x), vload(get(hb), L.hAtPoints + o)), L.s + o),
          ]),
        ]),
        ret,
      ),
      set(column, load(get(node), 20)),
      set(col, shl(get(column), i32(4))),
      ifElse(fle(fload(shl(get(column), i32(3)), L.row), fload(get(node), 0)), [
        set(hot, add(get(node), i32(NODE_BYTES))),
        set(cold, get(right)),
      ], [set(hot, get(right)), set(cold, add(get(node), i32(NODE_BYTES)))]),
      set(kind, load(get(col), L.columns)),
      set(p, load(get(col), L.columns + 4)),
      set(mask, load(get(col), L.columns + 12)),
      when(
        eq(get(kind), i32(SIMPLE)),
        when(
          eqz(load(shl(get(p), i32(2)), L.failed)),
          call(index(SIMPLE_SPLIT), get(p), i32(-1), get(hot), get(cold), get(level), get(slot), get(state)),
          ret,
        ),
      ),
      when(
        eq(get(kind), i32(SINGLE)),
        when(
          and(tiedOf(get(state)), get(mask)),
          call(
            index(BLOCK_SPLIT),
            get(mask),
            i32(-1),
            get(hot),
            get(cold),
            get(level),
            get(slot),
            get(state),
          ),
          ret,
        ),
        when(
          eqz(load(shl(get(p), i32(2)), L.failed)),
          call(
            index(SIMPLE_SPLIT),
            get(p),
            load(get(col), L.columns + 8),
            get(hot),
            get(cold),
            get(level),
            get(slot),
            get(state),
          ),
          ret,
        ),
      ),
      when(
        eq(get(kind), i32(MULTI)),
        set(u, load(get(col), L.columns + 8)),
        when(
          eqz(or(load(shl(get(u), i32(2)), L.failedUnit), and(get(mask), gget(G_DEAD)))),
          call(index(BLOCK_SPLIT), get(mask), get(u), get(hot), get(cold), get(level), get(slot), get(state)),
          ret,
        ),
      ),
      call(index(CONSTANT), get(hot), get(cold), get(level), get(slot), get(state)),
    ];
  });

  // Child slots of a split, whether S free is kept, and leaf children's values (0 unless a leaf,
  // whose S, and S free under a block state, the split writes itself).
  const children = (f: Func, level: number, state: number, hot: number, cold: number) => {
    const [hotAt, withFree, hotLeaf, coldLeaf, hAt] = Array.from({ length: 5 }, () => f.local(I32));
    const hotValue = f.local(V128), coldValue = f.local(V128), y = f.local(V128);
    const code = [
      set(hotAt, childAt(level)),
      set(withFree, ne(tiedOf(get(state)), i32(0))),
      set(hAt, mul(get(state), i32(VB))),
      set(hotLeaf, lt(load(get(hot), 16), i32(0))),
      set(coldLeaf, lt(load(get(cold), 16), i32(0))),
      set(hotValue, splat(choose(get(hotLeaf), fload(get(hot), 0), f64(0)))),
      set(coldValue, splat(choose(get(coldLeaf), fload(get(cold), 0), f64(0)))),
    ];
    /** The leaf children's S (and S free) at pair offset o, from their G. */
    const leaves = (free: boolean, gHot: number, gCold: number, o: number): Code[] =>
      free
        ? [
          set(y, vmul(get(gHot), get(hotValue))),
          vstore(get(hotAt), get(y), L.free + o),
          vstore(get(hotAt), vmul(get(y), vload(get(hAt), L.hAtPoints + o)), L.s + o),
          set(y, vmul(get(gCold), get(coldValue))),
          vstore(get(hotAt), get(y), L.free + VB + o),
          vstore(get(hotAt), vmul(get(y), vload(get(hAt), L.hAtPoints + o)), L.s + VB + o),
        ]
        : [
          vstore(get(hotAt), vmul(get(gHot), get(hotValue)), L.s + o),
          vstore(get(hotAt), vmul(get(gCold), get(coldValue)), L.s + VB + o),
        ];
    return { hotAt, withFree, hotLeaf, coldLeaf, code, leaves };
  };
  const visitChild = (
    c: ReturnType<typeof children>,
    leaf: number,
    ratio: Code,
    visitCode: Code[],
    at: Code,
  ) => when(eqz(get(leaf)), ifElse(fne(ratio, f64(0)), visitCode, [call(index(CLEAR), at, get(c.withFree))]));

  const constant = fn([I32, I32, I32, I32, I32], (f) => {
    const [hot, cold, level, slot, state] = [0, 1, 2, 3, 4];
    const c = children(f, level, state, hot, cold);
    const [hotRatio, coldRatio] = [f.local(F64), f.local(F64)];
    const [x, gHot, gCold, rh, rc] = Array.from({ length: 5 }, () => f.local(V128));
    return [
      ...c.code,
      set(hotRatio, fload(get(hot), 8)),
      set(coldRatio, fload(get(cold), 8)),
      set(rh, splat(get(hotRatio))),
      set(rc, splat(get(coldRatio))),
      [true, false].map((free) =>
        unroll((o) => [
          set(x, vload(get(slot), L.g + o)),
          set(gHot, vmul(get(x), get(rh))),
          set(gCold, vmul(get(x), get(rc))),
          vstore(get(c.hotAt), get(gHot), L.g + o),
          vstore(get(c.hotAt), get(gCold), L.g + VB + o),
          ...c.leaves(free, gHot, gCold, o),
        ])
      ).reduce((withFree, plain) => ifElse(get(c.withFree), [withFree], [plain])),
      leftFirst(
        hot,
        cold,
        visitChild(c, c.hotLeaf, get(hotRatio), [
          call(index(VISIT), get(hot), add(get(level), i32(1)), i32(0), get(state)),
        ], get(c.hotAt)),
        visitChild(c, c.coldLeaf, get(coldRatio), [
          call(index(VISIT), get(cold), add(get(level), i32(1)), i32(1), get(state)),
        ], add(get(c.hotAt), i32(VB))),
      ),
      sumChildren(slot, c.hotAt, L.s),
      when(get(c.withFree), sumChildren(slot, c.hotAt, L.free)),
    ];
  });

  const simple = fn([I32, I32, I32, I32, I32, I32, I32], (f) => {
    const [p, b, hot, cold, level, slot, state] = [0, 1, 2, 3, 4, 5, 6];
    const c = children(f, level, state, hot, cold);
    const [zeroBefore, hotZero, coldZero] = Array.from({ length: 3 }, () => f.local(F64));
    const [previous, hotInverse, dead, tables, weights] = Array.from({ length: 5 }, () => f.local(I32));
    const [x, factor, gHot, gCold, sHot, sCold, sum, accHot, accCold, accPrevious, zh, omzh, zc, w] = Array
      .from(
        { length: 14 },
        () => f.local(V128),
      );
    const visitHot = call(index(VISIT), get(hot), add(get(level), i32(1)), i32(0), get(state));
    return [
      ...c.code,
      set(zeroBefore, fload(shl(get(p), i32(3)), L.zero)),
      set(previous, load(shl(get(p), i32(2)), L.factorInverse)),
      set(hotZero, fmul(get(zeroBefore), fload(get(hot), 8))),
      set(coldZero, fmul(get(zeroBefore), fload(get(cold), 8))),
      set(hotInverse, add(mul(add(get(level), i32(1)), i32(VB)), i32(L.inverse))),
      set(zh, splat(get(hotZero))),
      set(omzh, splat(fsub(f64(1), get(hotZero)))),
      set(zc, splat(get(coldZero))),
      set(tables, gget(G_T)),
      [true, false].map((free) =>
        unroll((o) => [
          set(x, vmul(vload(get(slot), L.g + o), vload(get(previous), o))),
          set(factor, vadd(get(zh), vmul(get(omzh), vload(get(tables), o)))),
          vstore(get(hotInverse), vdiv(one, get(factor)), o),
          set(gHot, vmul(get(x), get(factor))),
          set(gCold, vmul(get(x), vmul(get(zc), vload(get(tables), 2 * VB + o)))),
          vstore(get(c.hotAt), get(gHot), L.g + o),
          vstore(get(c.hotAt), get(gCold), L.g + VB + o),
          ...c.leaves(free, gHot, gCold, o),
        ])
      ).reduce((withFree, plain) => ifElse(get(c.withFree), [withFree], [plain])),
      leftFirst(
        hot,
        cold,
        when(
          eqz(get(c.hotLeaf)),
          fstore(shl(get(p), i32(3)), get(hotZero), L.zero),
          store(shl(get(p), i32(2)), get(hotInverse), L.factorInverse),
          visitHot,
          fstore(shl(get(p), i32(3)), get(zeroBefore), L.zero),
          store(shl(get(p), i32(2)), get(previous), L.factorInverse),
        ),
        visitChild(c, c.coldLeaf, get(coldZero), [
          store(shl(get(p), i32(2)), i32(1), L.failed),
          set(dead, gget(G_DEAD)),
          when(ge(get(b), i32(0)), gset(G_DEAD, or(get(dead), shl(i32(1), get(b))))),
          call(index(VISIT), get(cold), add(get(level), i32(1)), i32(1), get(state)),
          store(shl(get(p), i32(2)), i32(0), L.failed),
          gset(G_DEAD, get(dead)),
        ], add(get(c.hotAt), i32(VB))),
      ),
      set(weights, gget(G_WEIGHT)),
      set(accHot, zero),
      set(accCold, zero),
      set(accPrevious, zero),
      unroll((o) => [
        set(sHot, vload(get(c.hotAt), L.s + o)),
        set(sCold, vload(get(c.hotAt), L.s + VB + o)),
        set(sum, vadd(get(sHot), get(sCold))),
        vstore(get(slot), get(sum), L.s + o),
        set(w, vload(get(weights), o)),
        set(accHot, vadd(get(accHot), vmul(vmul(get(w), vload(get(hotInverse), o)), get(sHot)))),
        set(accCold, vadd(get(accCold), vmul(vload(get(weights), 2 * VB + o), get(sCold)))),
        set(accPrevious, vadd(get(accPrevious), vmul(vmul(get(w), vload(get(previous), o)), get(sum)))),
      ]),
      when(get(c.withFree), sumChildren(slot, c.hotAt, L.free)),
      addToPhi(
        get(p),
        fsub(
          fsub(fmul(fsub(f64(1), get(hotZero)), lanes(accHot)), lanes(accCold)),
          fmul(fsub(f64(1), get(zeroBefore)), lanes(accPrevious)),
        ),
      ),
    ];
  });

  const clear = fn([I32, I32], () => {
    const [slot, withFree] = [0, 1];
    return [
      unroll((o) => vstore(get(slot), zero, L.s + o)),
      when(get(withFree), unroll((o) => vstore(get(slot), zero, L.free + o))),
    ];
  });

  return { visit, constant, simple, clear };
}
