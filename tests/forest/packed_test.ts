import assert from "node:assert/strict";
import { type FlatTree, predictTreeRow, TREE_LEAF, TREE_UNDEFINED } from "../../pipeline/forest/tree.ts";
import { packForest, predictPackedRow } from "../../pipeline/forest/packed.ts";
import { Random } from "../../pipeline/random.ts";
import { flatTree } from "./flat_tree.ts";

/** A random tree: each node splits with probability `split` until `maxDepth`, so depths vary widely. */
function randomTree(random: Random, nFeatures: number, maxDepth: number, split: number): FlatTree {
  const left: number[] = [], right: number[] = [], feature: number[] = [], threshold: number[] = [];
  const value: number[] = [];
  const grow = (depth: number): number => {
    const id = left.length;
    left.push(TREE_LEAF), right.push(TREE_LEAF), feature.push(TREE_UNDEFINED), threshold.push(TREE_UNDEFINED);
    value.push(random.next());
    if (depth < maxDepth && (depth === 0 || random.next() < split)) {
      feature[id] = random.int(nFeatures);
      threshold[id] = random.uniform(-1, 1);
      left[id] = grow(depth + 1);
      right[id] = grow(depth + 1);
    }
    return id;
  };
  grow(0);
  return flatTree({ left, right, feature, threshold, value });
}

// Catches a walk that stops a lane at another tree's depth, a lane reading the wrong tree, a sum
// in another order (a different last bit) and a remainder of 1–7 trees dropped or counted twice.
Deno.test("predictPackedRow equals the mean of the trees' own walks, to the bit, for 1–25 trees of uneven depth", () => {
  const random = new Random(20261129);
  const nFeatures = 7;
  for (let nTrees = 1; nTrees <= 25; nTrees++) {
    const trees = Array.from(
      { length: nTrees },
      () => randomTree(random, nFeatures, 1 + random.int(14), random.uniform(0.3, 0.95)),
    );
    const packed = packForest(trees, nFeatures);
    for (let r = 0; r < 40; r++) {
      const row = Float64Array.from({ length: nFeatures }, () => random.uniform(-1.2, 1.2));
      let sum = 0;
      for (const tree of trees) sum += predictTreeRow(tree, row, 0);
      assert.equal(predictPackedRow(packed, row, 0), sum / nTrees, `${nTrees} trees, row ${r}`);
      // An offset into a longer array reads the same row.
      const padded = new Float64Array(3 + nFeatures);
      padded.set(row, 3);
      assert.equal(predictPackedRow(packed, padded, 3), sum / nTrees);
    }
  }
});
