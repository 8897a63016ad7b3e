/**
 * `deno task bench:score`: `deno task score` on a large CSV, as a process (start-up included),
 * measured with GNU time (`/usr/bin/time -v`): wall time, CPU time and peak resident memory.
 *
 * `--model fixture` (the default) trains a production-like model of `--trees` trees (default 300)
 * into a temporary folder (tests/fixtures.ts); `--model production` scores with the registry's
 * production model (`models/`, read only: its registry and run folder are copied to the temporary
 * folder). Writes `--rows` rows (default 1,000,000) drawn with replacement from german.data (seeded,
 * an `id` column), scores them `--runs` times (default 3) and prints each run, the median and the
 * load average. Writes `bench/results/score.json`. Targets: ≤ 3 s wall, ≤ 300 MB peak RSS.
 * @module
 */

import { parseArgs } from "node:util";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { writeResampledCsv } from "./resampled_csv.ts";
import { quantile } from "../pipeline/stats.ts";
import { trainFixtureModel } from "../tests/fixtures.ts";
import { DEFAULT_MODELS_DIR } from "../pipeline/tracking/mod.ts";
import { copyProductionModel } from "./wrk.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rows: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    trees: { type: "string", default: "300" },
    model: { type: "string", default: "fixture" },
  },
});
if (values.model !== "fixture" && values.model !== "production") {
  console.error(`--model must be fixture or production, not ${values.model}`);
  Deno.exit(2);
}
const rows = Number(values.rows);
const runs = Number(values.runs);
const work = await Deno.makeTempDir({ prefix: "credit-score-bench-" });
const modelsDir = `${work}/models`;
let trees: number;
if (values.model === "production") {
  trees = await copyProductionTrees(DEFAULT_MODELS_DIR, modelsDir);
} else {
  await trainFixtureModel({ nEstimators: Number(values.trees), modelsDir });
  trees = Number(values.trees);
}
try {
  const input = `${work}/batch.csv`;
  const bytes = await writeResampledCsv(input, rows);
  console.error(`${rows.toLocaleString("en")} rows, ${(bytes / 1e6).toFixed(1)} MB`);
  const results: {
    seconds: number;
    cpu_seconds: number;
    peak_rss_mb: number;
    cpu_percent: number;
    loadavg_before: string;
  }[] = [];
  for (let r = 0; r < runs; r++) {
    const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
    const { code, stderr } = await new Deno.Command("/usr/bin/time", {
      // `deno task score` itself, so the task's flags (V8's young generation) are measured too;
      // GNU time reports the largest peak RSS among the processes it waited for.
      args: [
        "-v",
        Deno.execPath(),
        "task",
        "--quiet",
        "score",
        input,
        "-o",
        `${work}/scores.csv`,
        "--models-dir",
        modelsDir,
      ],
      cwd: new URL("..", import.meta.url).pathname,
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    if (code !== 0) throw new Error(`score failed:\n${text}`);
    const wall = text.match(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/)!;
    const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
    const rssMb = Number(text.match(/Maximum resident set size \(kbytes\): (\d+)/)![1]) / 1024;
    const cpu = text.match(/Percent of CPU this job got: (\d+)%/)![1];
    const cpuSeconds = Number(text.match(/User time \(seconds\): ([\d.]+)/)![1]) +
      Number(text.match(/System time \(seconds\): ([\d.]+)/)![1]);
    results.push({
      seconds,
      cpu_seconds: cpuSeconds,
      peak_rss_mb: Math.round(rssMb),
      cpu_percent: Number(cpu),
      loadavg_before: load,
    });
    console.error(
      `run ${r + 1}: ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU, ${
        rssMb.toFixed(0)
      } MB peak RSS, ${cpu}% CPU, load ${load}`,
    );
  }
  const median = (key: "seconds" | "cpu_seconds" | "peak_rss_mb") =>
    quantile(results.map((x) => x[key]).sort((a, b) => a - b), 0.5);
  const summary = {
    command: "deno task bench:score",
    rows,
    bytes,
    model: values.model,
    trees,
    cores: navigator.hardwareConcurrency,
    runs: results,
    median_seconds: median("seconds"),
    median_cpu_seconds: median("cpu_seconds"),
    median_peak_rss_mb: median("peak_rss_mb"),
  };
  console.log(
    `score ${rows.toLocaleString("en")} rows, ${values.model} model (${trees} trees): median ${
      summary.median_seconds.toFixed(2)
    } s wall, ` +
      `${
        summary.median_cpu_seconds.toFixed(2)
      } s CPU, ${summary.median_peak_rss_mb} MB peak RSS (${runs} runs, ` +
      `load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")} after)`,
  );
  await writeJsonAtomic(new URL("results/score.json", import.meta.url).pathname, summary);
} finally {
  await Deno.remove(work, { recursive: true });
}

/** The production model copied from `from` into `to` (wrk.ts); returns its number of trees. */
async function copyProductionTrees(from: string, to: string): Promise<number> {
  const entry = await copyProductionModel(from, to);
  const artifact = JSON.parse(await Deno.readTextFile(`${to}/${entry.artifact}`));
  return artifact.params?.nEstimators ?? NaN;
}
