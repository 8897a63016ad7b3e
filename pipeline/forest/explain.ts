/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized feature
 * attribution for tree ensembles", Algorithm 2) for our flat trees and the forest.
 *
 * A tree's game is v(S) = E[f(x) | x_S], the path-dependent expectation: a split on a known
 * feature follows x, a split on an unknown one averages both children weighted by their cover
 * (`weightedNNodeSamples`). The Shapley values of that game come out of one recursion over the
 * tree that carries, along the path, the subset-size weights of the features met so far
 * (EXTEND), takes one feature out again to read its weight (UNWIND), and merges repeated splits
 * on one feature into a single path element. Cost O(leaves · depth²) per tree.
 *
 * Players need not be columns. Each column names the players it is computed from; it is known
 * once all of them are. A column with one player (a numeric attribute, or one of several one-hot
 * columns of an attribute) is ordinary TreeSHAP with its splits merged by player. Columns computed
 * from several players (engineered features) tie those players into one "entangled" block: along
 * a path the block's factor is a function of which of its players are known, kept as per-column
 * (zero, one) fractions and expanded over the block's subsets at each leaf, then combined with
 * the path's weights. The result is still the exact Shapley value of the player game, so local
 * accuracy, symmetry and dummy hold for the players. The block must stay small (at most
 * {@link MAX_ENTANGLED_PLAYERS} players); German Credit's engineered features tie four.
 *
 * ```ts
 * import { BalancedRandomForest, TreeShapExplainer } from "./mod.ts";
 * const forest = new BalancedRandomForest({ nEstimators: 10, seed: 1 }).fit([[0, 1], [1, 0], [0, 0], [1, 1]], [0, 1, 0, 1]);
 * const explainer = new TreeShapExplainer(forest);
 * const phi = explainer.shapValues([1, 0]);
 * // explainer.baseValue + phi[0] + phi[1] === forest.predictProbaOne([1, 0]) (to rounding)
 * ```
 * @module
 */

import { type FlatTree, TREE_LEAF, treeDepth } from "./tree.ts";

/** Players larger entangled blocks would need 2^n subsets per leaf; refused beyond this. */
export const MAX_ENTANGLED_PLAYERS = 12;

/** Who the Shapley values are for, when not the columns themselves. */
export interface ShapPlayers {
  /** Number of players (the length of the values). */
  readonly count: number;
  /** Per column, the players it is computed from; the column is known once all of them are. */
  readonly ofColumn: readonly (readonly number[])[];
}

/** What the explainer needs of a fitted forest (a `BalancedRandomForest`, or a few trees in a test). */
export interface ExplainableForest {
  readonly trees: readonly FlatTree[];
  readonly nFeaturesIn: number;
}

const NO_PLAYER = -1;

/**
 * SHAP values of a forest's P(class 1): the mean over trees of each tree's exact path-dependent
 * TreeSHAP values. Scratch buffers are allocated once here; {@link shapValues} allocates nothing
 * when given `out`. Not reentrant: one explainer per thread.
 *
 * One fractions are always 0 or 1 on our paths (products of "x goes this way" indicators), which
 * the leaf step uses: every element with one = 0 receives the same unwound sum, so it is computed
 * once per leaf, and the unwinding of the others needs no division.
 */
export class TreeShapExplainer {
  /** Number of players (columns unless `players` was given). */
  readonly nPlayers: number;
  /** Mean over trees of the tree's cover-weighted expected value: the prediction with nothing known. */
  readonly baseValue: number;
  readonly #trees: readonly FlatTree[];
  readonly #nFeatures: number;
  /** Column → its single player, or NO_PLAYER for a column of the entangled block. */
  readonly #playerOf: Int32Array;
  /** Column → its index among the block's columns, or -1. */
  readonly #blockColumnOf: Int32Array;
  /** Block column → bitmask of the block players it needs. */
  readonly #blockColumnMask: Int32Array;
  /** Block player (bit) → player. */
  readonly #blockPlayers: Int32Array;
  readonly #nBlockColumns: number;

  // Path state, one region per recursion level (Algorithm 2's copies of the path, laid end to end).
  readonly #pathPlayer: Int32Array;
  readonly #pathZero: Float64Array;
  readonly #pathOne: Float64Array;
  readonly #pathWeight: Float64Array;
  // Block state in slots: zero and one fraction of each block column, and which are on the path.
  // A node that does not split on a block column keeps its parent's slot.
  readonly #blockZero: Float64Array;
  readonly #blockOne: Float64Array;
  readonly #blockPresent: Int32Array;
  // Leaf scratch.
  readonly #subsetValue: Float64Array;
  readonly #bySize: Float64Array;
  readonly #marginal: Float64Array;
  readonly #byBlockSize: Float64Array;
  readonly #presentColumns: Int32Array;
  readonly #sizeWeight: Float64Array;
  readonly #ones: Float64Array;
  readonly #shapley: Float64Array;
  readonly #factorial: Float64Array;
  readonly #inverseFactorial: Float64Array;
  readonly #inverse: Float64Array;
  // The tree and row being explained.
  #left: Int32Array = new Int32Array(0);
  #right: Int32Array = new Int32Array(0);
  #feature: Int32Array = new Int32Array(0);
  #threshold: Float64Array = new Float64Array(0);
  #value: Float64Array = new Float64Array(0);
  #cover: Float64Array = new Float64Array(0);
  #row: ArrayLike<number> = [];
  #phi: Float64Array = new Float64Array(0);

  /** Prepares to explain `forest`; `players` groups columns (default: one player per column). */
  constructor(forest: ExplainableForest, players?: ShapPlayers) {
    if (forest.trees.length === 0) throw new Error("TreeShapExplainer needs a fitted forest (no trees)");
    this.#trees = forest.trees;
    this.#nFeatures = forest.nFeaturesIn;
    const ofColumn = players?.ofColumn ?? Array.from({ length: forest.nFeaturesIn }, (_, c) => [c]);
    this.nPlayers = players?.count ?? forest.nFeaturesIn;
    if (ofColumn.length !== forest.nFeaturesIn) {
      throw new RangeError(
        `players.ofColumn has ${ofColumn.length} columns, the forest ${forest.nFeaturesIn}`,
      );
    }
    ofColumn.forEach((owners, c) => {
      if (owners.length === 0) throw new RangeError(`column ${c} has no player`);
      for (const p of owners) {
        if (!Number.isInteger(p) || p < 0 || p >= this.nPlayers) {
          throw new RangeError(`column ${c} names player ${p}, outside 0..${this.nPlayers - 1}`);
        }
      }
    });

    const entangled = [...new Set(ofColumn.filter((o) => new Set(o).size > 1).flat())].sort((a, b) => a - b);
    if (entangled.length > MAX_ENTANGLED_PLAYERS) {
      throw new RangeError(
        `${entangled.length} players are tied by multi-player columns; at most ${MAX_ENTANGLED_PLAYERS} are supported`,
      );
    }
    const bit = new Map(entangled.map((p, i) => [p, i]));
    this.#blockPlayers = Int32Array.from(entangled);
    this.#playerOf = new Int32Array(forest.nFeaturesIn).fill(NO_PLAYER);
    this.#blockColumnOf = new Int32Array(forest.nFeaturesIn).fill(-1);
    const masks: number[] = [];
    ofColumn.forEach((owners, c) => {
      if (owners.some((p) => bit.has(p))) {
        this.#blockColumnOf[c] = masks.length;
        masks.push(owners.reduce((mask, p) => mask | (1 << bit.get(p)!), 0));
      } else {
        this.#playerOf[c] = owners[0];
      }
    });
    if (masks.length > 30) {
      throw new RangeError(`${masks.length} entangled columns; at most 30 are supported`);
    }
    this.#blockColumnMask = Int32Array.from(masks);
    const nBlockColumns = this.#nBlockColumns = masks.length;
    const nBlock = entangled.length;

    // Level L holds at most L + 1 path elements (the placeholder and one per distinct player).
    const levels = Math.max(...forest.trees.map(treeDepth)) + 2;
    const pathSize = (levels * (levels + 1)) / 2;
    this.#pathPlayer = new Int32Array(pathSize);
    this.#pathZero = new Float64Array(pathSize);
    this.#pathOne = new Float64Array(pathSize);
    this.#pathWeight = new Float64Array(pathSize);
    this.#blockZero = new Float64Array(levels * nBlockColumns);
    this.#blockOne = new Float64Array(levels * nBlockColumns);
    this.#blockPresent = new Int32Array(levels);
    this.#subsetValue = new Float64Array(1 << nBlock);
    this.#bySize = new Float64Array(nBlock + 1);
    this.#marginal = new Float64Array(nBlock + 1);
    this.#byBlockSize = new Float64Array(nBlock + 1);
    this.#presentColumns = new Int32Array(nBlockColumns);
    this.#sizeWeight = new Float64Array(levels + 1);
    this.#ones = new Float64Array(levels + 1).fill(1);
    const most = levels + nBlock + 2;
    this.#shapley = new Float64Array(most + 1);
    this.#factorial = new Float64Array(most + 1);
    this.#inverseFactorial = new Float64Array(most + 1);
    this.#inverse = new Float64Array(most + 1);
    this.#factorial[0] = this.#inverseFactorial[0] = 1;
    for (let i = 1; i <= most; i++) {
      this.#factorial[i] = this.#factorial[i - 1] * i;
      this.#inverseFactorial[i] = 1 / this.#factorial[i];
      this.#inverse[i] = 1 / i;
    }

    let base = 0;
    for (const tree of forest.trees) base += expectedValue(tree);
    this.baseValue = base / forest.trees.length;
  }

  /** SHAP values of `row` (one per player), written to `out`: baseValue + Σ out = the forest's P(class 1). */
  shapValues(row: ArrayLike<number>, out: Float64Array = new Float64Array(this.nPlayers)): Float64Array {
    if (row.length !== this.#nFeatures) {
      throw new RangeError(`row has ${row.length} features, the forest expects ${this.#nFeatures}`);
    }
    for (let c = 0; c < row.length; c++) {
      if (row[c] - row[c] !== 0) throw new RangeError(`row[${c}] must be a finite number, got ${row[c]}`);
    }
    if (out.length !== this.nPlayers) throw new RangeError(`out must have ${this.nPlayers} entries`);
    out.fill(0);
    this.#row = row;
    this.#phi = out;
    this.#blockPresent[0] = 0;
    for (const tree of this.#trees) {
      this.#left = tree.childrenLeft;
      this.#right = tree.childrenRight;
      this.#feature = tree.feature;
      this.#threshold = tree.threshold;
      this.#value = tree.value;
      this.#cover = tree.weightedNNodeSamples;
      // The root extends the path with Algorithm 2's placeholder element (zero = one = 1).
      this.#recurse(0, 0, 0, 1, 1, NO_PLAYER, -1, 0, 0);
    }
    const scale = 1 / this.#trees.length;
    for (let p = 0; p < out.length; p++) out[p] *= scale;
    this.#row = [];
    this.#phi = new Float64Array(0);
    return out;
  }

  /**
   * Algorithm 2's RECURSE for `node` at depth `level`, reached with the fractions (`zero`, `one`)
   * of the split that led here: on `player` (extend the path with it) or on block column
   * `blockColumn` (update the block state, copied from `parentSlot` into this level's slot).
   * The parent's path is `parentLength` elements at `parentStart`; this call copies it behind.
   */
  #recurse(
    node: number,
    parentStart: number,
    parentLength: number,
    zero: number,
    one: number,
    player: number,
    blockColumn: number,
    level: number,
    parentSlot: number,
  ): void {
    const pathPlayer = this.#pathPlayer;
    const pathZero = this.#pathZero;
    const pathOne = this.#pathOne;
    const weight = this.#pathWeight;
    const start = parentStart + parentLength;
    for (let i = 0; i < parentLength; i++) {
      pathPlayer[start + i] = pathPlayer[parentStart + i];
      pathZero[start + i] = pathZero[parentStart + i];
      pathOne[start + i] = pathOne[parentStart + i];
      weight[start + i] = weight[parentStart + i];
    }
    let length = parentLength;
    let slot = parentSlot;
    const nBlock = this.#nBlockColumns;
    if (blockColumn >= 0) {
      slot = level;
      const from = parentSlot * nBlock, to = slot * nBlock;
      const blockZero = this.#blockZero, blockOne = this.#blockOne;
      const present = this.#blockPresent[parentSlot];
      for (let j = 0; j < nBlock; j++) {
        blockZero[to + j] = blockZero[from + j];
        blockOne[to + j] = blockOne[from + j];
      }
      blockZero[to + blockColumn] = zero;
      blockOne[to + blockColumn] = one;
      this.#blockPresent[slot] = present | (1 << blockColumn);
    } else {
      // EXTEND by (zero, one, player) as element `length`.
      pathPlayer[start + length] = player;
      pathZero[start + length] = zero;
      pathOne[start + length] = one;
      weight[start + length] = length === 0 ? 1 : 0;
      const inverse = this.#inverse[length + 1];
      for (let i = length - 1; i >= 0; i--) {
        const w = weight[start + i];
        weight[start + i + 1] += one * w * (i + 1) * inverse;
        weight[start + i] = zero * w * (length - i) * inverse;
      }
      length++;
    }

    const column = this.#feature[node];
    const left = this.#left[node];
    if (left === TREE_LEAF || column < 0) {
      this.#leaf(this.#value[node], start, length, slot);
      return;
    }
    const right = this.#right[node];
    const goesLeft = this.#row[column] <= this.#threshold[node];
    const hot = goesLeft ? left : right;
    const cold = goesLeft ? right : left;
    const cover = this.#cover;
    const hotRatio = cover[node] > 0 ? cover[hot] / cover[node] : 0;
    const coldRatio = cover[node] > 0 ? cover[cold] / cover[node] : 0;

    let incomingZero = 1;
    let incomingOne = 1;
    const childBlockColumn = this.#blockColumnOf[column];
    const childPlayer = this.#playerOf[column];
    if (childBlockColumn >= 0) {
      if (this.#blockPresent[slot] & (1 << childBlockColumn)) {
        incomingZero = this.#blockZero[slot * nBlock + childBlockColumn];
        incomingOne = this.#blockOne[slot * nBlock + childBlockColumn];
      }
    } else {
      for (let k = 1; k < length; k++) {
        if (pathPlayer[start + k] === childPlayer) {
          incomingZero = pathZero[start + k];
          incomingOne = pathOne[start + k];
          this.#unwind(start, length, k);
          length--;
          break;
        }
      }
    }
    // A child whose fractions are both 0 adds 0 at every leaf below it: skip it.
    const hotZero = incomingZero * hotRatio;
    if (hotZero !== 0 || incomingOne !== 0) {
      this.#recurse(hot, start, length, hotZero, incomingOne, childPlayer, childBlockColumn, level + 1, slot);
    }
    const coldZero = incomingZero * coldRatio;
    if (coldZero !== 0) {
      this.#recurse(cold, start, length, coldZero, 0, childPlayer, childBlockColumn, level + 1, slot);
    }
  }

  /** UNWIND: removes element `k` from the path of `length` elements at `start`, in place. */
  #unwind(start: number, length: number, k: number): void {
    const weight = this.#pathWeight;
    const last = length - 1;
    const one = this.#pathOne[start + k];
    const zero = this.#pathZero[start + k];
    const inverse = this.#inverse;
    if (one !== 0) {
      let next = weight[start + last];
      for (let i = last - 1; i >= 0; i--) {
        const kept = weight[start + i];
        weight[start + i] = next * (last + 1) * inverse[i + 1];
        next = kept - weight[start + i] * zero * (last - i) * inverse[last + 1];
      }
    } else {
      const scale = (last + 1) / zero;
      for (let i = last - 1; i >= 0; i--) weight[start + i] *= scale * inverse[last - i];
    }
    for (let i = k; i < last; i++) {
      this.#pathPlayer[start + i] = this.#pathPlayer[start + i + 1];
      this.#pathZero[start + i] = this.#pathZero[start + i + 1];
      this.#pathOne[start + i] = this.#pathOne[start + i + 1];
    }
  }

  /**
   * Adds a leaf's share to every player on its path. For each path element, Σ_j u_j · sizeWeight[j],
   * u being the path weights with the element unwound, is its Shapley-weighted sum over the
   * coalitions of the others; sizeWeight ≡ 1 without a block (Algorithm 2's unwound sum).
   */
  #leaf(value: number, start: number, length: number, slot: number): void {
    const present = this.#blockPresent[slot];
    const simple = length - 1; // players on the path besides the placeholder
    const sizeWeight = present === 0 ? this.#ones : this.#blockLeaf(value, start, simple, slot);
    const phi = this.#phi;
    const pathPlayer = this.#pathPlayer;
    const pathZero = this.#pathZero;
    const pathOne = this.#pathOne;
    const weight = this.#pathWeight;
    const inverse = this.#inverse;
    const last = simple;
    let zeroShare = NaN;
    for (let k = 1; k < length; k++) {
      const zero = pathZero[start + k];
      if (pathOne[start + k] === 0) {
        // (0 − zero) · Σ_i weight_i (last + 1) / (zero (last − i)) · sizeWeight_i: zero cancels.
        if (zeroShare !== zeroShare) {
          zeroShare = 0;
          for (let i = 0; i < last; i++) zeroShare += weight[start + i] * sizeWeight[i] * inverse[last - i];
          zeroShare *= last + 1;
        }
        phi[pathPlayer[start + k]] -= zeroShare * value;
      } else {
        let next = weight[start + last];
        let total = 0;
        for (let i = last - 1; i >= 0; i--) {
          const unwound = next * inverse[i + 1];
          total += unwound * sizeWeight[i];
          next = weight[start + i] - unwound * zero * (last - i);
        }
        phi[pathPlayer[start + k]] += (1 - zero) * total * (last + 1) * value;
      }
    }
  }

  /**
   * The entangled block's part of a leaf: adds the block players' shares and returns the size
   * weights the simple players' unwound sums need.
   *
   * For each subset U of the block players on the path, the block's factor h(U) is the product over
   * its columns on the path of `one` when U holds all the column's players, else `zero`. With n
   * players in all (the `simple` ones and the block's), a simple player's coalitions of j simple
   * and r block players weigh shapley(j + r) and the block contributes Σ_{|U|=r} h(U); a block
   * player b gains Σ_{|U|=r, b∉U} h(U ∪ b) − h(U) over the simple players' subset sums by size,
   * which the path weights hold up to the factor (simple + 1)! / (j! (simple − j)!).
   */
  #blockLeaf(value: number, start: number, simple: number, slot: number): Float64Array {
    const nBlock = this.#nBlockColumns;
    const present = this.#blockPresent[slot];
    const zeroOf = this.#blockZero, oneOf = this.#blockOne, masks = this.#blockColumnMask;
    const offset = slot * nBlock;
    const columns = this.#presentColumns;
    let nColumns = 0;
    let players = 0;
    for (let j = 0; j < nBlock; j++) {
      if (present & (1 << j)) {
        columns[nColumns++] = j;
        players |= masks[j];
      }
    }
    const h = this.#subsetValue;
    const bySize = this.#bySize;
    const entangled = popcount(players);
    bySize.fill(0, 0, entangled + 1);
    for (let u = players;; u = (u - 1) & players) {
      let product = 1;
      for (let c = 0; c < nColumns; c++) {
        const j = columns[c];
        product *= (masks[j] & ~u) === 0 ? oneOf[offset + j] : zeroOf[offset + j];
      }
      h[u] = product;
      bySize[popcount(u)] += product;
      if (u === 0) break;
    }

    const n = simple + entangled;
    const f = this.#factorial, inverseF = this.#inverseFactorial;
    const shapley = this.#shapley;
    for (let s = 0; s < n; s++) shapley[s] = f[s] * f[n - 1 - s] * inverseF[n];

    // Block players.
    const weight = this.#pathWeight;
    const byBlockSize = this.#byBlockSize;
    for (let r = 0; r < entangled; r++) {
      let sum = 0;
      for (let j = 0; j <= simple; j++) {
        sum += weight[start + j] * inverseF[j] * inverseF[simple - j] * shapley[j + r];
      }
      byBlockSize[r] = sum * f[simple + 1];
    }
    const marginal = this.#marginal;
    const phi = this.#phi;
    for (let rest = players; rest !== 0; rest &= rest - 1) {
      const b = rest & -rest;
      const others = players & ~b;
      marginal.fill(0, 0, entangled);
      for (let u = others;; u = (u - 1) & others) {
        marginal[popcount(u)] += h[u | b] - h[u];
        if (u === 0) break;
      }
      let sum = 0;
      for (let r = 0; r < entangled; r++) sum += marginal[r] * byBlockSize[r];
      phi[this.#blockPlayers[31 - Math.clz32(b)]] += sum * value;
    }

    // Size weights of the simple players, renormalised from `simple` players to n.
    const sizeWeight = this.#sizeWeight;
    for (let j = 0; j < simple; j++) {
      let sum = 0;
      for (let r = 0; r <= entangled; r++) sum += bySize[r] * shapley[j + r];
      sizeWeight[j] = sum * f[simple] * inverseF[j] * inverseF[simple - 1 - j];
    }
    return sizeWeight;
  }
}

/** The tree's cover-weighted mean leaf value: its prediction with nothing known. */
export function expectedValue(tree: FlatTree): number {
  // Children have larger ids than their parent, so one backward sweep sees children first.
  const expected = new Float64Array(tree.nodeCount);
  const cover = tree.weightedNNodeSamples;
  for (let node = tree.nodeCount - 1; node >= 0; node--) {
    const left = tree.childrenLeft[node];
    if (left === TREE_LEAF) {
      expected[node] = tree.value[node];
      continue;
    }
    const right = tree.childrenRight[node];
    expected[node] = cover[node] > 0
      ? (cover[left] / cover[node]) * expected[left] + (cover[right] / cover[node]) * expected[right]
      : 0;
  }
  return expected[0];
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
