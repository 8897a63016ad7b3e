/**
 * `deno task bench:ceiling`: what this machine allows, measured beside what the server does, so that
 * a throughput target can be judged against the hardware rather than against hope.
 *
 * 1. **The disk.** 300 appends of 12 KiB, each followed by `fdatasync`, in the folder the audit
 *    trail is written to: a group commit with `AUDIT_SYNC=full` waits for one of these.
 * 2. **Each CPU** (pinned with `taskset` when it is installed): an integer loop (no memory traffic)
 *    and attribute-level explanations of the production model (ceiling_kernel.ts).
 * 3. **`/predict` under `wrk`**, the least server that keeps the product's contract
 *    (ceiling_server.ts: `Deno.serve`, the schema's validation, the model, and for the audit a
 *    writer thread with group commit whose rows are committed before the answer) and `serve.ts`,
 *    back to back for each setting: `?explain=false` at 16 connections on two processes
 *    (`WORKERS=2` for serve.ts), and the default with reasons at 8 connections (two processes;
 *    serve.ts as deployed by default: one replica, its prediction pool on both cores), each with
 *    the audit trail off, `full` and `normal`. Beside each: requests per second, p99 and CPU time per
 *    request (all the server's processes and threads).
 *
 * The least server's audit writes a file per process (no lock shared between them) and skips what
 * the trail does beyond the commit (reads, checkpointer, key index, health). It is a yardstick, not
 * a bound: with `AUDIT_SYNC=full`, serve.ts has beaten it (2026-11-29). Issue 15's and 16's throughput
 * targets are printed beside them. Options: `--duration S` (default 8), `--rounds N` (default 1;
 * more repeat the whole table, ABAB), `--only fsync,cpus,serve` (default all three).
 * Writes `bench/results/ceiling.json`.
 * @module
 */

import { parseArgs } from "node:util";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { germanApplicants } from "../tests/fixtures.ts";
import {
  copyProductionModel,
  formatTable,
  freePort,
  hasWrk,
  type LoadResult,
  processCpuMs,
  runWrk,
  spawnLeastServer,
  spawnServer,
  waitReady,
  writePredictScript,
} from "./wrk.ts";

const ROOT = new URL("../", import.meta.url);
const RESULTS = new URL("./results/ceiling.json", import.meta.url).pathname;
const REPO_MODELS = new URL("../models/", import.meta.url).pathname.replace(/\/$/, "");

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "8" },
    rounds: { type: "string", default: "1" },
    only: { type: "string", default: "fsync,cpus,serve" },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
if (!(duration > 0) || !(Number.isInteger(rounds) && rounds >= 1)) {
  throw new Error(`--duration takes seconds > 0 and --rounds a positive integer`);
}
const parts = new Set(values.only.split(",").map((s) => s.trim()));
for (const part of parts) {
  if (!["fsync", "cpus", "serve"].includes(part)) {
    throw new Error(`--only takes fsync, cpus, serve; got ${part}`);
  }
}

/** The `/predict` workloads: issue 16's (no reasons, both cores) and issue 15's (reasons). */
const WORKLOADS = [
  {
    name: "explain=false",
    path: "/predict?explain=false",
    connections: 16,
    leastFlags: [] as string[],
    serveEnv: { WORKERS: "2" } as Record<string, string>,
    target: 15_000,
  },
  {
    name: "with reasons",
    path: "/predict",
    connections: 8,
    leastFlags: ["--explain"],
    serveEnv: {} as Record<string, string>,
    target: 2_000,
  },
] as const;
const AUDITS = ["off", "full", "normal"] as const;
type Audit = typeof AUDITS[number];

/** Percentiles of `values` (ms), sorted in place. */
function percentiles(values: number[]): { p50: number; p90: number; p99: number } {
  values.sort((a, b) => a - b);
  const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

/** Latency of 12 KiB appended and `fdatasync`ed, 300 times, in `dir`. */
async function fsyncLatency(dir: string) {
  const path = `${dir}/fsync.bin`;
  const file = await Deno.open(path, { write: true, create: true, mode: 0o600 });
  const block = new Uint8Array(12 * 1024).fill(120);
  const ms: number[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      const start = performance.now();
      let written = 0;
      while (written < block.length) written += await file.write(block.subarray(written));
      await file.syncData();
      ms.push(performance.now() - start);
    }
  } finally {
    file.close();
    await Deno.remove(path);
  }
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  return { appends: ms.length, bytes: block.length, mean_ms: mean, ...percentiles(ms) };
}

/** Whether `taskset` (util-linux) can pin a process to a CPU here. */
async function hasTaskset(): Promise<boolean> {
  try {
    return (await new Deno.Command("taskset", { args: ["-c", "0", "true"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** ceiling_kernel.ts's figures on each CPU in turn (or unpinned, once, without `taskset`). */
async function perCpu(modelPath: string, applicantsPath: string) {
  const pin = await hasTaskset();
  const cpus = pin ? Array.from({ length: navigator.hardwareConcurrency }, (_, i) => i) : [null];
  const out = [];
  for (const cpu of cpus) {
    const deno = ["deno", "run", "--allow-read", new URL("ceiling_kernel.ts", import.meta.url).pathname];
    const [command, ...args] = cpu === null ? deno : ["taskset", "-c", String(cpu), ...deno];
    const result = await new Deno.Command(command, { args: [...args, modelPath, applicantsPath] }).output();
    if (!result.success) {
      throw new Error(`ceiling_kernel.ts failed:\n${new TextDecoder().decode(result.stderr)}`);
    }
    const line = new TextDecoder().decode(result.stdout).trim().split("\n").at(-1)!;
    out.push({ cpu, ...JSON.parse(line) as { integer_loop_ms: number; explain_us: number } });
  }
  return out;
}

/** One server under one workload: its load result and CPU per request. */
interface ServerRun extends LoadResult {
  server: "least" | "serve.ts";
  workload: string;
  audit: Audit;
  cpu_ms_per_request: number | null;
}

const loadAverage = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const loadBefore = loadAverage();
const work = await Deno.makeTempDir({ prefix: "credit-ceiling-" });
try {
  const entry = await copyProductionModel(REPO_MODELS, `${work}/models`, " (bench:ceiling serves it)");
  const modelPath = `${work}/models/${entry.artifact}`;
  const applicants = (await germanApplicants()).slice(0, 200);
  const applicantsPath = `${work}/applicants.json`;
  await Deno.writeTextFile(applicantsPath, JSON.stringify(applicants));
  console.error(`production model v${entry.version} (run ${entry.run_id}); load average ${loadBefore}`);

  const fsync = parts.has("fsync") ? await fsyncLatency(work) : null;
  if (fsync) {
    console.log(
      `fsync: ${fsync.appends} appends of 12 KiB + fdatasync in ${work}: mean ${
        fsync.mean_ms.toFixed(2)
      } ms, ` +
        `p50 ${fsync.p50.toFixed(2)}, p90 ${fsync.p90.toFixed(2)}, p99 ${fsync.p99.toFixed(2)} ms`,
    );
  }
  const cpus = parts.has("cpus") ? await perCpu(modelPath, applicantsPath) : [];
  for (const c of cpus) {
    console.log(
      `CPU ${c.cpu ?? "(not pinned)"}: integer loop ${c.integer_loop_ms.toFixed(0)} ms, ` +
        `explanation ${c.explain_us.toFixed(0)} µs (median of 9 passes over 200 applicants)`,
    );
  }

  const runs: ServerRun[] = [];
  const withWrk = parts.has("serve") && await hasWrk();
  if (parts.has("serve") && !withWrk) {
    console.error("wrk is not installed (Debian: apt-get install wrk): the /predict part is skipped");
  }
  if (withWrk) {
    const scripts = new Map<string, string>();
    for (const w of WORKLOADS) {
      scripts.set(
        w.name,
        await writePredictScript(`${work}/${w.connections}-${scripts.size}.lua`, applicants, w.path),
      );
    }
    const measure = async (
      server: ServerRun["server"],
      workload: typeof WORKLOADS[number],
      audit: Audit,
      start: (port: number, dir: string) => Deno.ChildProcess[],
    ) => {
      const port = freePort();
      const dir = await Deno.makeTempDir({ dir: work, prefix: `${server === "least" ? "least" : "serve"}-` });
      const started = start(port, dir);
      const base = new URL(`http://127.0.0.1:${port}/`);
      try {
        await waitReady(base);
        const script = scripts.get(workload.name)!;
        await runWrk({ base, script, seconds: 3, connections: workload.connections }); // warm-up
        const cpu = () => started.reduce((sum, p) => sum + (processCpuMs(p.pid) ?? NaN), 0);
        const before = cpu();
        const result = await runWrk({ base, script, seconds: duration, connections: workload.connections });
        const used = cpu() - before;
        const run: ServerRun = {
          server,
          workload: workload.name,
          audit,
          ...result,
          cpu_ms_per_request: Number.isFinite(used) ? used / result.requests : null,
        };
        console.error(
          `${server} ${workload.name} audit=${audit}: ${result.requests_per_s} req/s, p99 ${result.latency_ms.p99} ms`,
        );
        runs.push(run);
      } finally {
        for (const p of started) p.kill("SIGTERM");
        await Promise.all(started.map((p) => p.status));
      }
    };
    const least = (workload: typeof WORKLOADS[number], audit: Audit) => (port: number, dir: string) =>
      [0, 1].map((i) =>
        spawnLeastServer({
          port,
          modelPath,
          writable: dir,
          flags: [
            ...workload.leastFlags,
            ...(audit === "off" ? [] : ["--audit", `${dir}/audit-${i}.sqlite`]),
            ...(audit === "normal" ? ["--sync-normal"] : []),
          ],
        })
      );
    const served = (workload: typeof WORKLOADS[number], audit: Audit) => (port: number, dir: string) => [
      spawnServer({
        serveTs: new URL("serve.ts", ROOT).pathname,
        port,
        writable: dir,
        flags: ["--unstable-net"],
        env: {
          MODELS_DIR: `${work}/models`,
          ...workload.serveEnv,
          ...(audit === "off" ? { AUDIT: "off" } : { AUDIT_PATH: `${dir}/audit.sqlite`, AUDIT_SYNC: audit }),
        },
      }),
    ];
    for (let round = 0; round < rounds; round++) {
      for (const workload of WORKLOADS) {
        for (const audit of AUDITS) {
          await measure("least", workload, audit, least(workload, audit));
          await measure("serve.ts", workload, audit, served(workload, audit));
        }
      }
    }
    const table: string[][] = [[
      "workload",
      "audit",
      "least server req/s (p99)",
      "serve.ts req/s (p99)",
      "serve.ts / least",
      "CPU/request least, serve.ts",
      "target",
    ]];
    for (let i = 0; i < runs.length; i += 2) {
      const [a, b] = [runs[i], runs[i + 1]];
      const w = WORKLOADS.find((x) => x.name === a.workload)!;
      const ms = (r: ServerRun) =>
        r.cpu_ms_per_request === null ? "n/a" : `${r.cpu_ms_per_request.toFixed(3)} ms`;
      table.push([
        `${a.workload} (${a.connections} conns)`,
        a.audit,
        `${a.requests_per_s.toLocaleString("en")} (${a.latency_ms.p99} ms)`,
        `${b.requests_per_s.toLocaleString("en")} (${b.latency_ms.p99} ms)`,
        (b.requests_per_s / a.requests_per_s).toFixed(2),
        `${ms(a)}, ${ms(b)}`,
        `≥ ${w.target.toLocaleString("en")}`,
      ]);
    }
    console.log(formatTable(table));
  }
  const summary = {
    benchmark: "ceiling",
    created_at: new Date().toISOString(),
    command: `deno task bench:ceiling ${Deno.args.join(" ")}`.trim(),
    deno: Deno.version.deno,
    cores: navigator.hardwareConcurrency,
    model: { version: entry.version, run_id: entry.run_id },
    load_average_before: loadBefore,
    load_average_after: loadAverage(),
    fsync,
    cpus,
    servers: runs,
  };
  await writeJsonAtomic(RESULTS, summary);
} finally {
  await Deno.remove(work, { recursive: true });
}
