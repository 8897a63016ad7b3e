/**
 * `deno task bench:kernels`: the forest's batch kernels on the registry's production model, one
 * thread: the JavaScript walk (packed.ts), the WebAssembly walk (wasm.ts) and QuickScorer in
 * WebAssembly SIMD (quickscorer.ts), which `PackedPredictor` runs for batches. The rows are
 * german.data's 1,000 applicants encoded by the byte path and repeated to `--rows` (default
 * 100,000; no kernel keeps anything between rows, so repeats cost what new rows cost). Each kernel
 * scores them once to warm up, then `--runs` times (default 5), interleaved; the best CPU time of
 * each is printed with rows/s, after checking that all three give the same probabilities bit for
 * bit. QuickScorer's build (analysis, assembly, compile) is timed on its own. Writes
 * bench/results/kernels.json.
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { splitCsvLine } from "../pipeline/data/csv.ts";
import { predictPackedInto } from "../pipeline/forest/packed.ts";
import { QuickScorer } from "../pipeline/forest/quickscorer.ts";
import { WasmPredictor } from "../pipeline/forest/wasm.ts";
import { encodeCleanBytes, encodingPlan, headerLayout } from "../pipeline/serving/batch_fast.ts";
import { ModelHolder } from "../pipeline/serving/model_holder.ts";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { germanCsv } from "../tests/fixtures.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rows: { type: "string", default: "100000" }, runs: { type: "string", default: "5" } },
});
const rows = Number(values.rows);
const runs = Number(values.runs);

const serving = (await ModelHolder.open()).current!;
const packed = serving.model.forest.packed;
const text = await germanCsv();
const newline = text.indexOf("\n");
const header = text.slice(0, newline);
const body = new TextEncoder().encode(text.slice(newline + 1));
const layout = headerLayout(header, splitCsvLine(header))!;
const base = encodeCleanBytes(serving.model.encoder, layout, body, 1000, {
  plan: encodingPlan(serving.model.encoder),
})!.matrix;
const cols = base.cols;
const data = new Float64Array(rows * cols);
for (let r = 0; r < rows; r += base.rows) {
  data.set(base.data.subarray(0, Math.min(base.rows, rows - r) * cols), r * cols);
}

const cpuMs = (fn: () => void) => {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};
let scorer: QuickScorer | null = null;
const buildMs = cpuMs(() => scorer = QuickScorer.for(packed));
if (!scorer) throw new Error("QuickScorer declined the production model");
const quick: QuickScorer = scorer;
const wasm = new WasmPredictor(packed);
const kernels: [string, (out: Float64Array) => void][] = [
  ["JavaScript walk (packed.ts)", (out) => predictPackedInto(packed, data, rows, out)],
  ["WebAssembly walk (wasm.ts)", (out) => wasm.predictInto(data, rows, out)],
  ["QuickScorer, WebAssembly SIMD (quickscorer.ts)", (out) => quick.predictInto(data, rows, out)],
];
const best = kernels.map(() => Infinity);
const outputs = kernels.map(() => new Float64Array(rows));
const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
// A first pass unmeasured: WebAssembly starts in its baseline compiler and tiers up while it runs.
kernels.forEach(([, kernel], k) => kernel(outputs[k]));
for (let run = 0; run < runs; run++) {
  kernels.forEach(([, kernel], k) => best[k] = Math.min(best[k], cpuMs(() => kernel(outputs[k]))));
}
for (let k = 1; k < kernels.length; k++) {
  for (let r = 0; r < rows; r++) {
    if (!Object.is(outputs[k][r], outputs[0][r])) throw new Error(`${kernels[k][0]} differs at row ${r}`);
  }
}
const trees = packed.roots.length;
console.log(
  `production model v${serving.version} (${trees} trees), ${rows.toLocaleString("en")} rows, ` +
    `best of ${runs} (CPU), one thread; load average ${load} before`,
);
const results = kernels.map(([name], k) => ({
  kernel: name,
  cpu_ms: Math.round(best[k]),
  rows_per_second: Math.round(rows / (best[k] / 1000)),
}));
for (const r of results) {
  console.log(
    `  ${r.kernel.padEnd(48)} ${String(r.cpu_ms).padStart(6)} ms  ${
      r.rows_per_second.toLocaleString("en")
    } rows/s`,
  );
}
console.log(
  `  QuickScorer build (analysis, assembly, compile): ${buildMs.toFixed(0)} ms CPU; outputs identical`,
);
await writeJsonAtomic(new URL("results/kernels.json", import.meta.url).pathname, {
  command: "deno task bench:kernels",
  model_version: serving.version,
  trees,
  nodes: packed.feature.length,
  rows,
  runs,
  loadavg_before: load,
  results,
  quickscorer_build_cpu_ms: Math.round(buildMs),
  identical: true,
});
