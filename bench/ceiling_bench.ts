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
 * 4. **What an answer's size costs `Deno.serve`** (ceiling_answer_server.ts): the same server
 *    answering 380 and 440 bytes of body (489 and 549 bytes with its status line and headers),
 *    alternated, 16 connections: Deno sends an answer over 512 bytes in two writes.
 *
 * The least server's audit writes a file per process (no lock shared between them) and skips what
 * the trail does beyond the commit (reads, checkpointer, key index, health). It is a yardstick, not
 * a bound: with `AUDIT_SYNC=full`, serve.ts has beaten it (2026-11-29). Issue 15's and 16's throughput
 * targets are printed beside them. Options:
 * - `--duration S` (default 8), `--rounds N` (default 1; more repeat the whole table, ABAB);
 * - `--only fsync,cpus,answer,serve` (default all four);
 * - `--workloads explain-false,reasons` and `--audits off,full,normal` (default all);
 * - `--serve-env KEY=VALUE,…`: settings for serve.ts beyond the workload's (e.g.
 *   `WORKERS=2,BATCH_WORKERS=0,CLIENT_GUARD=off`), to measure a deployment against the same yardstick;
 * - `--least-processes N` (default 2): processes of the least server sharing the port;
 * - `--out FILE` (default `bench/results/ceiling.json`).
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
const DEFAULT_RESULTS = new URL("./results/ceiling.json", import.meta.url).pathname;
const REPO_MODELS = new URL("../models/", import.meta.url).pathname.replace(/\/$/, "");

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "8" },
    rounds: { type: "string", default: "1" },
    only: { type: "string", default: "fsync,cpus,answer,serve" },
    workloads: { type: "string", default: "explain-false,reasons" },
    audits: { type: "string", default: "off,full,normal" },
    "serve-env": { type: "string", default: "" },
    "least-processes": { type: "string", default: "2" },
    out: { type: "string", default: DEFAULT_RESULTS },
  },
});
const duration = Number(values.duration);
const rounds = Number(values.rounds);
if (!(duration > 0) || !(Number.isInteger(rounds) && rounds >= 1)) {
  throw new Error(`--duration takes seconds > 0 and --rounds a positive integer`);
}
/** The comma-separated items of option `name`, each one of `allowed`. */
function listOption(name: string, value: string, allowed: readonly string[]): Set<string> {
  const items = new Set(value.split(",").map((s) => s.trim()));
  for (const item of items) {
    if (!allowed.includes(item)) throw new Error(`--${name} takes ${allowed.join(", ")}; got ${item}`);
  }
  return items;
}
const parts = listOption("only", values.only, ["fsync", "cpus", "answer", "serve"]);
const leastProcesses = Number(values["least-processes"]);
if (!(Number.isInteger(leastProcesses) && leastProcesses >= 1 && leastProcesses <= 8)) {
  throw new Error(`--least-processes takes an integer from 1 to 8; got ${values["least-processes"]}`);
}
/** `--serve-env`: settings for serve.ts beyond the workload's. */
const serveEnv: Record<string, string> = {};
for (const pair of values["serve-env"].split(",").filter((s) => s.trim() !== "")) {
  const match = pair.trim().match(/^([A-Z][A-Z0-9_]*)=(.*)$/);
  if (!match) throw new Error(`--serve-env takes KEY=VALUE pairs separated by commas; got ${pair}`);
  serveEnv[match[1]] = match[2];
}

/** The `/predict` workloads: issue 16's (no reasons, both cores) and issue 15's (reasons). */
const WORKLOADS = [
  {
    id: "explain-false",
    name: "explain=false",
    path: "/predict?explain=false",
    connections: 16,
    leastFlags: [] as string[],
    serveEnv: { WORKERS: "2" } as Record<string, string>,
    target: 15_000,
  },
  {
    id: "reasons",
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
const workloads = listOption("workloads", values.workloads, WORKLOADS.map((w) => w.id));
const audits = listOption("audits", values.audits, AUDITS);

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

/** Body sizes of the answer part: whole answers of 489 and 549 bytes, either side of 512. */
const ANSWER_BYTES = [380, 440] as const;
/** Bytes of ceiling_answer_server.ts's status line and headers, `date` included. */
const ANSWER_HEAD_BYTES = 109;

/** One answer size under `wrk`: its load result and the server's CPU per request. */
interface AnswerRun extends LoadResult {
  body_bytes: number;
  answer_bytes: number;
  cpu_us_per_request: number | null;
}

/**
 * Once `started` (the processes of one server) answer on `port`: a 3 s warm-up, then `wrk` for
 * `seconds`; its result and the CPU time (ms, all the processes' threads) it cost them. Stops them.
 */
async function loadTest(
  started: Deno.ChildProcess[],
  port: number,
  script: string,
  seconds: number,
  connections: number,
): Promise<{ result: LoadResult; cpuMs: number }> {
  const base = new URL(`http://127.0.0.1:${port}/`);
  try {
    await waitReady(base);
    await runWrk({ base, script, seconds: 3, connections }); // warm-up
    const cpu = () => started.reduce((sum, p) => sum + (processCpuMs(p.pid) ?? NaN), 0);
    const before = cpu();
    const result = await runWrk({ base, script, seconds, connections });
    return { result, cpuMs: cpu() - before };
  } finally {
    for (const p of started) p.kill("SIGTERM");
    await Promise.all(started.map((p) => p.status));
  }
}

/**
 * ceiling_answer_server.ts answering each size of {@link ANSWER_BYTES} in turn, `max(2, rounds)`
 * times (ABAB), at 16 connections posting `script`'s applicants.
 */
async function answerCost(script: string, seconds: number, rounds: number): Promise<AnswerRun[]> {
  const server = new URL("ceiling_answer_server.ts", import.meta.url).pathname;
  const out: AnswerRun[] = [];
  for (let round = 0; round < Math.max(2, rounds); round++) {
    for (const bytes of ANSWER_BYTES) {
      const port = freePort();
      const child = new Deno.Command("deno", {
        args: ["run", "--allow-net=127.0.0.1", server, String(port), String(bytes)],
        stdout: "null",
        stderr: "inherit",
      }).spawn();
      const { result, cpuMs } = await loadTest([child], port, script, seconds, 16);
      out.push({
        body_bytes: bytes,
        answer_bytes: bytes + ANSWER_HEAD_BYTES,
        ...result,
        cpu_us_per_request: Number.isFinite(cpuMs) ? cpuMs * 1000 / result.requests : null,
      });
      console.error(`answer of ${bytes} B: ${result.requests_per_s} req/s`);
    }
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
  const answers: AnswerRun[] = [];
  const withWrk = (parts.has("serve") || parts.has("answer")) && await hasWrk();
  if (!withWrk && (parts.has("serve") || parts.has("answer"))) {
    console.error(
      "wrk is not installed (Debian: apt-get install wrk): the answer and /predict parts are skipped",
    );
  }
  const scripts = new Map<string, string>();
  if (withWrk) {
    for (const w of WORKLOADS) {
      scripts.set(
        w.name,
        await writePredictScript(`${work}/${w.connections}-${scripts.size}.lua`, applicants, w.path),
      );
    }
  }
  if (withWrk && parts.has("answer")) {
    answers.push(...await answerCost(scripts.get("explain=false")!, duration, rounds));
    const table: string[][] = [["answer body (whole answer)", "req/s", "p99", "server CPU/request"]];
    for (const a of answers) {
      table.push([
        `${a.body_bytes} B (${a.answer_bytes} B)`,
        a.requests_per_s.toLocaleString("en"),
        `${a.latency_ms.p99} ms`,
        a.cpu_us_per_request === null ? "n/a" : `${a.cpu_us_per_request.toFixed(1)} µs`,
      ]);
    }
    console.log(formatTable(table));
  }
  if (withWrk && parts.has("serve")) {
    const measure = async (
      server: ServerRun["server"],
      workload: typeof WORKLOADS[number],
      audit: Audit,
      start: (port: number, dir: string) => Deno.ChildProcess[],
    ) => {
      const port = freePort();
      const dir = await Deno.makeTempDir({ dir: work, prefix: `${server === "least" ? "least" : "serve"}-` });
      const script = scripts.get(workload.name)!;
      const { result, cpuMs } = await loadTest(
        start(port, dir),
        port,
        script,
        duration,
        workload.connections,
      );
      runs.push({
        server,
        workload: workload.name,
        audit,
        ...result,
        cpu_ms_per_request: Number.isFinite(cpuMs) ? cpuMs / result.requests : null,
      });
      console.error(
        `${server} ${workload.name} audit=${audit}: ${result.requests_per_s} req/s, p99 ${result.latency_ms.p99} ms`,
      );
    };
    const least = (workload: typeof WORKLOADS[number], audit: Audit) => (port: number, dir: string) =>
      Array.from({ length: leastProcesses }, (_, i) =>
        spawnLeastServer({
          port,
          modelPath,
          writable: dir,
          flags: [
            ...workload.leastFlags,
            ...(audit === "off" ? [] : ["--audit", `${dir}/audit-${i}.sqlite`]),
            ...(audit === "normal" ? ["--sync-normal"] : []),
          ],
        }));
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
          ...serveEnv,
        },
      }),
    ];
    for (let round = 0; round < rounds; round++) {
      for (const workload of WORKLOADS.filter((w) => workloads.has(w.id))) {
        for (const audit of AUDITS.filter((a) => audits.has(a))) {
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
    options: { serve_env: serveEnv, least_processes: leastProcesses },
    fsync,
    cpus,
    answers,
    servers: runs,
  };
  await writeJsonAtomic(values.out, summary);
} finally {
  await Deno.remove(work, { recursive: true });
}
