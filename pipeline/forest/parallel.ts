/**
 * Parallel forest growth on Web Workers: contiguous tree ranges, one per worker, reassembled in
 * tree order. Each tree's randomness depends only on its index, so the result equals a
 * single-threaded fit.
 * @module
 */

import type { Matrix } from "./matrix.ts";
import type { ForestOptions } from "./options.ts";
import type { FlatTree } from "./tree.ts";
import type { GrowRequest, GrowResponse } from "./worker.ts";

/** Grows all `options.nEstimators` trees on `nJobs` workers. */
export async function growTreesParallel(
  X: Matrix,
  y: Uint8Array,
  sampleWeight: Float64Array,
  options: ForestOptions,
  nJobs: number,
): Promise<FlatTree[]> {
  const nTrees = options.nEstimators;
  const jobs = Math.min(nJobs, nTrees);
  const ranges: [number, number][] = [];
  for (let j = 0; j < jobs; j++) {
    const first = Math.floor((j * nTrees) / jobs);
    ranges.push([first, Math.floor(((j + 1) * nTrees) / jobs) - first]);
  }
  const parts = await Promise.all(ranges.map(([first, count]) =>
    runWorker({
      data: X.data,
      rows: X.rows,
      cols: X.cols,
      y,
      sampleWeight,
      options,
      first,
      count,
    })
  ));
  return parts.flat();
}

function runWorker(request: GrowRequest): Promise<FlatTree[]> {
  const worker = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
  return new Promise<FlatTree[]>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<GrowResponse>) => {
      worker.terminate();
      const message = event.data;
      if ("error" in message) reject(new Error(`forest worker failed: ${message.error}`));
      else resolve(message.trees);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(`forest worker failed: ${event.message}`));
    };
    // The data is copied (structured clone), not transferred: the caller keeps its matrix.
    worker.postMessage(request);
  });
}
