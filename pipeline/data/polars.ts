/**
 * polars, loaded on first use. etl.ts and encoder.ts need it only for frames, but paths that never
 * build one import them too (`deno task score` on clean rows: the model's encoder, the batch
 * parser's slow path), and loading the native addon costs 0.15–0.25 s of wall time at start, all
 * of it before the first row can be scored.
 * @module
 */

import type Polars from "nodejs-polars";
import { createRequire } from "node:module";

let loaded: typeof Polars | undefined;

/** The polars namespace, loaded (synchronously, once) the first time it is asked for. */
export function polars(): typeof Polars {
  return loaded ??= createRequire(import.meta.url)("nodejs-polars");
}

/**
 * The same module through `import()`: never called, but its literal specifier keeps the package in
 * the module graph that `deno compile` embeds (a `require` string is not followed).
 */
export function importPolars(): Promise<{ default: typeof Polars }> {
  return import("nodejs-polars");
}
