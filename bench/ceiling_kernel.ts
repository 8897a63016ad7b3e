/**
 * One CPU's speed, for `deno task bench:ceiling` (which runs this pinned to each CPU in turn with
 * `taskset`): a register-only integer loop, and attribute-level explanations of the served model
 * (a working set of ~0.5 MiB of nodes, so the caches count). Prints one JSON line.
 *
 * Usage: `deno run --allow-read bench/ceiling_kernel.ts MODEL_JSON APPLICANTS_JSON`.
 * @module
 */

import { CreditModel } from "../pipeline/model/artifact.ts";
import type { Applicant } from "../pipeline/data/schema.ts";

const [modelPath, applicantsPath] = Deno.args;
const { model } = await CreditModel.load(modelPath);
const applicants = JSON.parse(await Deno.readTextFile(applicantsPath)) as Applicant[];

/** Milliseconds for 3·10⁸ steps of a linear congruential generator (no memory traffic). */
function integerLoopMs(): number {
  const start = performance.now();
  let x = 0;
  for (let i = 0; i < 3e8; i++) x = (x * 1103515245 + 12345) | 0;
  const ms = performance.now() - start;
  if (x === 0.5) console.log(x); // keeps the loop from being optimised away
  return ms;
}

/** Median µs of one explanation, over `rounds` passes through the applicants. */
function explainMicros(rounds: number): number {
  const passes: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (const applicant of applicants) model.explain(applicant);
    passes.push((performance.now() - start) * 1000 / applicants.length);
  }
  passes.sort((a, b) => a - b);
  return passes[Math.floor(passes.length / 2)];
}

explainMicros(2); // warm-up: JIT, WebAssembly compilation
console.log(JSON.stringify({ integer_loop_ms: integerLoopMs(), explain_us: explainMicros(9) }));
