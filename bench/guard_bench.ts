/**
 * `deno task bench:guard [--rounds 3] [--duration 10] [--trees 300]`: what the client guard
 * (pipeline/serving/client_guard.ts) costs. `POST /predict?explain=false` at 8 connections with
 * `wrk`, the audit trail off, a server with `CLIENT_GUARD=on` and one with `off`, interleaved
 * (the order alternating each round) so a busy machine weighs on both alike. Prints each run and
 * the medians, with the load average; writes `bench/results/guard.json`.
 * @module
 */

import { parseArgs } from "node:util";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { germanApplicants, trainFixtureModel } from "../tests/fixtures.ts";
import { freePort, type LoadResult, runWrk, waitReady, writePredictScript } from "./wrk.ts";

const ROOT = new URL("..", import.meta.url);
const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    trees: { type: "string", default: "300" },
  },
});
const rounds = Number(values.rounds), seconds = Number(values.duration), trees = Number(values.trees);
const loadAverage = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");

const work = await Deno.makeTempDir({ prefix: "guard-bench-" });
try {
  const fixture = await trainFixtureModel({ nEstimators: trees, modelsDir: `${work}/models` });
  const script = await writePredictScript(
    `${work}/predict.lua`,
    (await germanApplicants()).slice(0, 200),
    "/predict?explain=false",
  );
  const runs: { guard: string; round: number; load_average: string; result: LoadResult }[] = [];
  console.log(`load average at start: ${loadAverage()}`);
  for (let round = 0; round < rounds; round++) {
    for (const guard of round % 2 ? ["off", "on"] : ["on", "off"]) {
      const port = freePort();
      const base = new URL(`http://127.0.0.1:${port}/`);
      // By name, so --allow-run=wrk,deno covers it (the executable may be a symbolic link).
      const server = new Deno.Command("deno", {
        args: [
          "run",
          "--allow-net=127.0.0.1",
          "--allow-read",
          "--allow-env",
          "--allow-ffi",
          "--allow-sys",
          new URL("serve.ts", ROOT).pathname,
        ],
        env: {
          PORT: String(port),
          HOST: "127.0.0.1",
          MODELS_DIR: fixture.modelsDir,
          AUDIT: "off",
          LOG: "off",
          BATCH_WORKERS: "0",
          CLIENT_GUARD: guard,
        },
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await waitReady(base);
        const load = loadAverage();
        const result = await runWrk({ base, script, seconds, connections: 8 });
        runs.push({ guard, round, load_average: load, result });
        console.log(
          `round ${round + 1} guard ${
            guard.padEnd(3)
          }: ${result.requests_per_s} req/s, p50 ${result.latency_ms.p50} ms, ` +
            `p99 ${result.latency_ms.p99} ms, errors ${result.errors} (load ${load})`,
        );
      } finally {
        server.kill("SIGTERM");
        await server.status;
      }
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = Object.fromEntries(["on", "off"].map((guard) => {
    const mine = runs.filter((r) => r.guard === guard).map((r) => r.result);
    return [guard, {
      median_requests_per_s: median(mine.map((r) => r.requests_per_s)),
      median_p99_ms: median(mine.map((r) => r.latency_ms.p99)),
    }];
  }));
  console.log(`medians: ${JSON.stringify(summary)}; load average at the end: ${loadAverage()}`);
  await writeJsonAtomic(new URL("bench/results/guard.json", ROOT).pathname, {
    command: `deno task bench:guard --rounds ${rounds} --duration ${seconds} --trees ${trees}`,
    measured_at: new Date().toISOString(),
    trees,
    runs,
    summary,
  });
} finally {
  await Deno.remove(work, { recursive: true });
}
