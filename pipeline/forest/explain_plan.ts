/**
 * What `explain.ts` precomputes once per forest and player grouping: the trees concatenated into
 * flat arrays in preorder, each column's role in the player game, and every number along a path
 * that does not depend on the row being explained.
 *
 * The row only decides which child of a split is "hot" (the way x goes) and, through that, which
 * players have already been contradicted on the path; the cover ratios and the number of
 * quadrature points per tree are fixed by the trees and computed here.
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

/**
 * The forest as the explainer walks it: nodes renumbered in preorder (a split's left child is the
 * next node, so a walk that visits left children first reads the arrays forward). Node ids are
 * global: tree t's nodes start at `roots[t]`.
 */
export interface ForestPlan {
  /** Right child, or -1 at a leaf (the left child of a split is the next node). */
  readonly right: Int32Array;
  /** Column split on, or -1 at a leaf. */
  readonly column: Int32Array;
  readonly threshold: Float64Array;
  /** P(class 1) at a leaf, 0 at a split. */
  readonly value: Float64Array;
  /** The node's cover over its parent's (1 at a root, 0 under a parent without cover). */
  readonly coverRatio: Float64Array;
  readonly roots: Int32Array;
  /** Quadrature points of each tree: ⌈(most players on one of its paths) / 2⌉, at least 1. */
  readonly pointsOfTree: Int32Array;
  readonly maxDepth: number;
  readonly maxPoints: number;
}

/** Flattens `trees` in preorder and sizes each tree's quadrature for players `ofColumn`. */
export function planForest(
  trees: readonly FlatTree[],
  ofColumn: readonly (readonly number[])[],
  nPlayers: number,
): ForestPlan {
  let total = 0;
  for (const tree of trees) total += tree.nodeCount;
  const right = new Int32Array(total);
  const column = new Int32Array(total);
  const threshold = new Float64Array(total);
  const value = new Float64Array(total);
  const coverRatio = new Float64Array(total);
  const roots = new Int32Array(trees.length);
  const pointsOfTree = new Int32Array(trees.length);
  let maxDepth = 0;
  let next = 0;
  const seen = new Int32Array(nPlayers);
  trees.forEach((tree, t) => {
    roots[t] = next;
    maxDepth = Math.max(maxDepth, treeDepth(tree));
    const cover = tree.weightedNNodeSamples;
    // Preorder by an explicit stack of (node, its cover ratio); each node takes the next id.
    const stack: number[] = [0, 1];
    while (stack.length > 0) {
      const ratio = stack.pop()!, node = stack.pop()!;
      const g = next++;
      coverRatio[g] = ratio;
      const l = tree.childrenLeft[node];
      if (l === TREE_LEAF || tree.feature[node] < 0) {
        right[g] = -1;
        column[g] = -1;
        value[g] = tree.value[node];
        continue;
      }
      const r = tree.childrenRight[node];
      column[g] = tree.feature[node];
      threshold[g] = tree.threshold[node];
      // The right child's id is known once the left subtree is numbered: patched when it is popped.
      right[g] = -2 - g;
      stack.push(
        r,
        cover[node] > 0 ? cover[r] / cover[node] : 0,
        l,
        cover[node] > 0 ? cover[l] / cover[node] : 0,
      );
    }
    pointsOfTree[t] = Math.max(1, Math.ceil(mostPlayersOnAPath(tree, ofColumn, seen) / 2));
  });
  // Patch right children: the right child of split g is the first node after g's left subtree.
  const end = new Int32Array(total + 1);
  for (let g = total - 1; g >= 0; g--) {
    end[g] = right[g] === -1 ? g + 1 : end[end[g + 1]];
  }
  for (let g = 0; g < total; g++) if (right[g] !== -1) right[g] = end[g + 1];
  return {
    right,
    column,
    threshold,
    value,
    coverRatio,
    roots,
    pointsOfTree,
    maxDepth,
    maxPoints: Math.max(1, ...pointsOfTree),
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
