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
 * K = ⌈n / 2⌉ Gauss–Legendre points (explain_quadrature.ts) integrate it exactly. Evaluated at
 * the points, everything is additive: the product of the factors down the path is a K-vector G,
 * the sums of v · G over the leaves below a node come back up as a K-vector S, and a split on p
 * adds ∫ S · (o − z) / f for each child, f being p's new merged factor, minus the same for p's
 * previous factor on the path: repeated splits on a player telescope into its merged factor, and
 * each split costs O(K). Every point t is inside (0, 1) and every weight positive, which avoids the
 * ill-conditioned interpolation Linear TreeShap warns about on deep trees; the divisions are by
 * factors z + (1 − z) t ≥ t and z (1 − t) for a cover ratio z > 0.
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
 * The computation runs in a WebAssembly SIMD kernel assembled for the forest (explain_wasm.ts), or
 * in its TypeScript twin (explain_typescript.ts) where WebAssembly SIMD is missing. The previous
 * algorithm (Lundberg et al.'s Algorithm 2, O(leaves · depth²)) is kept in explain_reference.ts as
 * the test oracle. Measured on the 600-tree production model (`deno task bench:explain`, machine at
 * load 3–4 on 2 cores): 3.3 ms CPU per explanation against the reference's 14 ms; a third of it is
 * the block states of the tied attributes. bench/README.md ("Where an explanation's time goes") lists
 * what was measured and rejected (Fast TreeSHAP v2's per-leaf subset tables: 96 MiB, memory-bound).
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
import { columnRoles, planForest } from "./explain_plan.ts";
import { TypeScriptExplainKernel } from "./explain_typescript.ts";
import { WasmExplainKernel } from "./explain_wasm.ts";
import { simdAvailable } from "./wasm_binary.ts";

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

/** How {@link TreeShapExplainer} computes. */
export interface ExplainerOptions {
  /**
   * "wasm" (default): the WebAssembly SIMD kernel of explain_wasm.ts, or the TypeScript one where
   * WebAssembly SIMD is missing; "typescript": explain_typescript.ts.
   */
  readonly kernel?: "wasm" | "typescript";
}

/** What computes the values: the forest's per-player sums over trees for one row. */
interface ExplainKernel {
  sumOverTrees(row: ArrayLike<number>, phi: Float64Array): void;
}

/**
 * SHAP values of a forest's P(class 1): the mean over trees of each tree's exact path-dependent
 * TreeSHAP values. The forest is flattened, its row-independent numbers computed and the kernel
 * built once here (about 2.5 MB for the 600-tree production model); {@link shapValues} allocates
 * nothing when given `out`. Not reentrant: one explainer per thread.
 */
export class TreeShapExplainer {
  /** Number of players (columns unless `players` was given). */
  readonly nPlayers: number;
  /** Mean over trees of the tree's cover-weighted expected value: the prediction with nothing known. */
  readonly baseValue: number;
  /** What computes the values. */
  readonly kernel: "wasm" | "typescript";
  readonly #nFeatures: number;
  readonly #nTrees: number;
  readonly #compute: ExplainKernel;
  readonly #row: Float64Array;
  readonly #sums: Float64Array;

  /** Prepares to explain `forest`; `players` groups columns (default: one player per column). */
  constructor(forest: ExplainableForest, players?: ShapPlayers, options: ExplainerOptions = {}) {
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
    const plan = planForest(forest.trees, ofColumn, nPlayers);
    const wasm = options.kernel !== "typescript" && simdAvailable();
    this.kernel = wasm ? "wasm" : "typescript";
    this.#compute = wasm
      ? new WasmExplainKernel(plan, roles, nPlayers, nFeatures)
      : new TypeScriptExplainKernel(plan, roles, nPlayers);
    this.#nTrees = forest.trees.length;
    this.#row = new Float64Array(nFeatures);
    this.#sums = new Float64Array(nPlayers);
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
    this.#compute.sumOverTrees(this.#row, this.#sums);
    const scale = 1 / this.#nTrees;
    for (let p = 0; p < out.length; p++) out[p] = this.#sums[p] * scale;
    return out;
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
