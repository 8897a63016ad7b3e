/**
 * The explainer's computation in TypeScript (explain.ts describes the algorithm): the fallback
 * where WebAssembly SIMD is missing, and the readable twin of the kernel in explain_wasm.ts, which
 * computes the same numbers function for function (fusing a block state's passes). Tests hold the two to each other and to the
 * reference algorithm.
 * @module
 */

import { type ColumnRoles, type ForestPlan, MULTI, SIMPLE, SINGLE } from "./explain_plan.ts";
import { type PointTables, pointTables } from "./explain_quadrature.ts";

/** The forest's values for one row, summed over the trees, computed in TypeScript. */
export class TypeScriptExplainKernel {
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
  // Who has been contradicted on the current path.
  readonly #failed: Uint8Array;
  readonly #failedUnit: Uint8Array;
  #dead = 0;
  /** Per player, while uncontradicted: its zero fraction on the path, and the level of its factor's inverse (-1: none). */
  readonly #zero: Float64Array;
  readonly #factorDepth: Int32Array;
  #row: ArrayLike<number> = [];
  #phi: Float64Array = new Float64Array(0);
  // The tree being explained: its number of points and tables.
  #k = 0;
  #points: PointTables;

  /** Scratch for `plan` with players in `roles`. */
  constructor(plan: ForestPlan, roles: ColumnRoles, nPlayers: number) {
    const nTied = roles.tiedPlayers.length;
    this.#plan = plan;
    this.#kind = roles.kind;
    this.#player = roles.player;
    this.#bit = roles.bit;
    this.#unit = roles.unit;
    this.#unitMask = roles.unitMask;
    this.#tiedPlayers = roles.tiedPlayers;
    this.#blockBits = nTied;
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
    this.#zero = new Float64Array(nPlayers).fill(1);
    this.#factorDepth = new Int32Array(nPlayers).fill(-1);
  }

  /** Writes the sum over trees of each player's value for `row` (validated by the caller) into `phi`. */
  sumOverTrees(row: ArrayLike<number>, phi: Float64Array): void {
    const plan = this.#plan, g = this.#g;
    this.#row = row;
    this.#phi = phi;
    phi.fill(0);
    for (let t = 0; t < plan.roots.length; t++) {
      const k = this.#k = plan.pointsOfTree[t];
      this.#points = this.#tables[k];
      for (let i = 0; i < k; i++) g[i] = 1;
      this.#h[0] = 1;
      this.#tied[0] = 0;
      this.#dead = 0;
      this.#visit(plan.roots[t], 0, 0, 0);
    }
  }

  /** Visits `node` at `level` in slot 2 · level + side, whose G is set; writes its S (and S free). */
  #visit(node: number, level: number, side: number, state: number): void {
    const k = this.#k;
    const at = (2 * level + side) * this.#stride;
    const plan = this.#plan;
    const right = plan.right[node];
    if (right < 0) {
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
    const hot = goesLeft ? node + 1 : right;
    const cold = goesLeft ? right : node + 1;
    const kind = this.#kind[column];
    if (kind === SIMPLE) {
      const p = this.#player[column];
      if (this.#failed[p] === 0) return this.#simpleSplit(p, -1, hot, cold, level, at, state);
    } else if (kind === SINGLE) {
      const b = this.#bit[column];
      if ((this.#tied[state] & (1 << b)) !== 0) {
        return this.#blockSplit(1 << b, -1, hot, cold, level, at, state);
      }
      const p = this.#player[column];
      if (this.#failed[p] === 0) return this.#simpleSplit(p, b, hot, cold, level, at, state);
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
    const right = this.#plan.right, value = this.#plan.value;
    const hotLeaf = right[hot] < 0, coldLeaf = right[cold] < 0;
    const hotValue = hotLeaf ? value[hot] : 0, coldValue = coldLeaf ? value[cold] : 0;
    for (let i = 0; i < k; i++) {
      const x = g[at + i];
      g[hotAt + i] = x * hotRatio;
      g[coldAt + i] = x * coldRatio;
    }
    this.#leafChildren(hotAt, hotValue, coldValue, withFree, state);
    // Children in node order (the left one first), so the walk reads the plan's arrays forward.
    for (let step = 0; step < 2; step++) {
      const child = (step === 0) === (hot < cold) ? 0 : 1;
      if (child === 0 ? hotLeaf : coldLeaf) continue; // done above
      if ((child === 0 ? hotRatio : coldRatio) !== 0) {
        this.#visit(child === 0 ? hot : cold, level + 1, child, state);
      } else this.#clear(child === 0 ? hotAt : coldAt, withFree);
    }
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
    const zeroBefore = this.#zero[p];
    const previousDepth = this.#factorDepth[p];
    const previousAt = previousDepth < 0 ? -1 : previousDepth * stride;
    const hotZero = zeroBefore * plan.coverRatio[hot];
    const coldZero = zeroBefore * plan.coverRatio[cold];
    const hotInverseAt = (level + 1) * stride;
    const hotAt = (2 * level + 2) * stride, coldAt = hotAt + stride;
    const withFree = this.#tied[state] !== 0;
    // A leaf child's S (and S free under a block state) is written here, not by a visit.
    const hotLeaf = plan.right[hot] < 0, coldLeaf = plan.right[cold] < 0;
    const hotValue = hotLeaf ? plan.value[hot] : 0, coldValue = coldLeaf ? plan.value[cold] : 0;
    for (let i = 0; i < k; i++) {
      const x = previousAt < 0 ? g[at + i] : g[at + i] * inverse[previousAt + i];
      const factor = hotZero + (1 - hotZero) * t[i];
      inverse[hotInverseAt + i] = 1 / factor;
      g[hotAt + i] = x * factor;
      g[coldAt + i] = x * coldZero * oneMinusT[i];
    }
    this.#leafChildren(hotAt, hotValue, coldValue, withFree, state);
    for (let step = 0; step < 2; step++) {
      if ((step === 0) === (hot < cold)) {
        if (hotLeaf) continue; // done above
        this.#zero[p] = hotZero;
        this.#factorDepth[p] = level + 1;
        this.#visit(hot, level + 1, 0, state);
        this.#zero[p] = zeroBefore;
        this.#factorDepth[p] = previousDepth;
      } else if (coldLeaf) {
        continue; // done above (a zero cover gave S = 0)
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
    }
    let hotShare = 0, coldShare = 0, previousShare = 0;
    for (let i = 0; i < k; i++) {
      const sHot = s[hotAt + i], sCold = s[coldAt + i];
      const sum = sHot + sCold;
      s[at + i] = sum;
      hotShare += weight[i] * inverse[hotInverseAt + i] * sHot;
      coldShare += weightOverOneMinusT[i] * sCold;
      if (previousAt >= 0) previousShare += weight[i] * inverse[previousAt + i] * sum;
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
        x *= this.#zero[this.#tiedPlayers[31 - Math.clz32(rest & -rest)]];
      }
      h[toAt + U] = x;
      if (U === 0) break;
    }
    this.#tied[to] = all;
    const moved = this.#entangledG;
    for (let i = 0; i < k; i++) moved[gAt + i] = g[at + i];
    const inverse = this.#inverse, stride = this.#stride;
    for (let rest = joining; rest !== 0; rest &= rest - 1) {
      const depth = this.#factorDepth[this.#tiedPlayers[31 - Math.clz32(rest & -rest)]];
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
      const depth = this.#factorDepth[this.#tiedPlayers[b]];
      if (depth < 0) continue;
      const inverseAt = depth * this.#stride;
      let share = 0;
      for (let i = 0; i < k; i++) share += weight[i] * inverse[inverseAt + i] * s[at + i];
      this.#phi[this.#tiedPlayers[b]] -= (1 - this.#zero[this.#tiedPlayers[b]]) * share;
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
    // No leaf directly under the state (S free = 0): no shares.
    let mass = false;
    for (let i = 0; i < k; i++) if (free[freeAt + i] !== 0) mass = true;
    if (!mass) return;
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

  /** S (and S free) of both children from their G, times their values (0 for a split, which its visit overwrites). */
  #leafChildren(hotAt: number, hotValue: number, coldValue: number, withFree: boolean, state: number): void {
    const k = this.#k, stride = this.#stride, g = this.#g, s = this.#s;
    const coldAt = hotAt + stride;
    if (!withFree) {
      for (let i = 0; i < k; i++) {
        s[hotAt + i] = hotValue * g[hotAt + i];
        s[coldAt + i] = coldValue * g[coldAt + i];
      }
      return;
    }
    const free = this.#sFree, h = this.#hAtPoints, hAt = state * stride;
    for (let i = 0; i < k; i++) {
      const hot = hotValue * g[hotAt + i], cold = coldValue * g[coldAt + i];
      free[hotAt + i] = hot;
      free[coldAt + i] = cold;
      s[hotAt + i] = hot * h[hAt + i];
      s[coldAt + i] = cold * h[hAt + i];
    }
  }

  #clear(at: number, withFree: boolean): void {
    this.#s.fill(0, at, at + this.#k);
    if (withFree) this.#sFree.fill(0, at, at + this.#k);
  }
}

function popcount(x: number): number {
  let count = 0;
  for (let rest = x; rest !== 0; rest &= rest - 1) count++;
  return count;
}
