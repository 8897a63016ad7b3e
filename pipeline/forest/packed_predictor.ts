/**
 * The predictor a fitted forest runs: for batches, the QuickScorer kernel (quickscorer.ts) or, for
 * forests it cannot take, the WebAssembly walk (wasm.ts); for a few rows, the JavaScript walk
 * (packed.ts). It sits above all three so that none imports another.
 * @module
 */

import { type PackedForest, predictPackedInto } from "./packed.ts";
import { QuickScorer, quickScorerPays } from "./quickscorer.ts";
import { WasmPredictor } from "./wasm.ts";

// Below this many rows the copy into WebAssembly memory is not worth it; all paths give
// bit-identical results, so the switch is invisible.
const WASM_MIN_ROWS = 64;

/** A batch kernel: writes mean P(class 1) of `rows` rows of `data` into `out`. */
interface BatchKernel {
  predictInto(data: Float64Array, rows: number, out: Float64Array): void;
}

/**
 * Batch prediction with a {@link PackedForest}: a WebAssembly kernel (built on first use:
 * QuickScorer when the forest allows it and its shape says it pays, else the walk) for batches of
 * 64 rows or more, the JavaScript walk for smaller ones, all bit-identical to `predictPackedRow`. This is what
 * `BalancedRandomForest.predictProba` runs; a packed forest is plain typed arrays, so it can also
 * be posted to a worker and wrapped there.
 */
export class PackedPredictor {
  #kernel: BatchKernel | null | undefined = undefined;

  constructor(readonly forest: PackedForest) {}

  /** Writes mean P(class 1) of rows `[0, rows)` of row-major `data` (`forest.nFeatures` wide) into `out`. */
  predictInto(data: Float64Array, rows: number, out: Float64Array): void {
    const kernel = rows >= WASM_MIN_ROWS ? this.#batchKernel() : null;
    if (kernel !== null) kernel.predictInto(data, rows, out);
    else predictPackedInto(this.forest, data, rows, out);
  }

  #batchKernel(): BatchKernel | null {
    if (this.#kernel === undefined) {
      // Hosts without WebAssembly keep the JavaScript walk.
      this.#kernel = typeof WebAssembly !== "object"
        ? null
        : (quickScorerPays(this.forest) ? QuickScorer.for(this.forest) : null) ??
          new WasmPredictor(this.forest);
    }
    return this.#kernel;
  }
}
