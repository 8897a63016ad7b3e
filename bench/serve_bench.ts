/**
 * `deno task bench:serve`: the prediction service under load, on loopback only.
 *
 * 1. Trains a production-like 300-tree model into a temporary models folder (tests/fixtures.ts).
 * 2. Starts `serve.ts` as its own process on a free 127.0.0.1 port (logs off), with the audit
 *    trail on as in production (`AUDIT_PATH` in the temporary folder, the only place it may write).
 * 3. `/predict` at 8 connections with Debian's `wrk` (a Lua script rotating 200 real applicants,
 *    `--latency` for the percentiles), or a Deno client when `wrk` is missing: with `?explain=false`
 *    under each `--audit-sync` setting (default `full,normal`: the cost of fsyncing every group
 *    commit, measured in the same run), then as clients call it by default (with reasons and
 *    contributions, `AUDIT_SYNC=full`).
 * 4. A 1,000,000-row CSV resampled from german.data, scored end to end by `pipeline/cli/score.ts` (a
 *    process, start-up included) and by `POST /predict/batch` (upload to last byte of the CSV answer).
 * 5. Batch explanations: `POST /predict/batch?explain=true` with 10,000 resampled rows (the most a
 *    batch may have explained), explained on the server's worker pool; rows per second.
 *
 * Prints a table and writes `bench/results/serve.json`. Options: `--duration S` (default 15),
 * `--rows N` (default 1,000,000), `--trees N` (default 300), `--skip-batch`, and `--only-batch`
 * (step 4 alone, with the server's CPU time for the upload as `ps` reports it; writes
 * `bench/results/serve_batch.json`).
 * @module
 */

import { parseArgs } from "node:util";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { writeResampledCsv } from "./resampled_csv.ts";
import { germanApplicants, trainFixtureModel } from "../tests/fixtures.ts";
import {
  formatTable,
  freePort,
  hasWrk,
  type LoadResult,
  runWrk,
  waitReady,
  writePredictScript,
} from "./wrk.ts";

const ROOT = new URL("../", import.meta.url);
const RESULTS = new URL("./results/serve.json", import.meta.url);
const CONNECTIONS = 8;
/** Run by name so `--allow-run=wrk,deno` covers it (the executable may be a symbolic link). */
const DENO = "deno";
const TARGETS = { requests_per_s: 5000, p99_ms: 10, batch_s: 8 };
/** Issue 15's targets for `/predict` with its default reasons, and for batch explanations. */
const EXPLAIN_TARGETS = { requests_per_s: 2000, p99_ms: 20, batch_rows_per_s: 2000 };
const EXPLAIN_BATCH_ROWS = 10_000;
/** The `/predict` variants measured: without explanations, and as called by default (with them). */
const VARIANTS = [
  { name: "explain=false", path: "/predict?explain=false", every_sync: true },
  { name: "default (explain on)", path: "/predict", every_sync: false },
] as const;

/** One variant's load result. */
interface PredictLoad extends LoadResult {
  variant: string;
  path: string;
  audit_sync: string;
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "15" },
    rows: { type: "string", default: "1000000" },
    trees: { type: "string", default: "300" },
    "skip-batch": { type: "boolean", default: false },
    "only-batch": { type: "boolean", default: false },
    "audit-sync": { type: "string", default: "full,normal" },
  },
});
const duration = Number(values.duration);
const rows = Number(values.rows);
const trees = Number(values.trees);
const syncs = values["audit-sync"].split(",").map((s) => s.trim());
if (syncs.length === 0 || !syncs.every((s) => s === "full" || s === "normal")) {
  throw new Error(`--audit-sync takes full, normal or both (comma-separated), got ${values["audit-sync"]}`);
}

// Other work on the machine skews every figure: record how busy it was.
const loadAverage = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const work = await Deno.makeTempDir({ prefix: "credit-bench-" });
let server: Deno.ChildProcess | undefined;
try {
  console.error(`training a ${trees}-tree model …`);
  const fixture = await trainFixtureModel({ nEstimators: trees, modelsDir: `${work}/models` });
  const port = freePort();
  const base = new URL(`http://127.0.0.1:${port}/`);
  const start = async (sync: string) => {
    server = new Deno.Command(DENO, {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        `--allow-write=${work}`,
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        new URL("serve.ts", ROOT).pathname,
      ],
      env: {
        PORT: String(port),
        HOST: "127.0.0.1",
        MODELS_DIR: fixture.modelsDir,
        LOG: "off",
        AUDIT_PATH: `${work}/audit-${sync}.sqlite`,
        AUDIT_SYNC: sync,
      },
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    await waitReady(base);
  };
  const stop = async () => {
    server?.kill("SIGTERM");
    await server?.status;
    server = undefined;
  };

  if (values["only-batch"]) {
    await start("full");
    const csvPath = `${work}/batch.csv`;
    const bytes = await writeResampledCsv(csvPath, rows);
    const loadBefore = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
    const cli = await runCli(csvPath, `${work}/scores.csv`, fixture.modelsDir);
    const cpuBefore = await cpuSeconds(server!.pid);
    const http = await runHttpBatch(base, csvPath);
    const serverCpu = (await cpuSeconds(server!.pid)) - cpuBefore;
    const summary = {
      date: new Date().toISOString(),
      command: "deno task bench:serve --only-batch",
      rows,
      upload_bytes: bytes,
      trees,
      cli_s: cli.seconds,
      http_s: http.seconds,
      http_server_cpu_s: serverCpu,
      audit_sync: "full",
      load_average_before: loadBefore,
      load_average_after: Deno.loadavg().map((x) => x.toFixed(2)).join(" "),
    };
    console.log(
      `batch of ${rows.toLocaleString("en")} rows: CLI (score.ts) ${cli.seconds.toFixed(2)} s; ` +
        `POST /predict/batch (CSV in and out, audit on) ${http.seconds.toFixed(2)} s, ` +
        `server CPU ${serverCpu} s (load average ${summary.load_average_before} before, ` +
        `${summary.load_average_after} after)`,
    );
    await writeJsonAtomic(new URL("./results/serve_batch.json", import.meta.url).pathname, summary);
    await stop();
    await Deno.remove(work, { recursive: true });
    Deno.exit(0);
  }

  const applicants = (await germanApplicants()).slice(0, 200);
  const withWrk = await hasWrk();
  const loads: PredictLoad[] = [];
  for (const sync of syncs) {
    await start(sync);
    for (const [k, { name, path, every_sync }] of VARIANTS.entries()) {
      if (!every_sync && sync !== syncs[0]) continue;
      console.error(`POST ${path} (AUDIT_SYNC=${sync}): ${duration} s at ${CONNECTIONS} connections …`);
      const load = withWrk
        ? await loadWithWrk(base, applicants, path, duration, `${work}/predict-${sync}-${k}.lua`)
        : await runDenoClient(base, applicants, path, duration);
      loads.push({ variant: `${name}, AUDIT_SYNC=${sync}`, path, audit_sync: sync, ...load });
    }
    if (sync !== syncs[syncs.length - 1]) await stop();
  }

  const explainCsv = `${work}/explain.csv`;
  await writeResampledCsv(explainCsv, EXPLAIN_BATCH_ROWS);
  console.error(
    `batch explanations: ${
      EXPLAIN_BATCH_ROWS.toLocaleString("en")
    } rows via POST /predict/batch?explain=true …`,
  );
  const explained = await runHttpBatch(base, explainCsv, "explain=true");
  const explainBatch = {
    rows: explained.rows,
    seconds: explained.seconds,
    rows_per_s: explained.rows / explained.seconds,
  };
  const [plain, withReasons] = loads;
  const ratio = withReasons.requests_per_s / plain.requests_per_s;

  let cli: { seconds: number; rows: number } | null = null;
  let http: { seconds: number; rows: number; bytes: number } | null = null;
  if (!values["skip-batch"]) {
    const csvPath = `${work}/batch.csv`;
    const bytes = await writeResampledCsv(csvPath, rows);
    console.error(`batch: ${rows.toLocaleString("en")} rows (${(bytes / 1e6).toFixed(1)} MB) via the CLI …`);
    cli = await runCli(csvPath, `${work}/scores.csv`, fixture.modelsDir);
    console.error(`batch: the same via POST /predict/batch …`);
    http = await runHttpBatch(base, csvPath);
  }

  const result = {
    date: new Date().toISOString(),
    machine: {
      cores: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      load_average_at_start: loadAverage,
    },
    model: { trees, features: fixture.model.encoder.nFeatures },
    audit: "on",
    predict: loads,
    /** Throughput with default reasons over throughput with `explain=false`, same run. */
    explain_ratio: ratio,
    explain_batch: explainBatch,
    explain_targets: EXPLAIN_TARGETS,
    batch: cli && http ? { rows, cli_s: cli.seconds, http_s: http.seconds, upload_bytes: http.bytes } : null,
    targets: TARGETS,
    met: {
      throughput: Object.fromEntries(
        loads.map((l) => [l.variant, l.requests_per_s >= TARGETS.requests_per_s]),
      ),
      p99: Object.fromEntries(loads.map((l) => [l.variant, l.latency_ms.p99 <= TARGETS.p99_ms])),
      explain_throughput: withReasons.requests_per_s >= EXPLAIN_TARGETS.requests_per_s,
      explain_p99: withReasons.latency_ms.p99 <= EXPLAIN_TARGETS.p99_ms,
      explain_batch: explainBatch.rows_per_s >= EXPLAIN_TARGETS.batch_rows_per_s,
      batch_cli: cli ? cli.seconds <= TARGETS.batch_s : null,
      batch_http: http ? http.seconds <= TARGETS.batch_s : null,
    },
  };
  await writeJsonAtomic(RESULTS.pathname, result);
  console.log(table(result));
  console.log(`\nwrote ${RESULTS.pathname}`);
} finally {
  if (server) {
    try {
      server.kill("SIGTERM");
    } catch { /* already stopped */ }
    await server.status;
  }
  await Deno.remove(work, { recursive: true });
}

async function loadWithWrk(
  base: URL,
  applicants: unknown[],
  path: string,
  seconds: number,
  file: string,
): Promise<LoadResult> {
  const script = await writePredictScript(file, applicants, path);
  await runWrk({ base, script, seconds: 3, connections: CONNECTIONS }); // warm-up: JIT, connection set-up
  return await runWrk({ base, script, seconds, connections: CONNECTIONS });
}

async function runDenoClient(
  base: URL,
  applicants: unknown[],
  path: string,
  seconds: number,
): Promise<LoadResult> {
  const url = new URL(path, base);
  const bodies = applicants.map((a) => JSON.stringify(a));
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, k) => {
    for (let i = k; performance.now() < end; i += CONNECTIONS) {
      const t = performance.now();
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: bodies[i % bodies.length],
      });
      await response.arrayBuffer();
      latencies.push(performance.now() - t);
      if (response.status !== 200) errors++;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    tool: "Deno fetch client (wrk not found)",
    connections: CONNECTIONS,
    duration_s: elapsed,
    requests: latencies.length,
    errors,
    requests_per_s: Math.round(latencies.length / elapsed),
    latency_ms: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies[latencies.length - 1] },
  };
}

async function runCli(input: string, output: string, modelsDir: string) {
  const started = performance.now();
  const { code, stderr } = await new Deno.Command(DENO, {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      new URL("pipeline/cli/score.ts", ROOT).pathname,
      input,
      "-o",
      output,
      "--models-dir",
      modelsDir,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`score failed:\n${new TextDecoder().decode(stderr)}`);
  return { seconds, rows: await countLines(output) - 1 };
}

async function runHttpBatch(base: URL, input: string, query = "") {
  const upload = await Deno.readFile(input);
  const size = upload.byteLength;
  const started = performance.now();
  const response = await fetch(new URL(`/predict/batch${query ? `?${query}` : ""}`, base), {
    method: "POST",
    headers: { "content-type": "text/csv", accept: "text/csv" },
    body: upload,
  });
  const text = await response.text();
  const seconds = (performance.now() - started) / 1000;
  if (response.status !== 200) throw new Error(`batch answered ${response.status}: ${text.slice(0, 500)}`);
  let lines = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
  return { seconds, rows: lines - 1, bytes: size };
}

/** CPU seconds (user + system, whole seconds) a process has used so far, as `ps` reports them. */
async function cpuSeconds(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", { args: ["-o", "times=", "-p", String(pid)] }).output();
  return Number(new TextDecoder().decode(stdout).trim());
}

async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of (await Deno.open(path)).readable) {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
  }
  return lines;
}

function table(r: {
  predict: PredictLoad[];
  explain_ratio: number;
  explain_batch: { rows: number; seconds: number; rows_per_s: number };
  batch: { rows: number; cli_s: number; http_s: number } | null;
  machine: { load_average_at_start: string };
}): string {
  const mark = (ok: boolean) => (ok ? "✓" : "✗");
  const loadRows = [
    ["POST /predict (audit on)", "throughput", "p50", "p90", "p99", "errors"],
    ...r.predict.map((p) => [
      p.variant,
      `${p.requests_per_s.toLocaleString("en")} req/s ${mark(p.requests_per_s >= TARGETS.requests_per_s)}`,
      `${p.latency_ms.p50.toFixed(2)} ms`,
      `${p.latency_ms.p90.toFixed(2)} ms`,
      `${p.latency_ms.p99.toFixed(2)} ms ${mark(p.latency_ms.p99 <= TARGETS.p99_ms)}`,
      `${p.errors} of ${p.requests.toLocaleString("en")} ${mark(p.errors === 0)}`,
    ]),
  ];
  let out = formatTable(loadRows) +
    `\n(targets: ≥ ${
      TARGETS.requests_per_s.toLocaleString("en")
    } req/s, p99 ≤ ${TARGETS.p99_ms} ms, 0 errors)`;
  const reasons = r.predict[1];
  out += `\nwith reasons / explain=false: ${(r.explain_ratio * 100).toFixed(1)} % of the throughput; ` +
    `issue 15 target with reasons ≥ ${EXPLAIN_TARGETS.requests_per_s.toLocaleString("en")} req/s ` +
    `${mark(reasons.requests_per_s >= EXPLAIN_TARGETS.requests_per_s)}, p99 ≤ ${EXPLAIN_TARGETS.p99_ms} ms ` +
    `${mark(reasons.latency_ms.p99 <= EXPLAIN_TARGETS.p99_ms)}`;
  out += `\nbatch explanations (worker pool): ${r.explain_batch.rows.toLocaleString("en")} rows in ` +
    `${r.explain_batch.seconds.toFixed(2)} s = ${
      Math.round(r.explain_batch.rows_per_s).toLocaleString("en")
    } rows/s ` +
    `(target ≥ ${EXPLAIN_TARGETS.batch_rows_per_s.toLocaleString("en")}) ` +
    mark(r.explain_batch.rows_per_s >= EXPLAIN_TARGETS.batch_rows_per_s);
  if (r.batch) {
    const n = r.batch.rows.toLocaleString("en");
    out += "\n\n" + formatTable([
      ["batch", "value", "target", ""],
      [
        "CLI (score.ts)",
        `${r.batch.cli_s.toFixed(2)} s for ${n} rows`,
        `≤ ${TARGETS.batch_s} s`,
        mark(r.batch.cli_s <= TARGETS.batch_s),
      ],
      [
        "HTTP (CSV in/out)",
        `${r.batch.http_s.toFixed(2)} s for ${n} rows`,
        `≤ ${TARGETS.batch_s} s`,
        mark(r.batch.http_s <= TARGETS.batch_s),
      ],
    ]);
  }
  return `${out}\n(${r.predict[0].tool}; load average at start ${r.machine.load_average_at_start})`;
}
