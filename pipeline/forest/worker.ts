/**
 * Web Worker entry of a parallel fit: grows the tree range it is sent and posts the flat arrays
 * back, transferring their buffers instead of copying them.
 * @module
 */

import type { ForestOptions } from "./options.ts";
import { growTrees } from "./trainer.ts";
import type { FlatTree } from "./tree.ts";

/** What the main thread sends to a worker. */
export interface GrowRequest {
  /** Row-major features. */
  data: Float64Array;
  /** Rows of `data`. */
  rows: number;
  /** Columns of `data`. */
  cols: number;
  /** Checked 0/1 labels. */
  y: Uint8Array;
  /** Checked sample weights. */
  sampleWeight: Float64Array;
  /** Validated forest options. */
  options: ForestOptions;
  /** First tree index to grow. */
  first: number;
  /** Number of trees to grow. */
  count: number;
}

/** What a worker sends back. */
export type GrowResponse = { trees: FlatTree[] } | { error: string };

interface WorkerScope {
  onmessage: ((event: MessageEvent<GrowRequest>) => void) | null;
  postMessage(message: GrowResponse, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (event) => {
  const { data, rows, cols, y, sampleWeight, options, first, count } = event.data;
  try {
    const trees = growTrees({ data, rows, cols }, y, sampleWeight, options, first, count);
    const transfer: Transferable[] = [];
    for (const t of trees) {
      for (
        const a of [
          t.childrenLeft,
          t.childrenRight,
          t.feature,
          t.threshold,
          t.value,
          t.impurity,
          t.nNodeSamples,
          t.weightedNNodeSamples,
        ]
      ) transfer.push(a.buffer as ArrayBuffer);
    }
    scope.postMessage({ trees }, transfer);
  } catch (error) {
    scope.postMessage({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
};
