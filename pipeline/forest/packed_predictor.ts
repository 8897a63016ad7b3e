/**
 * The predictor a fitted forest runs: the WebAssembly kernel (wasm.ts) for batches, the JavaScript
 * walk (packed.ts) for a few rows. It sits above both so that neither imports the other.
 * @module
 */

import { type PackedForest, predictPackedInto } from "./packed.ts";
import { WasmPredictor } from "./wasm.ts";

// Below this many rows the copy into WebAssembly memory is not worth it; both paths give
// bit-identical results, so the switch is invisible.
const WASM_MIN_ROWS = 64;

/**
 * Batch prediction with a {@link PackedForest}: the WebAssembly kernel (built on first use) for
 * batches of 64 rows or more, the JavaScript walk for smaller ones, both bit-identical to
 * `predictPackedRow`. This is what `BalancedRandomForest.predictProba` runs; a packed
 * forest is plain typed arrays, so it can also be posted to a worker and wrapped there.
 */
export class PackedPredictor {
  #wasm: WasmPredictor | null | undefined = undefined;

  constructor(readonly forest: PackedForest) {}

  /** Writes mean P(class 1) of rows `[0, rows)` of row-major `data` (`forest.nFeatures` wide) into `out`. */
  predictInto(data: Float64Array, rows: number, out: Float64Array): void {
    const wasm = rows >= WASM_MIN_ROWS ? this.#wasmPredictor() : null;
    if (wasm !== null) wasm.predictInto(data, rows, out);
    else predictPackedInto(this.forest, data, rows, out);
  }

  #wasmPredictor(): WasmPredictor | null {
    if (this.#wasm === undefined) {
      // Hosts without WebAssembly keep the JavaScript walk.
      this.#wasm = typeof WebAssembly === "object" ? new WasmPredictor(this.forest) : null;
    }
    return this.#wasm;
  }
}
