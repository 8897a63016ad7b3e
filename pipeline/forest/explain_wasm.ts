/**
 * The quadrature TreeSHAP of explain.ts as a WebAssembly kernel with 128-bit SIMD: the functions of
 * explain_typescript.ts (visit, constant split, simple split, block split, …) on the same numbers,
 * each K-vector processed two points at a time (a block state's h, sums and H are computed in one
 * pass here, see explain_wasm_blocks.ts). The TypeScript kernel is the readable version and the
 * fallback; tests hold the two to the same values (they differ by rounding, ~1e-16).
 *
 * Why: the algorithm is a few multiply-adds on K ≈ 5 doubles per node. In JavaScript every typed
 * array access is bounds-checked and every short loop pays its overhead, which cost more than the
 * arithmetic; here there is neither, and two doubles go per instruction. Measured on the production
 * model (CPU per explanation, shared machine under load): TypeScript kernel 7–8 ms, this one
 * 3.3–3.6 ms; laying the nodes out in preorder and visiting children in address order took it
 * from 4.5 ms, so the walk is partly bound by memory.
 *
 * The module is assembled per forest (explain_assembler.ts) with the memory layout baked in as
 * constant addresses. Layout, each region aligned to 16 bytes: a 24-byte struct per node in the
 * plan's preorder (threshold, or the value at a leaf, f64 @0; cover ratio f64 @8; right child's
 * address @16, -1 at a leaf; column @20), the left child being the next struct, so the walk reads
 * forward through memory; a 16-byte struct per column (kind @0, player @4, bit or unit @8, mask
 * @12); per tree its root, number of point pairs and point tables; the tables; the row; the
 * K-vector slots (G, S, S free, inverses, entangled G, H at the points); block states; per player
 * its flags and current factor (zero fraction, address of its inverse); the values. Vectors are
 * `stride` doubles, stride even; lanes past a tree's K have t = 0.5 and weight 0, so they stay
 * finite and add nothing. Functions are specialised per number of point pairs P and unrolled.
 * @module
 */

import {
  add,
  assemble,
  call,
  eq,
  f64,
  fstore,
  get,
  gset,
  I32,
  i32,
  load,
  lt,
  set,
  shl,
  splat,
  store,
  vstore,
  when,
  whileLoop,
} from "./explain_assembler.ts";
import { type ColumnRoles, type ForestPlan, MULTI, SINGLE } from "./explain_plan.ts";
import { pointTables } from "./explain_quadrature.ts";

import {
  COLUMN_BYTES,
  fn,
  FUNCTIONS_PER_P,
  G_BERNSTEIN,
  G_DEAD,
  G_MOMENTS,
  G_ONE_MINUS_T,
  G_T,
  G_WEIGHT,
  G_WEIGHT_OVER,
  type Layout,
  N_GLOBALS,
  NODE_BYTES,
  TREE_BYTES,
  VISIT,
} from "./explain_wasm_context.ts";
import { walkFunctions } from "./explain_wasm_walk.ts";
import { blockFunctions } from "./explain_wasm_blocks.ts";

/** A forest loaded into a WebAssembly instance, ready to explain rows. */
export class WasmExplainKernel {
  readonly #run: (nTrees: number) => void;
  readonly #f64: Float64Array;
  readonly #layout: Layout;
  readonly #nTrees: number;
  readonly #nFeatures: number;
  readonly #nPlayers: number;

  /** Lays out `plan` in a fresh memory and instantiates the kernel; throws if WebAssembly SIMD is missing. */
  constructor(plan: ForestPlan, roles: ColumnRoles, nPlayers: number, nFeatures: number) {
    const stride = plan.maxPoints + (plan.maxPoints & 1);
    const nBits = roles.tiedPlayers.length;
    const levels = plan.maxDepth + 1;
    const slots = 2 * levels + 1;
    const nNodes = plan.right.length;
    const vb = 8 * stride;
    const tableBytes = (4 + 2 * (nBits + 1) * (nBits + 1)) * vb;
    let next = 0;
    const region = (bytes: number) => {
      const at = next;
      next = (next + bytes + 15) & ~15;
      return at;
    };
    region(16); // address 0 stays unused
    const layout: Layout = {
      vb,
      nBits,
      entangleSlots: levels + 1,
      nodes: region(NODE_BYTES * nNodes),
      columns: region(COLUMN_BYTES * nFeatures),
      trees: region(TREE_BYTES * plan.roots.length),
      tables: region(tableBytes * (plan.maxPoints + 1)),
      tableBytes,
      row: region(8 * nFeatures),
      g: region(2 * levels * vb),
      s: region(2 * levels * vb),
      free: region(2 * levels * vb),
      inverse: region(levels * vb),
      entangledG: region(levels * vb),
      h: region(slots * (8 << nBits)),
      hAtPoints: region(slots * vb),
      sums: region(slots * 8 * (nBits + 1) * (nBits + 1)),
      tied: region(4 * slots),
      bySize: region(8 * (nBits + 1)),
      moments: region(8 * (nBits + 1)),
      failed: region(4 * nPlayers),
      failedUnit: region(4 * Math.max(1, roles.unitMask.length)),
      zero: region(8 * nPlayers),
      factorInverse: region(4 * nPlayers),
      tiedPlayers: region(4 * Math.max(1, nBits)),
      phi: region(8 * nPlayers),
      ones: region(vb),
      bytes: 0,
    };
    layout.bytes = next;
    const memory = new WebAssembly.Memory({ initial: Math.ceil(layout.bytes / 65536) });
    const f64 = new Float64Array(memory.buffer);
    const i32 = new Int32Array(memory.buffer);
    const nodeAddress = (id: number) => (id < 0 ? -1 : layout.nodes + NODE_BYTES * id);
    for (let id = 0; id < nNodes; id++) {
      const a = nodeAddress(id);
      const isLeaf = plan.right[id] < 0;
      f64[a >> 3] = isLeaf ? plan.value[id] : plan.threshold[id];
      f64[(a >> 3) + 1] = plan.coverRatio[id];
      i32[(a >> 2) + 4] = nodeAddress(plan.right[id]);
      i32[(a >> 2) + 5] = plan.column[id];
    }
    for (let c = 0; c < nFeatures; c++) {
      const a = (layout.columns + COLUMN_BYTES * c) >> 2;
      i32[a] = roles.kind[c];
      i32[a + 1] = roles.player[c];
      i32[a + 2] = roles.kind[c] === MULTI ? roles.unit[c] : roles.bit[c];
      i32[a + 3] = roles.kind[c] === MULTI
        ? roles.unitMask[roles.unit[c]]
        : roles.kind[c] === SINGLE
        ? 1 << roles.bit[c]
        : 0;
    }
    const tableAddress = (k: number) => layout.tables + k * tableBytes;
    for (let t = 0; t < plan.roots.length; t++) {
      const a = (layout.trees + TREE_BYTES * t) >> 2;
      const k = plan.pointsOfTree[t];
      i32[a] = nodeAddress(plan.roots[t]);
      i32[a + 1] = (k + 1) >> 1;
      i32[a + 2] = tableAddress(k);
    }
    pointTables(plan.maxPoints, nBits, stride).forEach((table, k) => {
      const at = tableAddress(k) >> 3;
      f64.set(table.t, at);
      f64.set(table.weight, at + stride);
      f64.set(table.oneMinusT, at + 2 * stride);
      f64.set(table.weightOverOneMinusT, at + 3 * stride);
      f64.set(table.bernstein, at + 4 * stride);
      f64.set(table.moments, at + (4 + (nBits + 1) * (nBits + 1)) * stride);
    });
    f64.fill(1, layout.ones >> 3, (layout.ones + vb) >> 3);
    f64.fill(1, layout.zero >> 3, (layout.zero >> 3) + nPlayers);
    i32.fill(layout.ones, layout.factorInverse >> 2, (layout.factorInverse >> 2) + nPlayers);
    i32.set(roles.tiedPlayers, layout.tiedPlayers >> 2);

    const pairCounts = [...new Set(Array.from(plan.pointsOfTree, (k) => (k + 1) >> 1))].sort((a, b) => a - b);
    const module = new WebAssembly.Module(assembleKernel(layout, pairCounts));
    const instance = new WebAssembly.Instance(module, { env: { memory } });
    this.#run = instance.exports.explain as (nTrees: number) => void;
    this.#f64 = f64;
    this.#layout = layout;
    this.#nTrees = plan.roots.length;
    this.#nFeatures = nFeatures;
    this.#nPlayers = nPlayers;
  }

  /** Writes the sum over trees of each player's value for `row` (validated by the caller) into `phi`. */
  sumOverTrees(row: ArrayLike<number>, phi: Float64Array): void {
    const f64 = this.#f64, rowAt = this.#layout.row >> 3, phiAt = this.#layout.phi >> 3;
    for (let c = 0; c < this.#nFeatures; c++) f64[rowAt + c] = row[c];
    f64.fill(0, phiAt, phiAt + this.#nPlayers);
    this.#run(this.#nTrees);
    for (let p = 0; p < this.#nPlayers; p++) phi[p] = f64[phiAt + p];
  }
}

/**
 * The kernel: `explain(nTrees)`, then the functions of explain.ts once per number of point pairs P
 * the forest's trees use, each K-vector operation unrolled into P instructions on constant offsets.
 */
function assembleKernel(L: Layout, pairCounts: readonly number[]): Uint8Array<ArrayBuffer> {
  const functions = pairCounts.flatMap((pairs, n) => {
    const first = 1 + FUNCTIONS_PER_P * n;
    const { visit, constant, simple, clear } = walkFunctions(L, pairs, first);
    const { blockSplit, contradict, entangle, endJoined, setState, shares } = blockFunctions(L, pairs, first);
    // In the order of the function numbers VISIT … CLEAR.
    return [visit, constant, simple, blockSplit, contradict, entangle, endJoined, setState, shares, clear];
  });
  const explain = fn([I32], (f) => {
    const nTrees = 0;
    const [t, tree, tables, pairs] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
    const blockTables = (L.nBits + 1) * (L.nBits + 1) * L.vb;
    const one = splat(f64(1));
    return [
      set(t, i32(0)),
      whileLoop(
        lt(get(t), get(nTrees)),
        set(tree, shl(get(t), i32(4))),
        set(pairs, load(get(tree), L.trees + 4)),
        set(tables, load(get(tree), L.trees + 8)),
        gset(G_T, get(tables)),
        gset(G_WEIGHT, add(get(tables), i32(L.vb))),
        gset(G_ONE_MINUS_T, add(get(tables), i32(2 * L.vb))),
        gset(G_WEIGHT_OVER, add(get(tables), i32(3 * L.vb))),
        gset(G_BERNSTEIN, add(get(tables), i32(4 * L.vb))),
        gset(G_MOMENTS, add(get(tables), i32(4 * L.vb + blockTables))),
        ...Array.from({ length: Math.max(...pairCounts) }, (_, j) => vstore(i32(0), one, L.g + 16 * j)),
        fstore(i32(0), f64(1), L.h),
        store(i32(0), i32(0), L.tied),
        gset(G_DEAD, i32(0)),
        ...pairCounts.map((p, n) =>
          when(
            eq(get(pairs), i32(p)),
            call(1 + FUNCTIONS_PER_P * n + VISIT, load(get(tree), L.trees), i32(0), i32(0), i32(0)),
          )
        ),
        set(t, add(get(t), i32(1))),
      ),
    ];
  });
  return assemble([explain, ...functions], N_GLOBALS, "explain");
}
