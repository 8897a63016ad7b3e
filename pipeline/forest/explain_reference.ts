/**
 * The test oracle for `explain.ts`: exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018,
 * "Consistent individualized feature attribution for tree ensembles", Algorithm 2) over player
 * groups, the implementation production used before the quadrature algorithm replaced it. Kept
 * as an independent second algorithm for the same values; nothing in production imports it.
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
 * a path the block's factor is a function of which of its players are known, kept for every
 * subset of them and multiplied by each split on a block column, then combined at the leaf with
 * the path's weights by coalition size. The result is still the exact Shapley value of the player
 * game, so local accuracy, symmetry and dummy hold for the players. The block must stay small (at
 * most {@link MAX_ENTANGLED_PLAYERS} players); German Credit's engineered features tie four.
 *
 * ```ts
 * import { BalancedRandomForest } from "./mod.ts";
 * import { ReferenceTreeShapExplainer } from "./explain_reference.ts";
 * const X = [[0, 1], [1, 0], [0, 0], [1, 1]];
 * const forest = new BalancedRandomForest({ nEstimators: 10, seed: 1 }).fit(X, [0, 1, 0, 1]);
 * const explainer = new ReferenceTreeShapExplainer(forest);
 * const phi = explainer.shapValues([1, 0]);
 * const p = explainer.baseValue + phi[0] + phi[1]; // forest.predictProbaOne([1, 0]), to rounding
 * ```
 * @module
 */

import { type FlatTree, TREE_LEAF, treeDepth } from "./tree.ts";
import { expectedValue, type ExplainableForest, MAX_ENTANGLED_PLAYERS, type ShapPlayers } from "./explain.ts";

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
export class ReferenceTreeShapExplainer {
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

  // The path: its elements (player, zero and one fraction) as a stack, its weights a row per level.
  readonly #pathPlayer: Int32Array;
  readonly #pathZero: Float64Array;
  readonly #pathOne: Float64Array;
  readonly #pathWeight: Float64Array;
  readonly #weightStride: number;
  // Block state in slots: the block players on the path, and the block's factor h(U) for every
  // subset U of the block players (the product over its columns on the path of `one` when U holds
  // all the column's players, else `zero`). A node not split on a block column keeps its parent's
  // slot; one that is multiplies the parent's factors by the split's fraction into its own.
  readonly #blockSubsets: number;
  readonly #blockOnPath: Int32Array;
  readonly #subsetValue: Float64Array;
  /** Block column j, subset U → 1 when U holds all of j's players (at j · #blockSubsets + U). */
  readonly #columnKnown: Uint8Array;
  readonly #subsetSize: Uint8Array;
  /** Per slot, h summed by subset size: all subsets, then those holding each block player. */
  readonly #slotSums: Float64Array;
  readonly #slotSumsStride: number;
  readonly #slotSummed: Uint8Array;
  // Leaf scratch.
  readonly #byBlockSize: Float64Array;
  readonly #sizeWeight: Float64Array;
  readonly #ones: Float64Array;
  readonly #inverse: Float64Array;
  /**
   * Leaf weights with a block, by (simple players, block players, j, r) at
   * ((simple · #sizeStride + block) · #simpleStride + j · #sizeStride + r): the Shapley weight of a
   * coalition of j simple and r block players, times the factor that turns path weights into
   * subset sums, for a simple player's unwound weights and for the block players' path weights.
   */
  readonly #simpleSizeWeight: Float64Array;
  readonly #blockSizeWeight: Float64Array;
  readonly #sizeStride: number;
  readonly #simpleStride: number;
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
    if (forest.trees.length === 0) {
      throw new Error("ReferenceTreeShapExplainer needs a fitted forest (no trees)");
    }
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

    // At depth L the path has at most L + 1 elements (the placeholder and one per distinct
    // player); each unwinding ancestor left at most as many behind.
    const levels = Math.max(...forest.trees.map(treeDepth)) + 2;
    const pathSize = (levels * (levels + 1)) / 2 + levels;
    this.#pathPlayer = new Int32Array(pathSize);
    this.#pathZero = new Float64Array(pathSize);
    this.#pathOne = new Float64Array(pathSize);
    this.#weightStride = levels;
    this.#pathWeight = new Float64Array(levels * levels);
    const subsets = this.#blockSubsets = 1 << nBlock;
    this.#blockOnPath = new Int32Array(levels);
    this.#subsetValue = new Float64Array(levels * subsets);
    this.#columnKnown = new Uint8Array(nBlockColumns * subsets);
    this.#subsetSize = new Uint8Array(subsets);
    for (let u = 0; u < subsets; u++) {
      this.#subsetSize[u] = popcount(u);
      for (let j = 0; j < nBlockColumns; j++) {
        this.#columnKnown[j * subsets + u] = (masks[j] & ~u) === 0 ? 1 : 0;
      }
    }
    this.#slotSumsStride = (nBlock + 1) * (nBlock + 1);
    this.#slotSums = new Float64Array(levels * this.#slotSumsStride);
    this.#slotSummed = new Uint8Array(levels);
    this.#byBlockSize = new Float64Array(nBlock + 1);
    this.#sizeWeight = new Float64Array(levels + 1);
    this.#ones = new Float64Array(levels + 1).fill(1);
    this.#inverse = Float64Array.from({ length: levels + 2 }, (_, i) => 1 / i);
    const f = Float64Array.from({ length: levels + nBlock + 2 }, (_, i) => factorial(i));
    const stride = this.#sizeStride = nBlock + 1;
    const simpleStride = this.#simpleStride = (levels + 1) * stride;
    this.#simpleSizeWeight = new Float64Array(nBlock > 0 ? levels * stride * simpleStride : 0);
    this.#blockSizeWeight = new Float64Array(this.#simpleSizeWeight.length);
    for (let simple = 0; simple < levels && nBlock > 0; simple++) {
      for (let block = 1; block <= nBlock; block++) {
        const n = simple + block;
        const at = (simple * stride + block) * simpleStride;
        for (let j = 0; j <= simple; j++) {
          for (let r = 0; r <= block && j + r < n; r++) {
            const shapley = (f[j + r] * f[n - 1 - j - r]) / f[n];
            if (j < simple) {
              this.#simpleSizeWeight[at + j * stride + r] = (shapley * f[simple]) /
                (f[j] * f[simple - 1 - j]);
            }
            if (r < block) {
              this.#blockSizeWeight[at + j * stride + r] = (shapley * f[simple + 1]) / (f[j] * f[simple - j]);
            }
          }
        }
      }
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
    this.#blockOnPath[0] = 0;
    this.#subsetValue[0] = 1;
    this.#slotSummed[0] = 0;
    for (const tree of this.#trees) {
      this.#left = tree.childrenLeft;
      this.#right = tree.childrenRight;
      this.#feature = tree.feature;
      this.#threshold = tree.threshold;
      this.#value = tree.value;
      this.#cover = tree.weightedNNodeSamples;
      // The root extends the path with Algorithm 2's placeholder element (zero = one = 1).
      this.#recurse(0, 0, 0, 0, 1, 1, NO_PLAYER, -1, 0, 0);
    }
    const scale = 1 / this.#trees.length;
    for (let p = 0; p < out.length; p++) out[p] *= scale;
    this.#row = [];
    this.#phi = new Float64Array(0);
    return out;
  }

  /**
   * Algorithm 2's RECURSE for `node` at depth `level`, reached by a split on `player` with the
   * fractions (`zero`, `one`) (extend the path with it), or by a split on block column
   * `blockColumn` with the cover ratio `zero` and `one` = whether x goes this way (the parent's
   * block slot `parentSlot`, times these, becomes this level's slot).
   *
   * The paper copies the path at every level. Here its elements are a stack that a child extends
   * in place at `pathAt + parentLength` (a sibling overwrites it later); only a node that unwinds
   * an element copies the rest behind, since its ancestors still need them. The weights change
   * with every extension, so each level has its own row (`level · #weightStride`), written from
   * the parent's row at `parentWeightAt`.
   */
  #recurse(
    node: number,
    pathAt: number,
    parentLength: number,
    parentWeightAt: number,
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
    let length = parentLength;
    let weightAt = parentWeightAt;
    let slot = parentSlot;
    if (blockColumn >= 0) {
      // The path is the parent's (weights too, until an unwind here needs a row of its own).
      slot = level;
      const subsets = this.#blockSubsets;
      const h = this.#subsetValue, known = this.#columnKnown;
      const from = parentSlot * subsets, to = slot * subsets, column = blockColumn * subsets;
      const before = this.#blockOnPath[parentSlot];
      const players = before | this.#blockColumnMask[blockColumn];
      for (let u = players;; u = (u - 1) & players) {
        h[to + u] = h[from + (u & before)] * (known[column + u] ? one : zero);
        if (u === 0) break;
      }
      this.#blockOnPath[slot] = players;
      this.#slotSummed[slot] = 0;
    } else {
      // EXTEND by (zero, one, player) as element `length`.
      weightAt = level * this.#weightStride;
      pathPlayer[pathAt + length] = player;
      pathZero[pathAt + length] = zero;
      pathOne[pathAt + length] = one;
      if (length === 0) {
        weight[weightAt] = 1;
      } else {
        const inverse = this.#inverse[length + 1];
        let previous = 0;
        for (let i = 0; i < length; i++) {
          const w = weight[parentWeightAt + i];
          weight[weightAt + i] = (zero * w * (length - i) + one * previous * i) * inverse;
          previous = w;
        }
        weight[weightAt + length] = one * previous * length * inverse;
      }
      length++;
    }

    const column = this.#feature[node];
    const left = this.#left[node];
    if (left === TREE_LEAF || column < 0) {
      this.#leaf(this.#value[node], pathAt, weightAt, length, slot);
      return;
    }
    const right = this.#right[node];
    const goesLeft = this.#row[column] <= this.#threshold[node];
    const hot = goesLeft ? left : right;
    const cold = goesLeft ? right : left;
    const cover = this.#cover;
    const hotRatio = cover[node] > 0 ? cover[hot] / cover[node] : 0;
    const coldRatio = cover[node] > 0 ? cover[cold] / cover[node] : 0;

    const childBlockColumn = this.#blockColumnOf[column];
    if (childBlockColumn >= 0) {
      this.#recurse(hot, pathAt, length, weightAt, hotRatio, 1, NO_PLAYER, childBlockColumn, level + 1, slot);
      // With no cover the cold side's factors are all 0.
      if (coldRatio !== 0) {
        this.#recurse(
          cold,
          pathAt,
          length,
          weightAt,
          coldRatio,
          0,
          NO_PLAYER,
          childBlockColumn,
          level + 1,
          slot,
        );
      }
      return;
    }
    let incomingZero = 1;
    let incomingOne = 1;
    const childPlayer = this.#playerOf[column];
    for (let k = 1; k < length; k++) {
      if (pathPlayer[pathAt + k] !== childPlayer) continue;
      // UNWIND element k, so the children extend with the merged split.
      incomingZero = pathZero[pathAt + k];
      incomingOne = pathOne[pathAt + k];
      const ownRow = level * this.#weightStride;
      if (weightAt !== ownRow) {
        for (let i = 0; i < length; i++) weight[ownRow + i] = weight[weightAt + i];
        weightAt = ownRow;
      }
      this.#unwindWeights(weightAt, length, incomingZero, incomingOne);
      const copyAt = pathAt + length;
      for (let i = 0, to = copyAt; i < length; i++) {
        if (i === k) continue;
        pathPlayer[to] = pathPlayer[pathAt + i];
        pathZero[to] = pathZero[pathAt + i];
        pathOne[to] = pathOne[pathAt + i];
        to++;
      }
      pathAt = copyAt;
      length--;
      break;
    }
    // A child whose fractions are both 0 adds 0 at every leaf below it: skip it.
    const hotZero = incomingZero * hotRatio;
    if (hotZero !== 0 || incomingOne !== 0) {
      this.#recurse(hot, pathAt, length, weightAt, hotZero, incomingOne, childPlayer, -1, level + 1, slot);
    }
    const coldZero = incomingZero * coldRatio;
    if (coldZero !== 0) {
      this.#recurse(cold, pathAt, length, weightAt, coldZero, 0, childPlayer, -1, level + 1, slot);
    }
  }

  /** UNWIND's weights: removes an element with fractions (zero, one) from `length` weights at `at`. */
  #unwindWeights(at: number, length: number, zero: number, one: number): void {
    const weight = this.#pathWeight;
    const last = length - 1;
    const inverse = this.#inverse;
    if (one !== 0) {
      let next = weight[at + last];
      for (let i = last - 1; i >= 0; i--) {
        const kept = weight[at + i];
        weight[at + i] = next * (last + 1) * inverse[i + 1];
        next = kept - weight[at + i] * zero * (last - i) * inverse[last + 1];
      }
    } else {
      const scale = (last + 1) / zero;
      for (let i = last - 1; i >= 0; i--) weight[at + i] *= scale * inverse[last - i];
    }
  }

  /**
   * Adds a leaf's share to every player on its path. For each path element, Σ_j u_j · sizeWeight[j],
   * u being the path weights with the element unwound, is its Shapley-weighted sum over the
   * coalitions of the others; sizeWeight ≡ 1 without a block (Algorithm 2's unwound sum).
   */
  #leaf(value: number, pathAt: number, weightAt: number, length: number, slot: number): void {
    const simple = length - 1; // players on the path besides the placeholder
    const sizeWeight = this.#blockOnPath[slot] === 0
      ? this.#ones
      : this.#blockLeaf(value, weightAt, simple, slot);
    const phi = this.#phi;
    const pathPlayer = this.#pathPlayer;
    const pathZero = this.#pathZero;
    const pathOne = this.#pathOne;
    const weight = this.#pathWeight;
    const inverse = this.#inverse;
    const last = simple;
    let zeroShare = NaN;
    for (let k = 1; k < length; k++) {
      const zero = pathZero[pathAt + k];
      if (pathOne[pathAt + k] === 0) {
        // (0 − zero) · Σ_i weight_i (last + 1) / (zero (last − i)) · sizeWeight_i: zero cancels.
        if (zeroShare !== zeroShare) {
          zeroShare = 0;
          for (let i = 0; i < last; i++) {
            zeroShare += weight[weightAt + i] * sizeWeight[i] * inverse[last - i];
          }
          zeroShare *= last + 1;
        }
        phi[pathPlayer[pathAt + k]] -= zeroShare * value;
      } else {
        let next = weight[weightAt + last];
        let total = 0;
        for (let i = last - 1; i >= 0; i--) {
          const unwound = next * inverse[i + 1];
          total += unwound * sizeWeight[i];
          next = weight[weightAt + i] - unwound * zero * (last - i);
        }
        phi[pathPlayer[pathAt + k]] += (1 - zero) * total * (last + 1) * value;
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
  #blockLeaf(value: number, weightAt: number, simple: number, slot: number): Float64Array {
    const players = this.#blockOnPath[slot];
    const size = this.#subsetSize;
    const entangled = size[players];
    const stride = this.#sizeStride;
    const at = (simple * stride + entangled) * this.#simpleStride;

    // byBlockSize[r]: Σ over coalitions of r block players and any simple ones of the simple
    // players' factors times the Shapley weight.
    const weight = this.#pathWeight;
    const blockWeight = this.#blockSizeWeight;
    const byBlockSize = this.#byBlockSize;
    for (let r = 0; r <= entangled; r++) byBlockSize[r] = 0;
    for (let j = 0, row = at; j <= simple; j++, row += stride) {
      const w = weight[weightAt + j];
      for (let r = 0; r < entangled; r++) byBlockSize[r] += w * blockWeight[row + r];
    }
    // Block player b gains Σ_{U∌b} (h(U ∪ b) − h(U)) · byBlockSize[|U|], which is
    // Σ_s withPlayer_b[s] · (byBlockSize[s − 1] + byBlockSize[s]) − Σ_s all[s] · byBlockSize[s]
    // with the slot's sums of h by subset size: over all subsets (all), and those holding b.
    const sumsAt = slot * this.#slotSumsStride;
    if (this.#slotSummed[slot] === 0) this.#sumSlot(slot, sumsAt);
    const sums = this.#slotSums;
    let common = 0;
    for (let s = 0; s < entangled; s++) common += sums[sumsAt + s] * byBlockSize[s];
    const phi = this.#phi;
    const blockPlayers = this.#blockPlayers;
    const sizeStride = this.#sizeStride;
    for (let rest = players; rest !== 0; rest &= rest - 1) {
      const b = 31 - Math.clz32(rest & -rest);
      const withPlayer = sumsAt + (b + 1) * sizeStride;
      let gain = 0;
      for (let s = 1; s <= entangled; s++) {
        gain += sums[withPlayer + s] * (byBlockSize[s - 1] + byBlockSize[s]);
      }
      phi[blockPlayers[b]] += (gain - common) * value;
    }

    // Size weights of the simple players: the block's subset sums by size, convolved with the
    // Shapley weights of n players and renormalised from `simple` players.
    const sizeWeight = this.#sizeWeight;
    const simpleWeight = this.#simpleSizeWeight;
    for (let j = 0, row = at; j < simple; j++, row += stride) {
      let sum = 0;
      for (let r = 0; r <= entangled; r++) sum += sums[sumsAt + r] * simpleWeight[row + r];
      sizeWeight[j] = sum;
    }
    return sizeWeight;
  }

  /** Sums the slot's h by subset size: over all subsets of its players, then per player b over those holding b. */
  #sumSlot(slot: number, at: number): void {
    const players = this.#blockOnPath[slot];
    const h = this.#subsetValue;
    const hAt = slot * this.#blockSubsets;
    const size = this.#subsetSize;
    const sums = this.#slotSums;
    for (let i = 0; i < this.#slotSumsStride; i++) sums[at + i] = 0;
    const stride = this.#sizeStride;
    for (let u = players;; u = (u - 1) & players) {
      const factor = h[hAt + u];
      const s = size[u];
      sums[at + s] += factor;
      for (let rest = u; rest !== 0; rest &= rest - 1) {
        sums[at + (32 - Math.clz32(rest & -rest)) * stride + s] += factor;
      }
      if (u === 0) break;
    }
    this.#slotSummed[slot] = 1;
  }
}

function factorial(n: number): number {
  let f = 1;
  for (let i = 2; i <= n; i++) f *= i;
  return f;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
