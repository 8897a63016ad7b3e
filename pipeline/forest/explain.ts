/**
 * Exact path-dependent TreeSHAP values of the forest's P(class 1), for columns or for groups of
 * columns ("players"), in O(nodes · K) per tree: the Linear TreeShap idea (Yu et al., NeurIPS
 * 2022) in its numerically stable form, by Gauss–Legendre quadrature over t ∈ [0, 1].
 *
 * A tree's game is v(S) = E[f(x) | x_S], the path-dependent expectation (a split on a known
 * player follows x, one on an unknown player averages its children by cover). Along the path to
 * a leaf every player p has a merged factor: z_p (the product of its splits' cover ratios) when
 * unknown, o_p ∈ {0, 1} (whether x takes every one of its splits the path's way) when known.
 * Shapley's formula is an integral: with every other player known with probability t,
 *   φ_p = Σ_leaves v · ∫₀¹ (o_p − z_p) · Π_{q ≠ p} (z_q (1 − t) + o_q t) dt,
 * whose integrand is a polynomial of degree below the number n of players on the path, so
 * K = ⌈n / 2⌉ Gauss–Legendre points (explain_quadrature.ts) integrate it exactly. The evaluation
 * at points makes the rest additive: the product down the path is a K-vector G, the sums of v · G
 * over the leaves below a node come back up as a K-vector S, and a split on p adds
 * ∫ S · d/dt-free "log-derivative" of its factor, (o − z) / f, minus that of p's previous factor
 * on the path, so repeated splits on a player telescope into its merged factor (this is why the
 * precomputed inverses of the factors are needed). Every point t is inside (0, 1) and the weights
 * are positive, which avoids Linear TreeShap's ill-conditioned interpolation on deep trees.
 *
 * Players need not be columns. Each column names the players it is computed from and is known once
 * all of them are. A column of one player (a numeric attribute, or one of several one-hot columns
 * of an attribute) is an ordinary factor of its player. Columns computed from several players
 * (engineered features) tie those players: their joint factor h(U) depends on which subset U of
 * them is known. Such a block is kept only while it has to be: players join it at the first
 * multi-player split on the path that names them (their factors so far move into h), and leave it
 * when x contradicts one of their own splits (h is then zero whenever they are known, so they are
 * ordinary contradicted players again). A block player's share of the leaves under one block state
 * is Σ_{U ∌ b} (h(U ∪ b) − h(U)) times moments of those leaves' other factors. At most
 * {@link MAX_ENTANGLED_PLAYERS} players may be tied; German Credit's engineered features tie four.
 *
 * The previous algorithm (Lundberg et al.'s Algorithm 2, O(leaves · depth²)) is kept in
 * explain_reference.ts as the test oracle.
 *
 * ```ts
 * import { BalancedRandomForest, TreeShapExplainer } from "./mod.ts";
 * const X = [[0, 1], [1, 0], [0, 0], [1, 1]];
 * const forest = new BalancedRandomForest({ nEstimators: 10, seed: 1 }).fit(X, [0, 1, 0, 1]);
 * const explainer = new TreeShapExplainer(forest);
 * const phi = explainer.shapValues([1, 0]);
 * const p = explainer.baseValue + phi[0] + phi[1]; // forest.predictProbaOne([1, 0]), to rounding
 * ```
 * @module
 */

import { type FlatTree, TREE_LEAF } from "./tree.ts";
import { columnRoles, type ForestPlan, MULTI, planForest, SIMPLE, SINGLE } from "./explain_plan.ts";
import { type PointTables, pointTables } from "./explain_quadrature.ts";

/** Players a block may tie: its state has 2^n entries per path level. */
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

/**
 * SHAP values of a forest's P(class 1): the mean over trees of each tree's exact path-dependent
 * TreeSHAP values. The forest is flattened and everything that does not depend on the row is
 * computed once here; {@link shapValues} allocates nothing when given `out`. Not reentrant: one
 * explainer per thread.
 */
export class TreeShapExplainer {
  /** Number of players (columns unless `players` was given). */
  readonly nPlayers: number;
  /** Mean over trees of the tree's cover-weighted expected value: the prediction with nothing known. */
  readonly baseValue: number;
  readonly #nFeatures: number;
  readonly #plan: ForestPlan;
  readonly #kind: Uint8Array;
  readonly #player: Int32Array;
  readonly #bit: Int32Array;
  readonly #unit: Int32Array;
  readonly #unitMask: Int32Array;
  readonly #tiedPlayers: Int32Array;
  /** Players a block may hold (bits of the tied players). */
  readonly #blockBits: number;
  readonly #tables: readonly PointTables[];
  /** Width of every K-vector slot: the forest's largest K. */
  readonly #stride: number;
  /** First block-state slot of the entangling scratch (one per level). */
  readonly #entangleSlots: number;
  readonly #popcount: Uint8Array;

  // Per slot (2 · level + side, side 0 for the hot child): the product G of the path's factors
  // without the block's, S = Σ v · G · H over the leaves below, and the same without H.
  readonly #g: Float64Array;
  readonly #s: Float64Array;
  readonly #sFree: Float64Array;
  readonly #entangledG: Float64Array;
  /** Per level: 1 / (z + (1 − z) t), the inverse of the factor a split's hot child at that level set. */
  readonly #inverse: Float64Array;
  // Block states by slot: the players tied (bits), h(U) for each subset U of them, H at the points.
  readonly #tied: Int32Array;
  readonly #h: Float64Array;
  readonly #hAtPoints: Float64Array;
  readonly #bySize: Float64Array;
  readonly #moments: Float64Array;
  // Who has been contradicted on the current path, and tied players' factors while not in a block.
  readonly #failed: Uint8Array;
  readonly #failedUnit: Uint8Array;
  #dead = 0;
  readonly #tiedZero: Float64Array;
  readonly #tiedInverse: Int32Array;
  readonly #row: Float64Array;
  readonly #phi: Float64Array;
  // The tree being explained: its number of points and tables.
  #k = 0;
  #points: PointTables;

  /** Prepares to explain `forest`; `players` groups columns (default: one player per column). */
  constructor(forest: ExplainableForest, players?: ShapPlayers) {
    if (forest.trees.length === 0) throw new Error("TreeShapExplainer needs a fitted forest (no trees)");
    const nFeatures = this.#nFeatures = forest.nFeaturesIn;
    const ofColumn = players?.ofColumn ?? Array.from({ length: nFeatures }, (_, c) => [c]);
    const nPlayers = this.nPlayers = players?.count ?? nFeatures;
    if (ofColumn.length !== nFeatures) {
      throw new RangeError(`players.ofColumn has ${ofColumn.length} columns, the forest ${nFeatures}`);
    }
    ofColumn.forEach((owners, c) => {
      if (owners.length === 0) throw new RangeError(`column ${c} has no player`);
      for (const p of owners) {
        if (!Number.isInteger(p) || p < 0 || p >= nPlayers) {
          throw new RangeError(`column ${c} names player ${p}, outside 0..${nPlayers - 1}`);
        }
      }
    });
    const roles = columnRoles(ofColumn);
    const nTied = roles.tiedPlayers.length;
    if (nTied > MAX_ENTANGLED_PLAYERS) {
      throw new RangeError(
        `${nTied} players are tied by multi-player columns; at most ${MAX_ENTANGLED_PLAYERS} are supported`,
      );
    }
    this.#kind = roles.kind;
    this.#player = roles.player;
    this.#bit = roles.bit;
    this.#unit = roles.unit;
    this.#unitMask = roles.unitMask;
    this.#tiedPlayers = roles.tiedPlayers;
    this.#blockBits = nTied;
    const plan = this.#plan = planForest(forest.trees, ofColumn, nPlayers, roles);
    const stride = this.#stride = plan.maxPoints;
    this.#tables = pointTables(stride, nTied);
    this.#points = this.#tables[1];
    this.#popcount = Uint8Array.from({ length: 1 << nTied }, (_, u) => popcount(u));

    const levels = plan.maxDepth + 1;
    this.#g = new Float64Array(2 * levels * stride);
    this.#s = new Float64Array(2 * levels * stride);
    this.#sFree = new Float64Array(2 * levels * stride);
    this.#entangledG = new Float64Array(levels * stride);
    this.#inverse = new Float64Array(levels * stride);
    this.#entangleSlots = levels + 1;
    const slots = 2 * levels + 1;
    this.#tied = new Int32Array(slots);
    this.#h = new Float64Array(slots << nTied);
    this.#hAtPoints = new Float64Array(slots * stride);
    this.#bySize = new Float64Array(nTied + 1);
    this.#moments = new Float64Array(nTied + 1);
    this.#failed = new Uint8Array(nPlayers);
    this.#failedUnit = new Uint8Array(roles.unitMask.length);
    this.#tiedZero = new Float64Array(nTied).fill(1);
    this.#tiedInverse = new Int32Array(nTied).fill(-1);
    this.#row = new Float64Array(nFeatures);
    this.#phi = new Float64Array(nPlayers);

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
      this.#row[c] = row[c];
    }
    if (out.length !== this.nPlayers) throw new RangeError(`out must have ${this.nPlayers} entries`);
    const phi = this.#phi;
    phi.fill(0);
    const plan = this.#plan;
    const g = this.#g;
    for (let t = 0; t < plan.roots.length; t++) {
      const k = this.#k = plan.pointsOfTree[t];
      this.#points = this.#tables[k];
      for (let i = 0; i < k; i++) g[i] = 1;
      this.#h[0] = 1;
      this.#tied[0] = 0;
      this.#dead = 0;
      this.#visit(plan.roots[t], 0, 0, 0);
    }
    const scale = 1 / plan.roots.length;
    for (let p = 0; p < out.length; p++) out[p] = phi[p] * scale;
    return out;
  }

  /** Visits `node` at `level` in slot 2 · level + side, whose G is set; writes its S (and S free). */
  #visit(node: number, level: number, side: number, state: number): void {
    const k = this.#k;
    const at = (2 * level + side) * this.#stride;
    const plan = this.#plan;
    const left = plan.left[node];
    if (left < 0) {
      const v = plan.value[node];
      const g = this.#g, s = this.#s;
      if (this.#tied[state] === 0) {
        for (let i = 0; i < k; i++) s[at + i] = v * g[at + i];
      } else {
        const free = this.#sFree, h = this.#hAtPoints, hAt = state * this.#stride;
        for (let i = 0; i < k; i++) {
          const x = v * g[at + i];
          free[at + i] = x;
          s[at + i] = x * h[hAt + i];
        }
      }
      return;
    }
    const column = plan.column[node];
    const goesLeft = this.#row[column] <= plan.threshold[node];
    const hot = goesLeft ? left : plan.right[node];
    const cold = goesLeft ? plan.right[node] : left;
    const kind = this.#kind[column];
    if (kind === SIMPLE) {
      const p = this.#player[column];
      if (this.#failed[p] === 0) return this.#simpleSplit(node, p, -1, hot, cold, level, at, state);
    } else if (kind === SINGLE) {
      const b = this.#bit[column];
      if ((this.#tied[state] & (1 << b)) !== 0) {
        return this.#blockSplit(1 << b, -1, hot, cold, level, at, state);
      }
      const p = this.#player[column];
      if (this.#failed[p] === 0) return this.#simpleSplit(node, p, b, hot, cold, level, at, state);
    } else if (kind === MULTI) {
      const u = this.#unit[column];
      const mask = this.#unitMask[u];
      if (this.#failedUnit[u] === 0 && (mask & this.#dead) === 0) {
        return this.#blockSplit(mask, u, hot, cold, level, at, state);
      }
    }
    this.#constantSplit(hot, cold, level, at, state);
  }

  /** A split whose factors are constants: on a player x has already contradicted. */
  #constantSplit(hot: number, cold: number, level: number, at: number, state: number): void {
    const k = this.#k, stride = this.#stride;
    const g = this.#g, s = this.#s, free = this.#sFree;
    const ratio = this.#plan.coverRatio;
    const hotRatio = ratio[hot], coldRatio = ratio[cold];
    const hotAt = (2 * level + 2) * stride, coldAt = hotAt + stride;
    const withFree = this.#tied[state] !== 0;
    const left = this.#plan.left, value = this.#plan.value;
    const hotLeaf = !withFree && left[hot] < 0, coldLeaf = !withFree && left[cold] < 0;
    const hotValue = hotLeaf ? value[hot] : 0, coldValue = coldLeaf ? value[cold] : 0;
    for (let i = 0; i < k; i++) {
      const x = g[at + i];
      const gHot = x * hotRatio, gCold = x * coldRatio;
      g[hotAt + i] = gHot;
      g[coldAt + i] = gCold;
      s[hotAt + i] = hotValue * gHot;
      s[coldAt + i] = coldValue * gCold;
    }
    if (hotLeaf) {
      // done above
    } else if (hotRatio !== 0) this.#visit(hot, level + 1, 0, state);
    else this.#clear(hotAt, withFree);
    if (coldLeaf) {
      // done above
    } else if (coldRatio !== 0) this.#visit(cold, level + 1, 1, state);
    else this.#clear(coldAt, withFree);
    for (let i = 0; i < k; i++) s[at + i] = s[hotAt + i] + s[coldAt + i];
    if (withFree) { for (let i = 0; i < k; i++) free[at + i] = free[hotAt + i] + free[coldAt + i]; }
  }

  /**
   * A split on player p, not yet contradicted on the path (`b` its bit if it is a tied player out of
   * a block, else -1). The hot child's factor becomes z + (1 − z) t, the cold child's z (1 − t),
   * replacing p's previous factor; p gains ∫ S · (o − z) / f for each child less ∫ S · (1 − z') / f'
   * for the previous factor f' that no longer applies below.
   */
  #simpleSplit(
    node: number,
    p: number,
    b: number,
    hot: number,
    cold: number,
    level: number,
    at: number,
    state: number,
  ): void {
    const k = this.#k, stride = this.#stride, plan = this.#plan;
    const g = this.#g, s = this.#s, free = this.#sFree, inverse = this.#inverse;
    const { t, weight, oneMinusT, weightOverOneMinusT } = this.#points;
    const zeroBefore = plan.zeroBefore[node];
    const previousDepth = plan.previousDepth[node];
    const previousAt = previousDepth < 0 ? -1 : previousDepth * stride;
    const hotZero = zeroBefore * plan.coverRatio[hot];
    const coldZero = zeroBefore * plan.coverRatio[cold];
    const hotInverseAt = (level + 1) * stride;
    const hotAt = (2 * level + 2) * stride, coldAt = hotAt + stride;
    const withFree = this.#tied[state] !== 0;
    // A leaf child's S is v · G, written here; a leaf under a block state also needs S free.
    const hotLeaf = !withFree && plan.left[hot] < 0, coldLeaf = !withFree && plan.left[cold] < 0;
    const hotValue = hotLeaf ? plan.value[hot] : 0, coldValue = coldLeaf ? plan.value[cold] : 0;
    if (previousAt < 0) {
      for (let i = 0; i < k; i++) {
        const x = g[at + i];
        const factor = hotZero + (1 - hotZero) * t[i];
        inverse[hotInverseAt + i] = 1 / factor;
        const gHot = x * factor, gCold = x * coldZero * oneMinusT[i];
        g[hotAt + i] = gHot;
        g[coldAt + i] = gCold;
        s[hotAt + i] = hotValue * gHot;
        s[coldAt + i] = coldValue * gCold;
      }
    } else {
      for (let i = 0; i < k; i++) {
        const x = g[at + i] * inverse[previousAt + i];
        const factor = hotZero + (1 - hotZero) * t[i];
        inverse[hotInverseAt + i] = 1 / factor;
        const gHot = x * factor, gCold = x * coldZero * oneMinusT[i];
        g[hotAt + i] = gHot;
        g[coldAt + i] = gCold;
        s[hotAt + i] = hotValue * gHot;
        s[coldAt + i] = coldValue * gCold;
      }
    }
    if (hotLeaf) {
      // done above
    } else if (b < 0) {
      this.#visit(hot, level + 1, 0, state);
    } else {
      const zero = this.#tiedZero[b], inverseOf = this.#tiedInverse[b];
      this.#tiedZero[b] = hotZero;
      this.#tiedInverse[b] = level + 1;
      this.#visit(hot, level + 1, 0, state);
      this.#tiedZero[b] = zero;
      this.#tiedInverse[b] = inverseOf;
    }
    if (coldLeaf) {
      // done above (a zero cover gave S = 0)
    } else if (coldZero !== 0) {
      const dead = this.#dead;
      this.#failed[p] = 1;
      if (b >= 0) this.#dead = dead | (1 << b);
      this.#visit(cold, level + 1, 1, state);
      this.#failed[p] = 0;
      this.#dead = dead;
    } else {
      this.#clear(coldAt, withFree);
    }
    let hotShare = 0, coldShare = 0, previousShare = 0;
    if (previousAt < 0) {
      for (let i = 0; i < k; i++) {
        const sHot = s[hotAt + i], sCold = s[coldAt + i];
        s[at + i] = sHot + sCold;
        hotShare += weight[i] * inverse[hotInverseAt + i] * sHot;
        coldShare += weightOverOneMinusT[i] * sCold;
      }
    } else {
      for (let i = 0; i < k; i++) {
        const sHot = s[hotAt + i], sCold = s[coldAt + i];
        const sum = sHot + sCold;
        s[at + i] = sum;
        hotShare += weight[i] * inverse[hotInverseAt + i] * sHot;
        coldShare += weightOverOneMinusT[i] * sCold;
        previousShare += weight[i] * inverse[previousAt + i] * sum;
      }
    }
    if (withFree) { for (let i = 0; i < k; i++) free[at + i] = free[hotAt + i] + free[coldAt + i]; }
    this.#phi[p] += (1 - hotZero) * hotShare - coldShare - (1 - zeroBefore) * previousShare;
  }

  /**
   * A split on a block column with players `mask` (unit `u`, or -1 for a single tied player
   * already in the block). Players of the mask not yet in the block join it first. Both children
   * start block states of their own: h(U) keeps its value where U knows the whole mask and x goes
   * this way, becomes 0 where U knows it and x does not, and takes the cover ratio elsewhere.
   */
  #blockSplit(
    mask: number,
    u: number,
    hot: number,
    cold: number,
    level: number,
    at: number,
    state: number,
  ): void {
    const k = this.#k, stride = this.#stride, nBits = this.#blockBits;
    const g = this.#g, s = this.#s, h = this.#h;
    const ratio = this.#plan.coverRatio;
    const hotRatio = ratio[hot], coldRatio = ratio[cold];
    let tied = this.#tied[state];
    const joining = mask & ~tied;
    let base = state, baseG = g, baseAt = at;
    if (joining !== 0) {
      base = this.#entangleSlots + level;
      baseG = this.#entangledG;
      baseAt = level * stride;
      this.#entangle(state, base, joining, g, at, baseAt);
      tied = this.#tied[base];
    }
    const hotAt = (2 * level + 2) * stride, coldAt = hotAt + stride;
    const slot = level + 1;
    const from = base << nBits, to = slot << nBits;
    for (let U = tied;; U = (U - 1) & tied) {
      h[to + U] = (U & mask) === mask ? h[from + U] : h[from + U] * hotRatio;
      if (U === 0) break;
    }
    this.#tied[slot] = tied;
    this.#evaluateH(slot, tied);
    for (let i = 0; i < k; i++) g[hotAt + i] = baseG[baseAt + i];
    this.#visit(hot, level + 1, 0, slot);
    this.#blockShares(slot, tied, hotAt);

    if (coldRatio === 0) {
      for (let i = 0; i < k; i++) s[coldAt + i] = 0;
    } else if (u >= 0) {
      // x contradicts a multi-player column: h vanishes wherever U knows all its players.
      for (let U = tied;; U = (U - 1) & tied) {
        h[to + U] = (U & mask) === mask ? 0 : h[from + U] * coldRatio;
        if (U === 0) break;
      }
      this.#tied[slot] = tied;
      this.#evaluateH(slot, tied);
      for (let i = 0; i < k; i++) g[coldAt + i] = baseG[baseAt + i];
      this.#failedUnit[u] = 1;
      this.#visit(cold, level + 1, 1, slot);
      this.#failedUnit[u] = 0;
      this.#blockShares(slot, tied, coldAt);
    } else {
      this.#contradictTied(mask, base, slot, tied, coldRatio, baseG, baseAt, cold, level, coldAt);
    }
    for (let i = 0; i < k; i++) s[at + i] = s[hotAt + i] + s[coldAt + i];
    if (this.#tied[state] !== 0) { for (let i = 0; i < k; i++) this.#sFree[at + i] = 0; }
    if (joining !== 0) this.#endJoinedFactors(joining, at);
  }

  /**
   * x contradicts a tied player's own column: h vanishes wherever the player is known, so it leaves
   * the block as an ordinary contradicted player (factor 1 − t, share −∫ S / (1 − t) below).
   */
  #contradictTied(
    bit: number,
    base: number,
    slot: number,
    tied: number,
    coldRatio: number,
    baseG: Float64Array,
    baseAt: number,
    cold: number,
    level: number,
    coldAt: number,
  ): void {
    const k = this.#k, nBits = this.#blockBits, g = this.#g, h = this.#h, s = this.#s;
    const { oneMinusT, weightOverOneMinusT } = this.#points;
    const from = base << nBits, to = slot << nBits;
    const rest = tied & ~bit;
    let constant = 1;
    if (rest === 0) {
      // Nothing left tied: the block is a constant, folded into G.
      constant = h[from] * coldRatio;
      h[to] = 1;
    } else {
      for (let U = rest;; U = (U - 1) & rest) {
        h[to + U] = h[from + U] * coldRatio;
        if (U === 0) break;
      }
    }
    for (let i = 0; i < k; i++) g[coldAt + i] = baseG[baseAt + i] * oneMinusT[i] * constant;
    this.#tied[slot] = rest;
    if (rest !== 0) this.#evaluateH(slot, rest);
    const b = 31 - Math.clz32(bit);
    const p = this.#tiedPlayers[b];
    const dead = this.#dead;
    this.#failed[p] = 1;
    this.#dead = dead | bit;
    this.#visit(cold, level + 1, 1, slot);
    this.#failed[p] = 0;
    this.#dead = dead;
    if (rest !== 0) this.#blockShares(slot, rest, coldAt);
    let share = 0;
    for (let i = 0; i < k; i++) share += weightOverOneMinusT[i] * s[coldAt + i];
    this.#phi[p] -= share;
  }

  /** Block state `to` from `from` with the `joining` players' current factors moved out of G into h. */
  #entangle(from: number, to: number, joining: number, g: Float64Array, at: number, gAt: number): void {
    const k = this.#k, nBits = this.#blockBits, h = this.#h;
    const tied = this.#tied[from];
    const all = tied | joining;
    const fromAt = from << nBits, toAt = to << nBits;
    for (let U = all;; U = (U - 1) & all) {
      let x = h[fromAt + (U & tied)];
      for (let rest = joining & ~U; rest !== 0; rest &= rest - 1) {
        x *= this.#tiedZero[31 - Math.clz32(rest & -rest)];
      }
      h[toAt + U] = x;
      if (U === 0) break;
    }
    this.#tied[to] = all;
    const moved = this.#entangledG;
    for (let i = 0; i < k; i++) moved[gAt + i] = g[at + i];
    const inverse = this.#inverse, stride = this.#stride;
    for (let rest = joining; rest !== 0; rest &= rest - 1) {
      const depth = this.#tiedInverse[31 - Math.clz32(rest & -rest)];
      if (depth < 0) continue;
      const inverseAt = depth * stride;
      for (let i = 0; i < k; i++) moved[gAt + i] *= inverse[inverseAt + i];
    }
  }

  /** The joining players' factors before the block stop applying below this node: take their shares back. */
  #endJoinedFactors(joining: number, at: number): void {
    const k = this.#k, s = this.#s, inverse = this.#inverse, weight = this.#points.weight;
    for (let rest = joining; rest !== 0; rest &= rest - 1) {
      const b = 31 - Math.clz32(rest & -rest);
      const depth = this.#tiedInverse[b];
      if (depth < 0) continue;
      const inverseAt = depth * this.#stride;
      let share = 0;
      for (let i = 0; i < k; i++) share += weight[i] * inverse[inverseAt + i] * s[at + i];
      this.#phi[this.#tiedPlayers[b]] -= (1 - this.#tiedZero[b]) * share;
    }
  }

  /** H(t) = Σ_U h(U) t^|U| (1 − t)^(n − |U|) at the points, for the block state in `slot`. */
  #evaluateH(slot: number, tied: number): void {
    const k = this.#k, stride = this.#stride, nBits = this.#blockBits;
    const h = this.#h, hAt = slot << nBits, bySize = this.#bySize, popcount = this.#popcount;
    const n = popcount[tied];
    for (let r = 0; r <= n; r++) bySize[r] = 0;
    for (let U = tied;; U = (U - 1) & tied) {
      bySize[popcount[U]] += h[hAt + U];
      if (U === 0) break;
    }
    const bernstein = this.#points.bernstein, basis = n * (nBits + 1) * stride;
    const out = this.#hAtPoints, outAt = slot * stride;
    for (let i = 0; i < k; i++) {
      let sum = 0;
      for (let r = 0; r <= n; r++) sum += bySize[r] * bernstein[basis + r * stride + i];
      out[outAt + i] = sum;
    }
  }

  /**
   * Shares of the block players in the state in `slot` over the leaves directly under it (S free at
   * `freeAt`): ∫ S free · ∂H/∂b, with ∂H/∂b = Σ_{U ∌ b} (h(U ∪ b) − h(U)) t^|U| (1 − t)^(n − 1 − |U|).
   */
  #blockShares(slot: number, tied: number, freeAt: number): void {
    const k = this.#k, stride = this.#stride, nBits = this.#blockBits;
    const popcount = this.#popcount, free = this.#sFree, moments = this.#moments;
    const n = popcount[tied];
    const basis = this.#points.moments, basisAt = n * (nBits + 1) * stride;
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += basis[basisAt + j * stride + i] * free[freeAt + i];
      moments[j] = sum;
    }
    const h = this.#h, hAt = slot << nBits;
    for (let players = tied; players !== 0; players &= players - 1) {
      const bit = players & -players;
      const others = tied & ~bit;
      let gain = 0;
      for (let U = others;; U = (U - 1) & others) {
        gain += (h[hAt + (U | bit)] - h[hAt + U]) * moments[popcount[U]];
        if (U === 0) break;
      }
      this.#phi[this.#tiedPlayers[31 - Math.clz32(bit)]] += gain;
    }
  }

  #clear(at: number, withFree: boolean): void {
    this.#s.fill(0, at, at + this.#k);
    if (withFree) this.#sFree.fill(0, at, at + this.#k);
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
  let count = 0;
  for (let rest = x; rest !== 0; rest &= rest - 1) count++;
  return count;
}
