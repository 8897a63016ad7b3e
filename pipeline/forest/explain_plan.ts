/**
 * What `explain.ts` precomputes once per forest and player grouping: the trees concatenated into
 * flat arrays in preorder, each column's role in the player game, and every number along a path
 * that does not depend on the row being explained.
 *
 * The row only decides which child of a split is "hot" (the way x goes) and, through that, which
 * players have already been contradicted on the path. Everything else is fixed by the tree: the
 * cover ratios, a player's merged "zero fraction" (the product of the cover ratios of its earlier
 * splits on the path) and which ancestor set its current factor. Those are computed here.
 * @module
 */

import { type FlatTree, TREE_LEAF, treeDepth } from "./tree.ts";

/** A column whose single player is not tied to any other: ordinary TreeSHAP, merged by player. */
export const SIMPLE = 0;
/** A column of one player that some multi-player column ties to others. */
export const SINGLE = 1;
/** A column computed from several players, known once all of them are. */
export const MULTI = 2;

/** How each column takes part in the player game. */
export interface ColumnRoles {
  /** Per column: SIMPLE, SINGLE or MULTI. */
  readonly kind: Uint8Array;
  /** Per SIMPLE or SINGLE column: its player. */
  readonly player: Int32Array;
  /** Per SINGLE column: its player's bit among the tied players. */
  readonly bit: Int32Array;
  /** Per MULTI column: its unit (one per distinct set of players). */
  readonly unit: Int32Array;
  /** Per unit: the bits of its players. */
  readonly unitMask: Int32Array;
  /** Bit → player, for the players some multi-player column ties together. */
  readonly tiedPlayers: Int32Array;
}

/** Sorts the columns into roles; `ofColumn` has been validated. */
export function columnRoles(ofColumn: readonly (readonly number[])[]): ColumnRoles {
  const tied = [...new Set(ofColumn.filter((owners) => new Set(owners).size > 1).flat())].sort((a, b) =>
    a - b
  );
  const bitOf = new Map(tied.map((p, i) => [p, i]));
  const n = ofColumn.length;
  const kind = new Uint8Array(n);
  const player = new Int32Array(n).fill(-1);
  const bit = new Int32Array(n).fill(-1);
  const unit = new Int32Array(n).fill(-1);
  const masks: number[] = [];
  ofColumn.forEach((owners, c) => {
    if (!bitOf.has(owners[0])) {
      kind[c] = SIMPLE;
      player[c] = owners[0];
      return;
    }
    const mask = owners.reduce((m, p) => m | (1 << bitOf.get(p)!), 0);
    if ((mask & (mask - 1)) === 0) {
      kind[c] = SINGLE;
      player[c] = owners[0];
      bit[c] = bitOf.get(owners[0])!;
      return;
    }
    kind[c] = MULTI;
    let u = masks.indexOf(mask);
    if (u < 0) u = masks.push(mask) - 1;
    unit[c] = u;
  });
  return { kind, player, bit, unit, unitMask: Int32Array.from(masks), tiedPlayers: Int32Array.from(tied) };
}

/** The forest as the explainer walks it. Node ids are global: tree t's nodes start at `roots[t]`. */
export interface ForestPlan {
  /** Left child, or -1 at a leaf. */
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly column: Int32Array;
  readonly threshold: Float64Array;
  readonly value: Float64Array;
  /** The node's cover over its parent's (1 at a root, 0 under a parent without cover). */
  readonly coverRatio: Float64Array;
  /**
   * At a SIMPLE or SINGLE split: the player's zero fraction on the path before it (1 if this is
   * its first split on the path). The row never changes it: while the player is uncontradicted,
   * it is the product of the cover ratios of its earlier splits.
   */
  readonly zeroBefore: Float64Array;
  /**
   * At a SIMPLE or SINGLE split: the depth of the child of the player's previous split on the path
   * (the node whose factor this split replaces), or -1 if there is none.
   */
  readonly previousDepth: Int32Array;
  readonly roots: Int32Array;
  /** Quadrature points of each tree: ⌈(most players on one of its paths) / 2⌉, at least 1. */
  readonly pointsOfTree: Int32Array;
  readonly maxDepth: number;
  readonly maxPoints: number;
}

/** Flattens `trees` and precomputes the row-independent numbers for players `ofColumn`. */
export function planForest(
  trees: readonly FlatTree[],
  ofColumn: readonly (readonly number[])[],
  nPlayers: number,
  roles: ColumnRoles,
): ForestPlan {
  let total = 0;
  for (const tree of trees) total += tree.nodeCount;
  const left = new Int32Array(total);
  const right = new Int32Array(total);
  const column = new Int32Array(total);
  const threshold = new Float64Array(total);
  const value = new Float64Array(total);
  const coverRatio = new Float64Array(total);
  const zeroBefore = new Float64Array(total);
  const previousDepth = new Int32Array(total).fill(-1);
  const roots = new Int32Array(trees.length);
  const pointsOfTree = new Int32Array(trees.length);
  let maxDepth = 0;
  let offset = 0;
  const seen = new Int32Array(nPlayers);
  trees.forEach((tree, t) => {
    roots[t] = offset;
    maxDepth = Math.max(maxDepth, treeDepth(tree));
    const cover = tree.weightedNNodeSamples;
    coverRatio[offset] = 1;
    for (let i = 0; i < tree.nodeCount; i++) {
      const g = offset + i;
      const l = tree.childrenLeft[i];
      const isLeaf = l === TREE_LEAF || tree.feature[i] < 0;
      left[g] = isLeaf ? -1 : offset + l;
      right[g] = isLeaf ? -1 : offset + tree.childrenRight[i];
      column[g] = tree.feature[i];
      threshold[g] = tree.threshold[i];
      value[g] = tree.value[i];
      if (isLeaf) continue;
      const r = tree.childrenRight[i];
      coverRatio[offset + l] = cover[i] > 0 ? cover[l] / cover[i] : 0;
      coverRatio[offset + r] = cover[i] > 0 ? cover[r] / cover[i] : 0;
    }
    pointsOfTree[t] = Math.max(1, Math.ceil(mostPlayersOnAPath(tree, ofColumn, seen) / 2));
    offset += tree.nodeCount;
  });
  const maxPoints = Math.max(1, ...pointsOfTree);
  // Per player, the zero fraction and the depth of its latest split's child down the current path.
  const zero = new Float64Array(nPlayers).fill(1);
  const factorDepth = new Int32Array(nPlayers).fill(-1);
  const walk = (node: number, depth: number): void => {
    if (left[node] < 0) return;
    const c = column[node];
    if (roles.kind[c] === MULTI) {
      walk(left[node], depth + 1);
      walk(right[node], depth + 1);
      return;
    }
    const p = roles.player[c];
    const z = zero[p];
    const before = factorDepth[p];
    zeroBefore[node] = z;
    previousDepth[node] = before;
    factorDepth[p] = depth + 1;
    zero[p] = z * coverRatio[left[node]];
    walk(left[node], depth + 1);
    zero[p] = z * coverRatio[right[node]];
    walk(right[node], depth + 1);
    zero[p] = z;
    factorDepth[p] = before;
  };
  for (let t = 0; t < trees.length; t++) walk(roots[t], 0);
  return {
    left,
    right,
    column,
    threshold,
    value,
    coverRatio,
    zeroBefore,
    previousDepth,
    roots,
    pointsOfTree,
    maxDepth,
    maxPoints,
  };
}

/** The largest number of distinct players that the columns split on along one root-to-leaf path. */
function mostPlayersOnAPath(
  tree: FlatTree,
  ofColumn: readonly (readonly number[])[],
  seen: Int32Array,
): number {
  let most = 0;
  const walk = (node: number, players: number): void => {
    const l = tree.childrenLeft[node];
    if (l === TREE_LEAF || tree.feature[node] < 0) {
      most = Math.max(most, players);
      return;
    }
    const owners = ofColumn[tree.feature[node]];
    let added = 0;
    for (const p of owners) if (seen[p]++ === 0) added++;
    walk(l, players + added);
    walk(tree.childrenRight[node], players + added);
    for (const p of owners) seen[p]--;
  };
  walk(0, 0);
  return most;
}
