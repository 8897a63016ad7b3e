/**
 * Batch prediction by QuickScorer (Lucchese et al., SIGIR 2015) in WebAssembly SIMD, four rows at a
 * time. Where the walk (packed.ts, wasm.ts) follows each row down each tree, one dependent load
 * after another, this tests every internal node of a tree at once and keeps the leaves no test
 * rules out: a tree's leaves are bits of an i32, left to right; a node whose test sends the row
 * right clears the bits of its left subtree; the exit leaf is then the lowest bit left (`ctz`).
 * Nothing depends on the previous step, so four rows share each SIMD compare, and the nodes are
 * code, not data: each tree is a WebAssembly function with its thresholds and masks as constants.
 *
 * The comparisons are made on ranks, exactly: a feature's distinct thresholds sorted,
 * `rank(x)` = how many are below `x`, and `x > threshold[j]` ⟺ `rank(x) > j` for every double `x`
 * (NaN ranks 0 and goes left, as it does in the walk). Each row's leaf values are added in tree
 * order from 0, as `predictPackedInto` adds them, so the result is the walk's to the bit (tested).
 *
 * Production model (600 trees, 11,334 leaves, 45 features), one thread on this 2-core machine, 100k
 * rows: the walk in wasm.ts 420–430 ms, this 210–220 ms (of which ranking the features ~45 ms).
 * It needs trees of at most 32 leaves and finite thresholds; {@link QuickScorer.for} answers null
 * otherwise, and `PackedPredictor` keeps the walk.
 * @module
 */

import { uleb } from "./leb128.ts";
import type { PackedForest } from "./packed.ts";

/** Rows ranked and scored per kernel call. */
const BLOCK_ROWS = 256;
/** Rows per SIMD vector (i32x4). */
const LANES = 4;
const VALUES_PTR = 64;
const I32 = 0x7f;
const V128 = 0x7b;

/** One tree as the kernel tests it. */
interface TreeCode {
  /** Features (indices into the ranked block) the tree tests, each loaded once per group of rows. */
  features: number[];
  /** Per internal node: its feature's slot in `features`, its threshold's rank, its left leaves. */
  nodes: { slot: number; rank: number; leftLeaves: number }[];
  /** Byte address of the tree's leaf values, left to right. */
  valuesAt: number;
}

/** A forest compiled to a QuickScorer kernel in its own WebAssembly memory. */
export class QuickScorer {
  readonly #kernel: (blockPtr: number, groups: number, outPtr: number) => void;
  readonly #memory: WebAssembly.Memory;
  readonly #nTrees: number;
  readonly #cols: number;
  readonly #blockPtr: number;
  readonly #outPtr: number;
  /** Columns the trees test, in ranked-block order. */
  readonly #used: Int32Array;
  /** Per used column, its distinct thresholds in ascending order. */
  readonly #thresholds: Float64Array[];

  private constructor(
    forest: PackedForest,
    used: number[],
    thresholds: Float64Array[],
    trees: TreeCode[],
    values: Float64Array,
  ) {
    const groupBytes = 16 * used.length;
    this.#blockPtr = align(VALUES_PTR + 8 * values.length);
    this.#outPtr = align(this.#blockPtr + groupBytes * (BLOCK_ROWS / LANES));
    this.#memory = new WebAssembly.Memory({ initial: Math.ceil((this.#outPtr + 8 * BLOCK_ROWS) / 65536) });
    new Float64Array(this.#memory.buffer, VALUES_PTR, values.length).set(values);
    const module = new WebAssembly.Module(assemble(trees, groupBytes));
    this.#kernel = new WebAssembly.Instance(module, { env: { memory: this.#memory } }).exports
      .predict as (blockPtr: number, groups: number, outPtr: number) => void;
    this.#nTrees = forest.roots.length;
    this.#cols = forest.nFeatures;
    this.#used = Int32Array.from(used);
    this.#thresholds = thresholds;
  }

  /**
   * The kernel for `forest`, or null when it cannot take it: a tree with more than 32 leaves, a
   * non-finite threshold, or a host without WebAssembly SIMD.
   */
  static for(forest: PackedForest): QuickScorer | null {
    if (!simdSupported()) return null;
    const { roots, children, feature, threshold, value } = forest;
    const isLeaf = (k: number) => children[2 * k] === k;
    const distinct = Array.from({ length: forest.nFeatures }, () => new Set<number>());
    for (let k = 0; k < feature.length; k++) {
      if (isLeaf(k)) continue;
      if (!Number.isFinite(threshold[k])) return null;
      distinct[feature[k]].add(threshold[k]);
    }
    const used: number[] = [];
    const slotOf = new Int32Array(forest.nFeatures).fill(-1);
    for (let c = 0; c < forest.nFeatures; c++) {
      if (distinct[c].size > 0) {
        slotOf[c] = used.length;
        used.push(c);
      }
    }
    const thresholds = used.map((c) => Float64Array.from(distinct[c]).sort());
    const ranks = thresholds.map((sorted) => new Map(Array.from(sorted, (t, j) => [t, j])));
    const trees: TreeCode[] = [];
    const values: number[] = [];
    for (let t = 0; t < roots.length; t++) {
      const leaves: number[] = [];
      const internal: { node: number; leftLeaves: number }[] = [];
      // Leaves numbered left to right; returns the bits of the leaves under `k` (or -1: too many).
      const number = (k: number): number => {
        if (isLeaf(k)) {
          leaves.push(k);
          return leaves.length > 32 ? -1 : 1 << (leaves.length - 1);
        }
        const entry = { node: k, leftLeaves: 0 };
        internal.push(entry);
        const left = number(children[2 * k]);
        const right = left === -1 ? -1 : number(children[2 * k + 1]);
        if (right === -1) return -1;
        entry.leftLeaves = left;
        return left | right;
      };
      if (number(roots[t]) === -1) return null;
      const features: number[] = [];
      const nodes = internal.map(({ node, leftLeaves }) => {
        const block = slotOf[feature[node]];
        let slot = features.indexOf(block);
        if (slot < 0) slot = features.push(block) - 1;
        return { slot, rank: ranks[block].get(threshold[node])!, leftLeaves };
      });
      trees.push({ features, nodes, valuesAt: VALUES_PTR + 8 * values.length });
      for (const k of leaves) values.push(value[k]);
    }
    return new QuickScorer(forest, used, thresholds, trees, Float64Array.from(values));
  }

  /** Writes mean P(class 1) of rows `[0, rows)` of row-major `data` (`nFeatures` wide) into `out`. */
  predictInto(data: Float64Array, rows: number, out: Float64Array): void {
    const i32 = new Int32Array(this.#memory.buffer);
    const f64 = new Float64Array(this.#memory.buffer);
    const cols = this.#cols;
    const used = this.#used;
    const thresholds = this.#thresholds;
    const width = used.length;
    const blockAt = this.#blockPtr >> 2;
    const outAt = this.#outPtr >> 3;
    for (let start = 0; start < rows; start += BLOCK_ROWS) {
      const n = Math.min(BLOCK_ROWS, rows - start);
      const groups = Math.ceil(n / LANES);
      // Ranks, transposed by groups of four rows: group g, feature u, lane l at (g·width + u)·4 + l.
      for (let i = 0; i < groups * LANES; i++) {
        const at = blockAt + (i >> 2) * width * LANES + (i & 3);
        if (i >= n) {
          // Lanes past the last row rank as 0; their sums are not read.
          for (let u = 0; u < width; u++) i32[at + LANES * u] = 0;
          continue;
        }
        const row = (start + i) * cols;
        for (let u = 0; u < width; u++) i32[at + LANES * u] = rank(thresholds[u], data[row + used[u]]);
      }
      f64.fill(0, outAt, outAt + groups * LANES);
      this.#kernel(this.#blockPtr, groups, this.#outPtr);
      for (let i = 0; i < n; i++) out[start + i] = f64[outAt + i] / this.#nTrees;
    }
  }
}

/** How many of `sorted` (ascending) are below `x`: 0 for NaN. */
function rank(sorted: Float64Array, x: number): number {
  if (sorted.length === 1) return x > sorted[0] ? 1 : 0;
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (sorted[middle] < x) low = middle + 1;
    else high = middle;
  }
  return low;
}

let simd: boolean | undefined;
/** Whether this host's WebAssembly has 128-bit SIMD. */
function simdSupported(): boolean {
  if (simd === undefined) {
    simd = typeof WebAssembly === "object" && WebAssembly.validate(
      Uint8Array.of(
        0,
        0x61,
        0x73,
        0x6d,
        1,
        0,
        0,
        0,
        1,
        5,
        1,
        0x60,
        0,
        1,
        V128,
        3,
        2,
        1,
        0,
        10,
        8,
        1,
        6,
        0,
        0x41,
        0,
        0xfd,
        0x11,
        0x0b,
      ),
    );
  }
  return simd;
}

function align(bytes: number): number {
  return (bytes + 63) & ~63;
}

// ---- Assembly: straight into one array sized in advance, since every worker assembles the
// module (~400 kB) once, before its JavaScript is optimized: byte-by-byte method calls took ~150 ms.

const GET = 0x20;
const SET = 0x21;
const I32_CONST = 0x41;
const SIMD = 0xfd;

/** Writes `n` as unsigned LEB128 at `at`; returns the next position. */
function writeUleb(out: Uint8Array, at: number, n: number): number {
  do {
    const low = n & 0x7f;
    n >>>= 7;
    out[at++] = n === 0 ? low : low | 0x80;
  } while (n !== 0);
  return at;
}

/** Writes `n` (a 32-bit integer) as signed LEB128 at `at`; returns the next position. */
function writeSleb(out: Uint8Array, at: number, n: number): number {
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
function patchSize(out: Uint8Array, at: number, size: number): void {
  for (let i = 0; i < 5; i++) {
    out[at + i] = (size & 0x7f) | (i < 4 ? 0x80 : 0);
    size >>>= 7;
  }
}

/** Writes `bytes` at `at`; returns the next position. */
function writeBytes(out: Uint8Array, at: number, bytes: readonly number[]): number {
  for (let i = 0; i < bytes.length; i++) out[at++] = bytes[i];
  return at;
}

function name(text: string): number[] {
  return [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

/**
 * Tree `t`'s function `(blockPtr, groups, outPtr)`, written at `at`: for each group of four rows,
 * load the ranks of the features the tree tests, clear the leaves each node's test rules out, and
 * add each row's exit leaf value to its sum. Returns the next position.
 */
function writeTree(out: Uint8Array, at: number, tree: TreeCode, groupBytes: number): number {
  const P_BLOCK = 0, P_GROUPS = 1, P_OUT = 2, G = 3, BASE = 4, OUT_ROW = 5, LEAVES = 6, X = 7;
  const sizeAt = at;
  at += 5;
  const start = at;
  at = writeBytes(out, at, [2, 3, I32]); // locals: g, base, outRow
  at = writeUleb(out, at, 1 + tree.features.length);
  out[at++] = V128; // locals: leaves, then one per feature tested
  at = writeBytes(out, at, [I32_CONST, 0, SET, G, 0x02, 0x40, 0x03, 0x40]); // g = 0; block; loop
  at = writeBytes(out, at, [GET, G, GET, P_GROUPS, 0x4e, 0x0d, 1]); // if (g >= groups) break
  at = writeBytes(out, at, [GET, P_BLOCK, GET, G, I32_CONST]);
  at = writeSleb(out, at, groupBytes);
  at = writeBytes(out, at, [0x6c, 0x6a, SET, BASE]); // base = block + g * groupBytes
  at = writeBytes(out, at, [GET, P_OUT, GET, G, I32_CONST, 5, 0x74, 0x6a, SET, OUT_ROW]); // outRow = out + 32g
  for (let slot = 0; slot < tree.features.length; slot++) {
    at = writeBytes(out, at, [GET, BASE, SIMD, 0, 4]); // v128.load
    at = writeUleb(out, at, 16 * tree.features[slot]);
    out[at++] = SET;
    at = writeUleb(out, at, X + slot);
  }
  out[at++] = SIMD;
  out[at++] = 0x0c; // v128.const: every leaf possible
  out.fill(0xff, at, at + 16);
  at += 16;
  out[at++] = SET;
  out[at++] = LEAVES;
  const nodes = tree.nodes;
  for (let i = 0; i < nodes.length; i++) {
    // leaves &= ~((x > rank) & leftLeaves): a row that goes right loses the left subtree.
    out[at++] = GET;
    out[at++] = LEAVES;
    out[at++] = GET;
    at = writeUleb(out, at, X + nodes[i].slot);
    out[at++] = I32_CONST;
    at = writeSleb(out, at, nodes[i].rank);
    out[at++] = SIMD;
    out[at++] = 0x11; // i32x4.splat
    out[at++] = SIMD;
    out[at++] = 0x3b; // i32x4.gt_s
    out[at++] = I32_CONST;
    at = writeSleb(out, at, nodes[i].leftLeaves);
    out[at++] = SIMD;
    out[at++] = 0x11; // i32x4.splat
    out[at++] = SIMD;
    out[at++] = 0x4e; // v128.and
    out[at++] = SIMD;
    out[at++] = 0x4f; // v128.andnot
    out[at++] = SET;
    out[at++] = LEAVES;
  }
  for (let lane = 0; lane < LANES; lane++) {
    // out[lane] += value[ctz(leaves[lane])]
    at = writeBytes(out, at, [GET, OUT_ROW, GET, OUT_ROW, 0x2b, 3, 8 * lane]);
    at = writeBytes(out, at, [GET, LEAVES, SIMD, 0x1b, lane, 0x68, I32_CONST, 3, 0x74, 0x2b, 3]);
    at = writeUleb(out, at, tree.valuesAt);
    at = writeBytes(out, at, [0xa0, 0x39, 3, 8 * lane]);
  }
  at = writeBytes(out, at, [GET, G, I32_CONST, 1, 0x6a, SET, G, 0x0c, 0]); // g++; continue
  at = writeBytes(out, at, [0x0b, 0x0b, 0x0b]); // end loop, block, function
  patchSize(out, sizeAt, at - start);
  return at;
}

/** The module: one function per tree, and `predict` calling them in tree order. */
function assemble(trees: TreeCode[], groupBytes: number): Uint8Array<ArrayBuffer> {
  const n = trees.length;
  let bound = 256 + 16 * n;
  for (const tree of trees) bound += 256 + 16 * tree.features.length + 32 * tree.nodes.length;
  const out = new Uint8Array(bound);
  let at = writeBytes(out, 0, [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const section = (id: number, body: number[]) => {
    out[at++] = id;
    at = writeUleb(out, at, body.length);
    at = writeBytes(out, at, body);
  };
  section(1, [1, 0x60, 3, I32, I32, I32, 0]); // type 0: (i32, i32, i32) -> ()
  section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x00, 0x01]);
  section(3, [...uleb(n + 1), ...new Array(n + 1).fill(0)]);
  section(7, [1, ...name("predict"), 0x00, ...uleb(n)]);
  out[at++] = 10;
  const codeSizeAt = at;
  at += 5;
  const codeStart = at;
  at = writeUleb(out, at, n + 1);
  for (const tree of trees) at = writeTree(out, at, tree, groupBytes);
  const driverSizeAt = at;
  at += 5;
  const driverStart = at;
  out[at++] = 0; // no locals
  for (let t = 0; t < n; t++) {
    at = writeBytes(out, at, [GET, 0, GET, 1, GET, 2, 0x10]);
    at = writeUleb(out, at, t);
  }
  out[at++] = 0x0b;
  patchSize(out, driverSizeAt, at - driverStart);
  patchSize(out, codeSizeAt, at - codeStart);
  if (at > out.length) throw new Error("QuickScorer: the module outgrew its bound"); // writes past the end are lost
  return out.slice(0, at);
}
