/**
 * The WebAssembly kernel's block states (explain_wasm.ts): splits on columns of tied players, a
 * tied player contradicted, players joining a block, and a block state's h, sums and shares. The
 * TypeScript twins are in explain_typescript.ts; there a state's h, H and shares are computed in
 * separate passes, here h, its sums by subset size and H in one pass (setState) and the shares
 * from those sums.
 * @module
 */

import {
  add,
  and,
  anyTrue,
  call,
  choose,
  type Code,
  ctz,
  eq,
  eqz,
  F64,
  f64,
  fadd,
  fload,
  fmul,
  fne,
  forBits,
  forSubsets,
  fstore,
  fsub,
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
  popcnt,
  ret,
  set,
  shl,
  splat,
  store,
  sub,
  V128,
  vadd,
  vload,
  vmul,
  vor,
  vstore,
  when,
  whileLoop,
  xor,
} from "./explain_assembler.ts";

import {
  CONTRADICT,
  END_JOINED,
  ENTANGLE,
  fn,
  G_BERNSTEIN,
  G_DEAD,
  G_MOMENTS,
  G_T,
  G_WEIGHT,
  G_WEIGHT_OVER,
  kernelContext,
  type Layout,
  SET_STATE,
  SHARES,
  VISIT,
} from "./explain_wasm_context.ts";

/** Up to this many tied players, setState and shares are unrolled for every set of them. */
const SPECIALIZED_BITS = 4;

function popcount(x: number): number {
  let n = 0;
  for (let r = x; r !== 0; r &= r - 1) n++;
  return n;
}

/** BLOCK_SPLIT, CONTRADICT, ENTANGLE, END_JOINED, SET_STATE and SHARES for P pairs of points. */
export function blockFunctions(L: Layout, P: number, first: number) {
  const {
    VB,
    zero,
    unroll,
    index,
    dot,
    tiedOf,
    leftFirst,
    seq,
    addToPhi,
    childAt,
    copy,
    sumChildren,
    H_SHIFT,
  } = kernelContext(L, P, first);

  const blockSplit = fn([I32, I32, I32, I32, I32, I32, I32], (f) => {
    const [mask, u, hot, cold, level, slot, state] = [0, 1, 2, 3, 4, 5, 6];
    const [tied, joining, base, baseG, hotAt, coldAt, child] = Array.from({ length: 7 }, () => f.local(I32));
    const [hotRatio, coldRatio] = [f.local(F64), f.local(F64)];
    return [
      set(hotRatio, fload(get(hot), 8)),
      set(coldRatio, fload(get(cold), 8)),
      set(tied, tiedOf(get(state))),
      set(joining, and(get(mask), xor(get(tied), i32(-1)))),
      set(base, get(state)),
      set(baseG, add(get(slot), i32(L.g))),
      when(
        get(joining),
        set(base, add(get(level), i32(L.entangleSlots))),
        set(baseG, add(mul(get(level), i32(VB)), i32(L.entangledG))),
        call(index(ENTANGLE), get(state), get(base), get(joining), add(get(slot), i32(L.g)), get(baseG)),
        set(tied, tiedOf(get(base))),
      ),
      set(hotAt, childAt(level)),
      set(coldAt, add(get(hotAt), i32(VB))),
      set(child, add(get(level), i32(1))),
      leftFirst(
        hot,
        cold,
        seq(
          call(index(SET_STATE), get(base), get(child), get(tied), get(mask), f64(1), get(hotRatio)),
          copy(hotAt, L.g, baseG, 0),
          call(index(VISIT), get(hot), get(child), i32(0), get(child)),
          call(index(SHARES), get(child), get(tied), get(hotAt)),
        ),
        ifElse(fne(get(coldRatio), f64(0)), [
          ifElse(ge(get(u), i32(0)), [
            call(index(SET_STATE), get(base), get(child), get(tied), get(mask), f64(0), get(coldRatio)),
            copy(coldAt, L.g, baseG, 0),
            store(shl(get(u), i32(2)), i32(1), L.failedUnit),
            call(index(VISIT), get(cold), get(child), i32(1), get(child)),
            store(shl(get(u), i32(2)), i32(0), L.failedUnit),
            call(index(SHARES), get(child), get(tied), get(coldAt)),
          ], [
            call(
              index(CONTRADICT),
              get(mask),
              get(base),
              get(child),
              get(tied),
              get(coldRatio),
              get(baseG),
              get(cold),
              get(level),
              get(coldAt),
            ),
          ]),
        ], [unroll((o) => vstore(get(coldAt), zero, L.s + o))]),
      ),
      sumChildren(slot, hotAt, L.s),
      when(tiedOf(get(state)), unroll((o) => vstore(get(slot), zero, L.free + o))),
      when(get(joining), call(index(END_JOINED), get(joining), get(slot))),
    ];
  });

  const contradict = fn([I32, I32, I32, I32, F64, I32, I32, I32, I32], (f) => {
    const [bit, base, child, tied, coldRatio, baseG, cold, level, coldAt] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
    const [from, to, rest, p, dead, tables] = Array.from({ length: 6 }, () => f.local(I32));
    const scale = f.local(F64), acc = f.local(V128), s = f.local(V128);
    return [
      set(from, shl(get(base), i32(H_SHIFT))),
      set(to, shl(get(child), i32(H_SHIFT))),
      set(rest, and(get(tied), xor(get(bit), i32(-1)))),
      set(scale, f64(1)),
      ifElse(eqz(get(rest)), [
        // Nothing left tied: the block is a constant, folded into G.
        set(scale, fmul(fload(get(from), L.h), get(coldRatio))),
        fstore(get(to), f64(1), L.h),
        store(shl(get(child), i32(2)), i32(0), L.tied),
      ], [call(index(SET_STATE), get(base), get(child), get(rest), get(bit), f64(0), get(coldRatio))]),
      set(tables, gget(G_T)),
      set(s, splat(get(scale))),
      unroll((o) =>
        vstore(get(coldAt), vmul(vmul(vload(get(baseG), o), vload(get(tables), 2 * VB + o)), get(s)), L.g + o)
      ),
      set(p, load(shl(ctz(get(bit)), i32(2)), L.tiedPlayers)),
      store(shl(get(p), i32(2)), i32(1), L.failed),
      set(dead, gget(G_DEAD)),
      gset(G_DEAD, or(get(dead), get(bit))),
      call(index(VISIT), get(cold), add(get(level), i32(1)), i32(1), get(child)),
      store(shl(get(p), i32(2)), i32(0), L.failed),
      gset(G_DEAD, get(dead)),
      when(get(rest), call(index(SHARES), get(child), get(rest), get(coldAt))),
      set(tables, gget(G_WEIGHT_OVER)),
      ...dot(acc, (o) => vmul(vload(get(tables), o), vload(get(coldAt), L.s + o))),
      addToPhi(get(p), fsub(f64(0), lanes(acc))),
    ];
  });

  const entangle = fn([I32, I32, I32, I32, I32], (f) => {
    const [from, to, joining, g, moved] = [0, 1, 2, 3, 4];
    const [tied, all, fromH, toH, U, rest, bit, inverse] = Array.from({ length: 8 }, () => f.local(I32));
    const x = f.local(F64);
    return [
      set(tied, tiedOf(get(from))),
      set(all, or(get(tied), get(joining))),
      set(fromH, shl(get(from), i32(H_SHIFT))),
      set(toH, shl(get(to), i32(H_SHIFT))),
      forSubsets(
        U,
        get(all),
        set(x, fload(add(get(fromH), shl(and(get(U), get(tied)), i32(3))), L.h)),
        forBits(
          rest,
          bit,
          and(get(joining), xor(get(U), i32(-1))),
          set(x, fmul(get(x), fload(shl(load(shl(ctz(get(bit)), i32(2)), L.tiedPlayers), i32(3)), L.zero))),
        ),
        fstore(add(get(toH), shl(get(U), i32(3))), get(x), L.h),
      ),
      store(shl(get(to), i32(2)), get(all), L.tied),
      copy(moved, 0, g, 0),
      forBits(
        rest,
        bit,
        get(joining),
        set(inverse, load(shl(load(shl(ctz(get(bit)), i32(2)), L.tiedPlayers), i32(2)), L.factorInverse)),
        unroll((o) => vstore(get(moved), vmul(vload(get(moved), o), vload(get(inverse), o)), o)),
      ),
    ];
  });

  const endJoined = fn([I32, I32], (f) => {
    const [joining, slot] = [0, 1];
    const [rest, bit, p, inverse, weights] = Array.from({ length: 5 }, () => f.local(I32));
    const acc = f.local(V128);
    return [
      set(weights, gget(G_WEIGHT)),
      forBits(
        rest,
        bit,
        get(joining),
        set(p, load(shl(ctz(get(bit)), i32(2)), L.tiedPlayers)),
        set(inverse, load(shl(get(p), i32(2)), L.factorInverse)),
        when(
          ne(get(inverse), i32(L.ones)),
          ...dot(
            acc,
            (o) => vmul(vmul(vload(get(weights), o), vload(get(inverse), o)), vload(get(slot), L.s + o)),
          ),
          addToPhi(get(p), fmul(fsub(fload(shl(get(p), i32(3)), L.zero), f64(1)), lanes(acc))),
        ),
      ),
    ];
  });

  // setState(from, to, tied, mask, inside, outside): h in slot `to`, for every subset U of `tied`, is
  // h in `from` times `inside` where U holds all of `mask`, else times `outside`; with it, the
  // slot's sums of h by size (all subsets, and per tied player those holding it) and H at the points.
  const setState = L.nBits <= SPECIALIZED_BITS ? specializedSetState() : genericSetState();

  // setState unrolled for every possible set of tied players: the sums by subset size live in
  // locals rather than memory, so adding to them is not a chain of stores and reloads.
  function specializedSetState() {
    return fn([I32, I32, I32, I32, F64, F64], (f) => {
      const [from, to, tied, mask, inside, outside] = [0, 1, 2, 3, 4, 5];
      const [fromH, toH, sums, basis, at] = Array.from({ length: 5 }, () => f.local(I32));
      const h = f.local(F64), c = f.local(V128);
      const nBits = L.nBits;
      const ROW = 8 * (nBits + 1);
      // bySize[r] and perBit[b][r] as F64 locals.
      const bySize = Array.from({ length: nBits + 1 }, () => f.local(F64));
      const perBit = Array.from(
        { length: nBits },
        () => Array.from({ length: nBits + 1 }, () => f.local(F64)),
      );
      const accs = Array.from({ length: P }, () => f.local(V128));
      const cases: Code[] = [];
      for (let T = 0; T < 1 << nBits; T++) {
        const n = popcount(T);
        const bits = Array.from({ length: nBits }, (_, b) => b).filter((b) => (T >> b) & 1);
        const body: Code[] = [];
        for (let r = 0; r <= n; r++) body.push(set(bySize[r], f64(0)));
        for (const b of bits) for (let r = 0; r <= n; r++) body.push(set(perBit[b][r], f64(0)));
        // Subsets in forSubsets' order (largest first), so the sums add in the same order.
        for (let U = T;; U = (U - 1) & T) {
          const r = popcount(U);
          body.push(
            set(
              h,
              fmul(
                fload(get(fromH), 8 * U + L.h),
                choose(eq(and(i32(U), get(mask)), get(mask)), get(inside), get(outside)),
              ),
            ),
            fstore(get(toH), get(h), 8 * U + L.h),
            set(bySize[r], fadd(get(bySize[r]), get(h))),
          );
          for (const b of bits) {
            if ((U >> b) & 1) body.push(set(perBit[b][r], fadd(get(perBit[b][r]), get(h))));
          }
          if (U === 0) break;
        }
        for (let r = 0; r <= n; r++) body.push(fstore(get(sums), get(bySize[r]), 8 * r));
        for (const b of bits) {
          for (let r = 0; r <= n; r++) body.push(fstore(get(sums), get(perBit[b][r]), (b + 1) * ROW + 8 * r));
        }
        body.push(set(basis, add(gget(G_BERNSTEIN), i32(n * (nBits + 1) * VB))));
        body.push(...accs.map((acc) => set(acc, zero)));
        for (let r = 0; r <= n; r++) {
          body.push(
            set(c, splat(get(bySize[r]))),
            ...accs.map((acc, j) =>
              set(acc, vadd(get(acc), vmul(get(c), vload(get(basis), r * VB + 16 * j))))
            ),
          );
        }
        cases.push(when(eq(get(tied), i32(T)), ...body));
      }
      return [
        set(sums, add(mul(get(to), i32(ROW * (nBits + 1))), i32(L.sums))),
        set(fromH, shl(get(from), i32(H_SHIFT))),
        set(toH, shl(get(to), i32(H_SHIFT))),
        ...cases,
        store(shl(get(to), i32(2)), get(tied), L.tied),
        set(at, mul(get(to), i32(VB))),
        ...accs.map((acc, j) => vstore(get(at), get(acc), L.hAtPoints + 16 * j)),
      ];
    });
  }

  function genericSetState() {
    return fn([I32, I32, I32, I32, F64, F64], (f) => {
      const [from, to, tied, mask, inside, outside] = [0, 1, 2, 3, 4, 5];
      const [n, r, U, fromH, toH, sums, size, rest, bit, at, basis] = Array.from(
        { length: 11 },
        () => f.local(I32),
      );
      const h = f.local(F64), c = f.local(V128);
      const accs = Array.from({ length: P }, () => f.local(V128));
      const ROW = 8 * (L.nBits + 1);
      return [
        set(n, popcnt(get(tied))),
        set(sums, add(mul(get(to), i32(ROW * (L.nBits + 1))), i32(L.sums))),
        set(r, i32(0)),
        whileLoop(
          lt(get(r), add(get(n), i32(1))),
          fstore(add(get(sums), shl(get(r), i32(3))), f64(0)),
          forBits(
            rest,
            bit,
            get(tied),
            fstore(
              add(add(get(sums), shl(get(r), i32(3))), mul(add(ctz(get(bit)), i32(1)), i32(ROW))),
              f64(0),
            ),
          ),
          set(r, add(get(r), i32(1))),
        ),
        set(fromH, shl(get(from), i32(H_SHIFT))),
        set(toH, shl(get(to), i32(H_SHIFT))),
        forSubsets(
          U,
          get(tied),
          set(
            h,
            fmul(
              fload(add(get(fromH), shl(get(U), i32(3))), L.h),
              choose(eq(and(get(U), get(mask)), get(mask)), get(inside), get(outside)),
            ),
          ),
          fstore(add(get(toH), shl(get(U), i32(3))), get(h), L.h),
          set(size, add(get(sums), shl(popcnt(get(U)), i32(3)))),
          fstore(get(size), fadd(fload(get(size)), get(h))),
          forBits(
            rest,
            bit,
            get(U),
            set(at, add(get(size), mul(add(ctz(get(bit)), i32(1)), i32(ROW)))),
            fstore(get(at), fadd(fload(get(at)), get(h))),
          ),
        ),
        store(shl(get(to), i32(2)), get(tied), L.tied),
        set(basis, add(gget(G_BERNSTEIN), mul(mul(get(n), i32(L.nBits + 1)), i32(VB)))),
        ...accs.map((acc) => set(acc, zero)),
        set(r, i32(0)),
        whileLoop(
          lt(get(r), add(get(n), i32(1))),
          set(c, splat(fload(add(get(sums), shl(get(r), i32(3)))))),
          ...accs.map((acc, j) => set(acc, vadd(get(acc), vmul(get(c), vload(get(basis), 16 * j))))),
          set(basis, add(get(basis), i32(VB))),
          set(r, add(get(r), i32(1))),
        ),
        set(at, mul(get(to), i32(VB))),
        ...accs.map((acc, j) => vstore(get(at), get(acc), L.hAtPoints + 16 * j)),
      ];
    });
  }

  // blockShares(slot, tied, freeAt): player b gains Σ_s T_b[s] (μ[s − 1] + μ[s]) − Σ_s T[s] μ[s],
  // μ being the moments of S free at `freeAt` (Σ_{U ∌ b} (h(U ∪ b) − h(U)) μ[|U|] regrouped by size).
  const shares = L.nBits <= SPECIALIZED_BITS ? specializedShares() : genericShares();

  // A state with no leaf directly under it (its child is itself a block split) has S free = 0 and
  // no shares: return at once. A third of the calls on the production model.
  function noFreeMass(freeAt: number): Code {
    const pairs = Array.from({ length: P }, (_, j) => vload(get(freeAt), L.free + 16 * j));
    return when(eqz(anyTrue(pairs.reduce((a, b) => vor(a, b)))), ret);
  }

  // shares unrolled for every possible set of tied players, the moments in locals.
  function specializedShares() {
    return fn([I32, I32, I32], (f) => {
      const [child, tied, freeAt] = [0, 1, 2];
      const [basis, sums] = Array.from({ length: 2 }, () => f.local(I32));
      const common = f.local(F64), gain = f.local(F64), acc = f.local(V128);
      const nBits = L.nBits;
      const ROW = 8 * (nBits + 1);
      const moments = Array.from({ length: nBits + 1 }, () => f.local(F64));
      const cases: Code[] = [];
      for (let T = 0; T < 1 << nBits; T++) {
        const n = popcount(T);
        const body: Code[] = [set(basis, add(gget(G_MOMENTS), i32(n * (nBits + 1) * VB)))];
        for (let j = 0; j < n; j++) {
          body.push(
            ...dot(acc, (o) => vmul(vload(get(basis), j * VB + o), vload(get(freeAt), L.free + o))),
            set(moments[j], lanes(acc)),
          );
        }
        body.push(set(moments[n], f64(0)), set(common, f64(0)));
        for (let j = 0; j < n; j++) {
          body.push(set(common, fadd(get(common), fmul(fload(get(sums), 8 * j), get(moments[j])))));
        }
        for (let b = 0; b < nBits; b++) {
          if (((T >> b) & 1) === 0) continue;
          body.push(set(gain, f64(0)));
          for (let j = 1; j <= n; j++) {
            body.push(
              set(
                gain,
                fadd(
                  get(gain),
                  fmul(fload(get(sums), (b + 1) * ROW + 8 * j), fadd(get(moments[j - 1]), get(moments[j]))),
                ),
              ),
            );
          }
          body.push(addToPhi(load(i32(0), L.tiedPlayers + 4 * b), fsub(get(gain), get(common))));
        }
        cases.push(when(eq(get(tied), i32(T)), ...body));
      }
      return [
        noFreeMass(freeAt),
        set(sums, add(mul(get(child), i32(ROW * (nBits + 1))), i32(L.sums))),
        ...cases,
      ];
    });
  }

  function genericShares() {
    return fn([I32, I32, I32], (f) => {
      const [child, tied, freeAt] = [0, 1, 2];
      const [n, j, basis, sums, rest, bit, row] = Array.from({ length: 7 }, () => f.local(I32));
      const common = f.local(F64), gain = f.local(F64), acc = f.local(V128);
      const ROW = 8 * (L.nBits + 1);
      const moment = (k: Code) => fload(shl(k, i32(3)), L.moments);
      return [
        noFreeMass(freeAt),
        set(n, popcnt(get(tied))),
        set(basis, add(gget(G_MOMENTS), mul(mul(get(n), i32(L.nBits + 1)), i32(VB)))),
        set(j, i32(0)),
        whileLoop(
          lt(get(j), get(n)),
          ...dot(acc, (o) => vmul(vload(get(basis), o), vload(get(freeAt), L.free + o))),
          fstore(shl(get(j), i32(3)), lanes(acc), L.moments),
          set(basis, add(get(basis), i32(VB))),
          set(j, add(get(j), i32(1))),
        ),
        fstore(shl(get(n), i32(3)), f64(0), L.moments),
        set(sums, add(mul(get(child), i32(ROW * (L.nBits + 1))), i32(L.sums))),
        set(common, f64(0)),
        set(j, i32(0)),
        whileLoop(
          lt(get(j), get(n)),
          set(common, fadd(get(common), fmul(fload(add(get(sums), shl(get(j), i32(3)))), moment(get(j))))),
          set(j, add(get(j), i32(1))),
        ),
        forBits(
          rest,
          bit,
          get(tied),
          set(row, add(get(sums), mul(add(ctz(get(bit)), i32(1)), i32(ROW)))),
          set(gain, f64(0)),
          set(j, i32(1)),
          whileLoop(
            lt(get(j), add(get(n), i32(1))),
            set(
              gain,
              fadd(
                get(gain),
                fmul(
                  fload(add(get(row), shl(get(j), i32(3)))),
                  fadd(moment(sub(get(j), i32(1))), moment(get(j))),
                ),
              ),
            ),
            set(j, add(get(j), i32(1))),
          ),
          addToPhi(load(shl(ctz(get(bit)), i32(2)), L.tiedPlayers), fsub(get(gain), get(common))),
        ),
      ];
    });
  }

  return { blockSplit, contradict, entangle, endJoined, setState, shares };
}
