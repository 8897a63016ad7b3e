/**
 * Batch prediction by QuickScorer (Lucchese et al., SIGIR 2015) in WebAssembly SIMD, four rows to a
 * vector. Where the walk (packed.ts, wasm.ts) follows each row down each tree, one dependent load
 * after another, this tests every internal node of a tree at once and keeps the leaves no test
 * rules out: a tree's leaves are bits, left to right, in one to four i32 words; a node whose test
 * sends the row right clears the bits of its left subtree; the exit leaf is then the lowest bit
 * left (`ctz` of the first non-empty word).
 * Nothing depends on the previous step, so four rows share each SIMD compare, and the nodes are
 * code, not data: each tree is a WebAssembly function with its thresholds and masks as constants.
 *
 * The comparisons are made on ranks, exactly: a feature's distinct thresholds sorted,
 * `rank(x)` = how many are below `x`, and `x > threshold[j]` ⟺ `rank(x) > j` for every double `x`
 * (NaN ranks 0 and goes left, as it does in the walk). Each row's leaf values are added in tree
 * order from 0, as `predictPackedInto` adds them, so the result is the walk's to the bit (tested).
 *
 * Each tree's function runs over a block of rows before the next tree's, eight rows (two vectors)
 * at a time, so each node's two constants are splatted once for eight rows. `deno task
 * bench:kernels` (production model: 600 trees, 11,334 leaves, 45 features; 100k rows, one thread,
 * CPU best of 5, load ~2): the walk in wasm.ts ~420 ms, this ~150 ms, ranking included (4 rows a
 * group: ~175 ms; 256-row blocks: ~175 ms). It needs trees of at most 128 leaves and finite
 * thresholds ({@link QuickScorer.for} answers null otherwise), and it pays only for forests with
 * few nodes per step of depth ({@link quickScorerPays}); `PackedPredictor` keeps the walk otherwise.
 * @module
 */

import {
  alignToLine,
  name,
  simdAvailable,
  uleb,
  writePaddedUleb,
  writeSleb,
  writeUleb,
} from "./wasm_binary.ts";
import type { PackedForest } from "./packed.ts";

/**
 * Rows ranked and scored per kernel call: every tree's code (~1 MB of machine code in all) runs once
 * per block, so larger blocks stream it less often; 2,048 rows of ranks (~370 kB) stay in L2.
 * Measured: 256 rows 176 ms, 1,024 155 ms, 2,048 146–151 ms, 4,096 152 ms per 100k rows.
 */
const BLOCK_ROWS = 2048;
/** Rows per SIMD vector (i32x4). */
const LANES = 4;
/** Vectors per group: each node's constants are splatted once for this many vectors of rows. */
const VECTORS = 2;
/** Rows per kernel group. */
const GROUP_ROWS = LANES * VECTORS;
/** Most 32-bit words of a tree's leaf set (so at most 128 leaves a tree). */
const MAX_WORDS = 4;
const VALUES_PTR = 64;
const I32 = 0x7f;
const V128 = 0x7b;

/** One tree as the kernel tests it. */
interface TreeCode {
  /** Features (indices into the ranked block) the tree tests, each loaded once per group of rows. */
  features: number[];
  /** Per internal node: its feature's slot in `features`, its threshold's rank, its left leaves. */
  nodes: { slot: number; rank: number; leftFrom: number; leftTo: number }[];
  /** 32-bit words of the tree's leaf set: ⌈leaves / 32⌉. */
  words: number;
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
  readonly #ranker: Ranker;

  private constructor(
    forest: PackedForest,
    used: number[],
    thresholds: Float64Array[],
    trees: TreeCode[],
    values: Float64Array,
  ) {
    const groupBytes = 16 * used.length;
    this.#blockPtr = alignToLine(VALUES_PTR + 8 * values.length);
    const blockRows = Math.ceil(BLOCK_ROWS / GROUP_ROWS) * GROUP_ROWS;
    this.#outPtr = alignToLine(this.#blockPtr + groupBytes * (blockRows / LANES));
    this.#memory = new WebAssembly.Memory({ initial: Math.ceil((this.#outPtr + 8 * blockRows) / 65536) });
    new Float64Array(this.#memory.buffer, VALUES_PTR, values.length).set(values);
    const module = new WebAssembly.Module(assemble(trees, groupBytes));
    this.#kernel = new WebAssembly.Instance(module, { env: { memory: this.#memory } }).exports
      .predict as (blockPtr: number, groups: number, outPtr: number) => void;
    this.#nTrees = forest.roots.length;
    this.#cols = forest.nFeatures;
    this.#ranker = new Ranker(used, thresholds);
  }

  /**
   * The kernel for `forest`, or null when it cannot take it: a tree with more than 128 leaves, a
   * non-finite threshold, or a host without WebAssembly SIMD.
   */
  static for(forest: PackedForest): QuickScorer | null {
    if (!simdAvailable()) return null;
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
      const internal: { node: number; leftFrom: number; leftTo: number }[] = [];
      // Leaves numbered left to right, so a node's left subtree holds leaves [leftFrom, leftTo).
      const number = (k: number): boolean => {
        if (isLeaf(k)) {
          leaves.push(k);
          return leaves.length <= 32 * MAX_WORDS;
        }
        const entry = { node: k, leftFrom: leaves.length, leftTo: 0 };
        internal.push(entry);
        if (!number(children[2 * k])) return false;
        entry.leftTo = leaves.length;
        return number(children[2 * k + 1]);
      };
      if (!number(roots[t])) return null;
      const features: number[] = [];
      const nodes = internal.map(({ node, leftFrom, leftTo }) => {
        const block = slotOf[feature[node]];
        let slot = features.indexOf(block);
        if (slot < 0) slot = features.push(block) - 1;
        return { slot, rank: ranks[block].get(threshold[node])!, leftFrom, leftTo };
      });
      trees.push({
        features,
        nodes,
        words: Math.ceil(leaves.length / 32),
        valuesAt: VALUES_PTR + 8 * values.length,
      });
      for (const k of leaves) values.push(value[k]);
    }
    return new QuickScorer(forest, used, thresholds, trees, Float64Array.from(values));
  }

  /** Writes mean P(class 1) of rows `[0, rows)` of row-major `data` (`nFeatures` wide) into `out`. */
  predictInto(data: Float64Array, rows: number, out: Float64Array): void {
    const i32 = new Int32Array(this.#memory.buffer);
    const f64 = new Float64Array(this.#memory.buffer);
    const cols = this.#cols;
    const ranker = this.#ranker;
    const vectorInts = LANES * ranker.width;
    const blockAt = this.#blockPtr >> 2;
    const outAt = this.#outPtr >> 3;
    for (let start = 0; start < rows; start += BLOCK_ROWS) {
      const n = Math.min(BLOCK_ROWS, rows - start);
      const groups = Math.ceil(n / GROUP_ROWS);
      // Ranks, transposed by fours: rows 4v..4v+3, feature u, at blockAt + v·4·width + 4u + lane.
      for (let i = 0; i < groups * GROUP_ROWS; i++) {
        const at = blockAt + (i >> 2) * vectorInts + (i & 3);
        // Lanes past the last row rank as 0; their sums are not read.
        if (i >= n) ranker.zero(i32, at);
        else ranker.write(data, (start + i) * cols, i32, at);
      }
      f64.fill(0, outAt, outAt + groups * GROUP_ROWS);
      this.#kernel(this.#blockPtr, groups, this.#outPtr);
      for (let i = 0; i < n; i++) out[start + i] = f64[outAt + i] / this.#nTrees;
    }
  }
}

/** Largest span of integers a column's rank table covers. */
const MAX_TABLE = 1 << 16;

/**
 * A row's ranks, each column by the cheapest exact means: one comparison where the column has one
 * threshold (the one-hot columns), a table where the value is an integer within a table's span
 * (counts, amounts), a binary search otherwise; every means gives {@link rank}'s answer.
 */
class Ranker {
  readonly width: number;
  readonly #single: Int32Array;
  readonly #singleThreshold: Float64Array;
  readonly #table: Int32Array;
  readonly #tableLow: Float64Array;
  readonly #tables: Int32Array[];
  readonly #search: Int32Array;
  /** Per column (by block slot), its sorted thresholds. */
  readonly #sorted: Float64Array[];
  /** Per column (by block slot), where its rank goes: 4 × slot. */
  readonly #offset: Int32Array;
  /** Per column (by block slot), its index in a row. */
  readonly #columns: Int32Array;

  constructor(used: readonly number[], sorted: Float64Array[]) {
    this.width = used.length;
    this.#sorted = sorted;
    this.#offset = Int32Array.from(used, (_, slot) => LANES * slot);
    const single: number[] = [], table: number[] = [], search: number[] = [];
    const tables: Int32Array[] = [];
    const lows: number[] = [];
    sorted.forEach((thresholds, slot) => {
      if (thresholds.length === 1) return single.push(slot);
      const low = Math.floor(thresholds[0]);
      const span = Math.ceil(thresholds[thresholds.length - 1]) - low + 1;
      if (span > MAX_TABLE) return search.push(slot);
      table.push(slot);
      lows.push(low);
      tables.push(Int32Array.from({ length: span }, (_, k) => rank(thresholds, low + k)));
    });
    this.#single = Int32Array.from(single);
    this.#singleThreshold = Float64Array.from(single, (slot) => sorted[slot][0]);
    this.#table = Int32Array.from(table);
    this.#tableLow = Float64Array.from(lows);
    this.#tables = tables;
    this.#search = Int32Array.from(search);
    this.#columns = Int32Array.from(used);
  }

  /** Writes the ranks of the row at `data[row…]` to `out[at + 4 × slot]`. */
  write(data: Float64Array, row: number, out: Int32Array, at: number): void {
    const columns = this.#columns, offset = this.#offset, sorted = this.#sorted;
    const single = this.#single, singleThreshold = this.#singleThreshold;
    for (let k = 0; k < single.length; k++) {
      const slot = single[k];
      out[at + offset[slot]] = data[row + columns[slot]] > singleThreshold[k] ? 1 : 0;
    }
    const table = this.#table, tableLow = this.#tableLow, tables = this.#tables;
    for (let k = 0; k < table.length; k++) {
      const slot = table[k];
      const x = data[row + columns[slot]];
      const ranks = tables[k];
      // An integer x within the table's span (false for NaN: such x are searched). The test is on
      // x itself: x − low of a non-integer x can round to an integer.
      out[at + offset[slot]] = x >= tableLow[k] && x < tableLow[k] + ranks.length && Math.floor(x) === x
        ? ranks[x - tableLow[k]]
        : rank(sorted[slot], x);
    }
    const search = this.#search;
    for (let k = 0; k < search.length; k++) {
      const slot = search[k];
      out[at + offset[slot]] = rank(sorted[slot], data[row + columns[slot]]);
    }
  }

  /** Writes rank 0 for every column (a lane past the last row). */
  zero(out: Int32Array, at: number): void {
    for (let slot = 0; slot < this.width; slot++) out[at + this.#offset[slot]] = 0;
  }
}

/**
 * Whether QuickScorer should beat the walk on `forest`: it tests every internal node (~0.15 ns a
 * node and row here), the walk takes each tree's depth in steps (~0.9 ns a step), so it pays while
 * the forest has fewer than about 6 internal nodes per step of depth; 4 leaves a margin. Measured
 * (100k rows, one thread): production model, 17.9 nodes a tree for depth 7.9: 150 against 420 ms;
 * the 300-tree fixture, ~62 nodes for depth 8: 325 against 245 ms.
 */
export function quickScorerPays(forest: PackedForest): boolean {
  let internal = 0;
  for (let k = 0; k < forest.feature.length; k++) if (forest.children[2 * k] !== k) internal++;
  let steps = 0;
  for (let t = 0; t < forest.depths.length; t++) steps += forest.depths[t];
  return internal <= 4 * steps;
}

/** How many of `sorted` (ascending, distinct, at least one) are below `x`: 0 for NaN. */
function rank(sorted: Float64Array, x: number): number {
  // Branch-free halving: `base` only moves past values known to be below `x`.
  let base = 0;
  let n = sorted.length;
  while (n > 1) {
    const half = n >>> 1;
    if (sorted[base + half] < x) base += half;
    n -= half;
  }
  return base + (sorted[base] < x ? 1 : 0);
}

// ---- Assembly: straight into one array sized in advance, since every worker assembles the
// module (~400 kB) once, before its JavaScript is optimized: byte-by-byte method calls took ~150 ms.

const GET = 0x20;
const SET = 0x21;
const I32_CONST = 0x41;
const SIMD = 0xfd;

/** Writes `bytes` at `at`; returns the next position. */
function writeBytes(out: Uint8Array, at: number, bytes: readonly number[]): number {
  for (let i = 0; i < bytes.length; i++) out[at++] = bytes[i];
  return at;
}

/** Writes `local = i32x4.splat(value)` at `at`; returns the next position. */
function writeSplat(out: Uint8Array, at: number, value: number, local: number): number {
  out[at++] = I32_CONST;
  at = writeSleb(out, at, value);
  out[at++] = SIMD;
  out[at++] = 0x11; // i32x4.splat
  out[at++] = SET;
  return writeUleb(out, at, local);
}

/** The bits of leaves [from, to) that fall in word `word` of a leaf set, as a signed 32-bit integer. */
function wordMask(from: number, to: number, word: number): number {
  const low = Math.max(from, 32 * word) - 32 * word;
  const high = Math.min(to, 32 * word + 32) - 32 * word;
  if (high <= low) return 0;
  const ones = high - low === 32 ? -1 : (1 << (high - low)) - 1;
  return (ones << low) | 0;
}

/**
 * Tree `t`'s function `(blockPtr, groups, outPtr)`, written at `at`: for each group of
 * {@link VECTORS} × 4 rows, load the ranks of the features the tree tests, clear the leaves each
 * node's test rules out (the node's constants splatted once for all the group's vectors), and add
 * each row's exit leaf value to its sum. A tree of more than 32 leaves keeps its leaf set in several
 * words; a node touches only the words its left subtree spans. Returns the next position.
 */
function writeTree(out: Uint8Array, at: number, tree: TreeCode, vectorBytes: number): number {
  const P_BLOCK = 0, P_GROUPS = 1, P_OUT = 2, G = 3, BASE = 4, OUT_ROW = 5, INDEX = 6;
  const words = tree.words;
  // v128 locals: the rank and mask of the node at hand, each vector's comparison, each vector's
  // leaf-set words, each vector's features' ranks.
  const RANK = 7, MASK = 8, CMP = 9;
  const LEAVES = CMP + VECTORS;
  const leavesOf = (vector: number, word: number) => LEAVES + vector * words + word;
  const X = LEAVES + VECTORS * words;
  const x = (vector: number, slot: number) => X + vector * tree.features.length + slot;
  const sizeAt = at;
  at += 5;
  const start = at;
  at = writeBytes(out, at, [2, 4, I32]); // locals: g, base, outRow, index
  at = writeUleb(out, at, 2 + VECTORS * (1 + words + tree.features.length));
  out[at++] = V128;
  at = writeBytes(out, at, [I32_CONST, 0, SET, G, 0x02, 0x40, 0x03, 0x40]); // g = 0; block; loop
  at = writeBytes(out, at, [GET, G, GET, P_GROUPS, 0x4e, 0x0d, 1]); // if (g >= groups) break
  at = writeBytes(out, at, [GET, P_BLOCK, GET, G, I32_CONST]);
  at = writeSleb(out, at, VECTORS * vectorBytes);
  at = writeBytes(out, at, [0x6c, 0x6a, SET, BASE]); // base = block + g * group bytes
  at = writeBytes(out, at, [GET, P_OUT, GET, G, I32_CONST]);
  at = writeSleb(out, at, 8 * LANES * VECTORS);
  at = writeBytes(out, at, [0x6c, 0x6a, SET, OUT_ROW]); // outRow = out + g * group rows * 8
  for (let vector = 0; vector < VECTORS; vector++) {
    for (let slot = 0; slot < tree.features.length; slot++) {
      at = writeBytes(out, at, [GET, BASE, SIMD, 0, 4]); // v128.load
      at = writeUleb(out, at, vector * vectorBytes + 16 * tree.features[slot]);
      out[at++] = SET;
      at = writeUleb(out, at, x(vector, slot));
    }
    for (let word = 0; word < words; word++) {
      out[at++] = SIMD;
      out[at++] = 0x0c; // v128.const: every leaf possible
      out.fill(0xff, at, at + 16);
      at += 16;
      out[at++] = SET;
      at = writeUleb(out, at, leavesOf(vector, word));
    }
  }
  const nodes = tree.nodes;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i];
    at = writeSplat(out, at, node.rank, RANK);
    for (let vector = 0; vector < VECTORS; vector++) {
      // cmp = x > rank: the rows this node sends right.
      out[at++] = GET;
      at = writeUleb(out, at, x(vector, node.slot));
      out[at++] = GET;
      out[at++] = RANK;
      out[at++] = SIMD;
      out[at++] = 0x3b; // i32x4.gt_s
      out[at++] = SET;
      out[at++] = CMP + vector;
    }
    for (let word = 0; word < words; word++) {
      const mask = wordMask(node.leftFrom, node.leftTo, word);
      if (mask === 0) continue;
      at = writeSplat(out, at, mask, MASK);
      for (let vector = 0; vector < VECTORS; vector++) {
        // leaves &= ~(cmp & leftLeaves): a row that goes right loses the left subtree.
        out[at++] = GET;
        at = writeUleb(out, at, leavesOf(vector, word));
        out[at++] = GET;
        out[at++] = CMP + vector;
        out[at++] = GET;
        out[at++] = MASK;
        out[at++] = SIMD;
        out[at++] = 0x4e; // v128.and
        out[at++] = SIMD;
        out[at++] = 0x4f; // v128.andnot
        out[at++] = SET;
        at = writeUleb(out, at, leavesOf(vector, word));
      }
    }
  }
  for (let row = 0; row < VECTORS * LANES; row++) {
    // index = the lowest leaf left: ctz of the first non-empty word (from the last word down, each
    // non-empty word takes the place of those above it).
    const vector = row >> 2, lane = row & 3;
    for (let word = words - 1; word >= 0; word--) {
      at = writeBytes(out, at, [GET]);
      at = writeUleb(out, at, leavesOf(vector, word));
      at = writeBytes(out, at, [SIMD, 0x1b, lane, 0x68]); // extract lane, ctz
      if (word > 0) {
        at = writeBytes(out, at, [I32_CONST]);
        at = writeSleb(out, at, 32 * word);
        out[at++] = 0x6a; // + 32 × word
      }
      if (word < words - 1) {
        // select(this word's index, the index so far, this word ≠ 0)
        at = writeBytes(out, at, [GET, INDEX, GET]);
        at = writeUleb(out, at, leavesOf(vector, word));
        at = writeBytes(out, at, [SIMD, 0x1b, lane, 0x1b]); // extract lane, select
      }
      at = writeBytes(out, at, [SET, INDEX]);
    }
    // out[row] += value[index]
    const offset = 8 * row;
    at = writeBytes(out, at, [GET, OUT_ROW, GET, OUT_ROW, 0x2b, 3]);
    at = writeUleb(out, at, offset);
    at = writeBytes(out, at, [GET, INDEX, I32_CONST, 3, 0x74, 0x2b, 3]);
    at = writeUleb(out, at, tree.valuesAt);
    at = writeBytes(out, at, [0xa0, 0x39, 3]);
    at = writeUleb(out, at, offset);
  }
  at = writeBytes(out, at, [GET, G, I32_CONST, 1, 0x6a, SET, G, 0x0c, 0]); // g++; continue
  at = writeBytes(out, at, [0x0b, 0x0b, 0x0b]); // end loop, block, function
  writePaddedUleb(out, sizeAt, at - start);
  return at;
}

/** The module: one function per tree, and `predict` calling them in tree order. */
function assemble(trees: TreeCode[], groupBytes: number): Uint8Array<ArrayBuffer> {
  const n = trees.length;
  let bound = 256 + 16 * n;
  for (const tree of trees) {
    bound += 128 + (128 + 32 * tree.words) * VECTORS * tree.words + 16 * VECTORS * tree.features.length +
      (16 + 16 * VECTORS + (16 + 16 * VECTORS) * tree.words) * tree.nodes.length;
  }
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
  writePaddedUleb(out, driverSizeAt, at - driverStart);
  writePaddedUleb(out, codeSizeAt, at - codeStart);
  if (at > out.length) throw new Error("QuickScorer: the module outgrew its bound"); // writes past the end are lost
  return out.slice(0, at);
}
