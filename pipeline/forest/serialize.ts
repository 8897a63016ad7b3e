/**
 * Compact JSON for fitted trees: the node arrays of all trees are concatenated per field and
 * stored as little-endian base64, which keeps a 500-tree model to a few MB and round-trips
 * every float bit for bit. Left children are implied by depth-first numbering and not stored.
 * @module
 */

import { type FlatTree, TREE_LEAF, TREE_UNDEFINED } from "./tree.ts";

/** Trees as stored in JSON. */
export interface SerializedTrees {
  /** Node count of each tree (base64 Int32). */
  nodeCounts: string;
  /** Right child per node, -1 at leaves (base64 Int32). */
  childrenRight: string;
  /** Feature per node, -2 at leaves (base64 Int32). */
  feature: string;
  /** Threshold per internal node only (base64 Float64). */
  threshold: string;
  /** P(class 1) per node (base64 Float64). */
  value: string;
  /** Impurity per node (base64 Float64). */
  impurity: string;
  /** Distinct training rows per node (base64 Int32). */
  nNodeSamples: string;
  /** Training weight per node (base64 Float64). */
  weightedNNodeSamples: string;
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Encodes trees for JSON. */
export function serializeTrees(trees: readonly FlatTree[]): SerializedTrees {
  const nodeCounts = Int32Array.from(trees, (t) => t.nodeCount);
  let nInternal = 0;
  for (const t of trees) for (let i = 0; i < t.nodeCount; i++) if (t.feature[i] >= 0) nInternal++;
  const thresholds = new Float64Array(nInternal);
  let k = 0;
  for (const t of trees) {
    for (let i = 0; i < t.nodeCount; i++) if (t.feature[i] >= 0) thresholds[k++] = t.threshold[i];
  }
  return {
    nodeCounts: toBase64(nodeCounts),
    childrenRight: toBase64(concatInt32(trees.map((t) => t.childrenRight))),
    feature: toBase64(concatInt32(trees.map((t) => t.feature))),
    threshold: toBase64(thresholds),
    value: toBase64(concatFloat64(trees.map((t) => t.value))),
    impurity: toBase64(concatFloat64(trees.map((t) => t.impurity))),
    nNodeSamples: toBase64(concatInt32(trees.map((t) => t.nNodeSamples))),
    weightedNNodeSamples: toBase64(concatFloat64(trees.map((t) => t.weightedNNodeSamples))),
  };
}

/** Decodes trees written by {@link serializeTrees}, checking that the arrays agree. */
export function deserializeTrees(json: SerializedTrees, nFeatures: number): FlatTree[] {
  if (json === null || typeof json !== "object") throw new TypeError("trees must be an object");
  const nodeCounts = new Int32Array(fromBase64(json.nodeCounts, "nodeCounts", 4));
  const total = nodeCounts.reduce((a, b) => a + b, 0);
  const childrenRight = new Int32Array(fromBase64(json.childrenRight, "childrenRight", 4));
  const feature = new Int32Array(fromBase64(json.feature, "feature", 4));
  const thresholds = new Float64Array(fromBase64(json.threshold, "threshold", 8));
  const value = new Float64Array(fromBase64(json.value, "value", 8));
  const impurity = new Float64Array(fromBase64(json.impurity, "impurity", 8));
  const nNodeSamples = new Int32Array(fromBase64(json.nNodeSamples, "nNodeSamples", 4));
  const weighted = new Float64Array(fromBase64(json.weightedNNodeSamples, "weightedNNodeSamples", 8));
  for (
    const [name, arr] of [
      ["childrenRight", childrenRight],
      ["feature", feature],
      ["value", value],
      [
        "impurity",
        impurity,
      ],
      ["nNodeSamples", nNodeSamples],
      ["weightedNNodeSamples", weighted],
    ] as const
  ) {
    if (arr.length !== total) {
      throw new RangeError(`trees.${name} has ${arr.length} nodes, expected ${total}`);
    }
  }
  const trees: FlatTree[] = [];
  let offset = 0;
  let k = 0;
  for (let t = 0; t < nodeCounts.length; t++) {
    const n = nodeCounts[t];
    const end = offset + n;
    const tree: FlatTree = {
      nodeCount: n,
      childrenLeft: new Int32Array(n),
      childrenRight: childrenRight.slice(offset, end),
      feature: feature.slice(offset, end),
      threshold: new Float64Array(n),
      value: value.slice(offset, end),
      impurity: impurity.slice(offset, end),
      nNodeSamples: nNodeSamples.slice(offset, end),
      weightedNNodeSamples: weighted.slice(offset, end),
    };
    for (let i = 0; i < n; i++) {
      const f = tree.feature[i];
      if (f >= 0) {
        const r = tree.childrenRight[i];
        if (
          f >= nFeatures || r <= i + 1 || r >= n || k >= thresholds.length || !Number.isFinite(thresholds[k])
        ) {
          throw new RangeError(`tree ${t} node ${i} is malformed`);
        }
        tree.childrenLeft[i] = i + 1;
        tree.threshold[i] = thresholds[k++];
      } else {
        if (f !== TREE_UNDEFINED) throw new RangeError(`tree ${t} node ${i} is malformed`);
        tree.childrenLeft[i] = TREE_LEAF;
        tree.threshold[i] = TREE_UNDEFINED;
      }
    }
    trees.push(tree);
    offset = end;
  }
  if (k !== thresholds.length) {
    throw new RangeError(`trees.threshold has ${thresholds.length} values, used ${k}`);
  }
  return trees;
}

function concatInt32(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concatFloat64(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Base64 of a typed array's bytes, little-endian. */
export function toBase64(array: Int32Array | Float64Array): string {
  requireLittleEndian();
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength).toBase64();
}

/** Bytes of a base64 string, in a fresh, aligned buffer holding whole `bytesPerValue` values. */
export function fromBase64(text: string, name: string, bytesPerValue: number): ArrayBuffer {
  requireLittleEndian();
  if (typeof text !== "string") throw new TypeError(`trees.${name} must be a base64 string`);
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(text);
  } catch {
    throw new TypeError(`trees.${name} is not valid base64`);
  }
  if (bytes.byteLength % bytesPerValue !== 0) {
    throw new RangeError(
      `trees.${name} has ${bytes.byteLength} bytes, not whole ${bytesPerValue}-byte values`,
    );
  }
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function requireLittleEndian(): void {
  if (!littleEndian) throw new Error("model serialisation assumes a little-endian platform");
}
