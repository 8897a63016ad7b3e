/**
 * Grows a range of a forest's trees. Tree t draws everything from its own generator, seeded from
 * (forest seed, t), so any split of the work over threads yields the same trees.
 * @module
 */

import { Random } from "../random.ts";
import { TreeBuilder } from "./builder.ts";
import type { Matrix } from "./matrix.ts";
import type { ForestOptions } from "./options.ts";
import { drawTreeSample, indexClasses, majorityTarget } from "./sampler.ts";
import type { FlatTree } from "./tree.ts";

/** Seed of tree `index` of a forest seeded with `seed` (a splitmix32-style mix of both). */
export function treeSeed(seed: number, index: number): number {
  let z = (seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Fails fast on a sampling ratio the labels cannot satisfy, before any tree is grown. */
export function checkSampling(y: Uint8Array, options: ForestOptions): void {
  if (options.balanced) majorityTarget(indexClasses(y), options.samplingStrategy);
}

/** Grows trees `first … first + count - 1` of the forest described by `options`. */
export function growTrees(
  X: Matrix,
  y: Uint8Array,
  sampleWeight: Float64Array,
  options: ForestOptions,
  first: number,
  count: number,
): FlatTree[] {
  const builder = new TreeBuilder(X, y, options);
  const classes = indexClasses(y);
  const counts = new Float64Array(X.rows);
  const rowWeight = new Float64Array(X.rows);
  const trees: FlatTree[] = [];
  for (let t = first; t < first + count; t++) {
    const rng = new Random(treeSeed(options.seed, t));
    drawTreeSample(X.rows, classes, rng, options, counts);
    for (let r = 0; r < X.rows; r++) rowWeight[r] = counts[r] * sampleWeight[r];
    trees.push(builder.build(rowWeight, rng));
  }
  return trees;
}
