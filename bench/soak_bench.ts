/**
 * `deno task bench:soak`: the prediction service held under load on loopback, with the audit
 * trail on, to show it keeps answering without errors, without growing, and without losing a
 * decision.
 *
 * 1. Trains a production-like model (300 trees) into a temporary models folder (tests/fixtures.ts).
 * 2. Starts `serve.ts` as its own process on a free 127.0.0.1 port, logs off, the audit trail in
 *    the temporary folder.
 * 3. `/predict` for 60 s at 16 connections with Debian's `wrk` (a Lua script rotating 200 real
 *    applicants), after a 10 s warm-up; the server's resident memory is sampled every second with
 *    `ps -o rss= -p PID`.
 * 4. Stops the server (SIGTERM) and counts the audit rows against the decisions the server
 *    answered (its Prometheus counter) and the requests wrk completed.
 *
 * Prints a table and writes `bench/results/soak.json`. Options: `--duration S` (default 60),
 * `--connections N` (16), `--trees N` (300), `--audit-sync normal|full|off` (normal), `--out PATH`,
 * `--query Q` (appended to `/predict?`, e.g. `explain=false`).
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { writeJsonAtomic } from "../pipeline/tracking/atomic.ts";
import { germanApplicants, trainFixtureModel } from "../tests/fixtures.ts";
import { formatTable, freePort, type LoadResult, runWrk, waitReady, writePredictScript } from "./wrk.ts";

const SERVE = new URL("../serve.ts", import.meta.url).pathname;
/** Run by name so `--allow-run=wrk,deno,ps` covers it (the executable may be a symbolic link). */
const DENO = "deno";
/** Long enough for the audit threads' heaps to reach their working size before memory is judged. */
const WARM_UP_S = 10;
/** Memory counts as flat when the last part of the run is within this of the start (after warm-up). */
const FLAT = { ratio: 0.15, mib: 24 };

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "60" },
    connections: { type: "string", default: "16" },
    trees: { type: "string", default: "300" },
    "audit-sync": { type: "string", default: "normal" },
    out: { type: "string", default: new URL("./results/soak.json", import.meta.url).pathname },
    query: { type: "string", default: "" },
  },
});
const PREDICT_PATH = values.query ? `/predict?${values.query}` : "/predict";
const duration = positive("duration", values.duration);
const connections = positive("connections", values.connections);
const trees = positive("trees", values.trees);
const auditSync = values["audit-sync"];
if (!["full", "normal", "off"].includes(auditSync)) {
  throw new Error("--audit-sync must be full, normal or off");
}

const loadAverage = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const work = await Deno.makeTempDir({ prefix: "credit-soak-" });
let server: Deno.ChildProcess | undefined;
try {
  console.error(`training a ${trees}-tree model …`);
  const fixture = await trainFixtureModel({ nEstimators: trees, modelsDir: `${work}/models` });
  const port = freePort();
  const base = new URL(`http://127.0.0.1:${port}/`);
  const auditDb = `${work}/audit/audit.sqlite`;
  server = new Deno.Command(DENO, {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      `--allow-read`,
      `--allow-write=${work}`,
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      SERVE,
    ],
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      MODELS_DIR: fixture.modelsDir,
      LOG: "off",
      ...(auditSync === "off" ? { AUDIT: "off" } : { AUDIT_DB: auditDb, AUDIT_SYNC: auditSync }),
    },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitReady(base);
  const pid = server.pid;

  const script = await writePredictScript(
    `${work}/predict.lua`,
    (await germanApplicants()).slice(0, 200),
    PREDICT_PATH,
  );
  console.error(`warm-up ${WARM_UP_S} s, then /predict for ${duration} s at ${connections} connections …`);
  const warm = await wrk(base, script, WARM_UP_S, connections);
  const samples: { t: number; rss_mib: number }[] = [];
  const started = performance.now();
  const sampling = (async () => {
    for (let s = 0; s <= duration + 5; s++) {
      const t = (performance.now() - started) / 1000;
      if (t > duration) break;
      samples.push({ t: Math.round(t * 10) / 10, rss_mib: await rssMib(pid) });
      await new Promise((resolve) => setTimeout(resolve, 1000 - ((performance.now() - started) % 1000)));
    }
  })();
  const load = await wrk(base, script, duration, connections);
  await sampling;
  // Requests wrk abandoned at its deadline still finish on the server: wait for the count to settle.
  let answered = await predictionsAnswered(base);
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = await predictionsAnswered(base);
    if (now === answered) break;
    answered = now;
  }

  server.kill("SIGTERM");
  const exit = await server.status;
  server = undefined;
  const auditRows = auditSync === "off" ? null : countRows(auditDb);

  const rss = samples.map((s) => s.rss_mib);
  const quarter = Math.max(1, Math.floor(rss.length / 4));
  const early = median(rss.slice(0, quarter));
  const late = median(rss.slice(-quarter));
  const growth = late - early;
  const flat = growth <= Math.max(FLAT.mib, early * FLAT.ratio);
  const requests = warm.requests + load.requests;
  const result = {
    date: new Date().toISOString(),
    machine: {
      cores: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      load_average_at_start: loadAverage,
    },
    model: { trees, features: fixture.model.encoder.nFeatures },
    audit: { enabled: auditSync !== "off", synchronous: auditSync === "off" ? null : auditSync },
    path: PREDICT_PATH,
    soak: load,
    memory: {
      sampled_every_s: 1,
      samples: samples.length,
      rss_mib_first_quarter_median: early,
      rss_mib_last_quarter_median: late,
      rss_mib_min: Math.min(...rss),
      rss_mib_max: Math.max(...rss),
      growth_mib: Math.round(growth * 10) / 10,
      flat,
      series: samples,
    },
    decisions: {
      requests_completed: requests,
      answered_by_server: answered,
      audit_rows: auditRows,
      // A decision is counted only after its row is committed, so rows ≥ answered; fewer is a loss.
      lost: auditRows === null ? null : Math.max(0, answered - auditRows),
    },
    server_exit_code: exit.code,
    met: {
      zero_errors: load.errors === 0 && warm.errors === 0,
      memory_flat: flat,
      no_decision_lost: auditRows === null ? null : auditRows >= answered,
    },
  };
  await writeJsonAtomic(values.out, result);
  console.log(table(result));
  console.log(`\nwrote ${values.out}`);
} finally {
  if (server) {
    try {
      server.kill("SIGKILL");
    } catch { /* already stopped */ }
    await server.status;
  }
  await Deno.remove(work, { recursive: true });
}

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

async function wrk(base: URL, script: string, seconds: number, conns: number): Promise<LoadResult> {
  return await runWrk({ base, script, seconds, connections: conns, timeout: "5s" });
}

/** Resident memory of a process in MiB, from `ps` (Deno reads another process's /proc only with --allow-all). */
async function rssMib(pid: number): Promise<number> {
  const { stdout } = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
  })
    .output();
  return Math.round(Number(new TextDecoder().decode(stdout).trim()) / 1024 * 10) / 10;
}

/** Decisions the server reports having answered (sum of its `predictions_total` counter). */
async function predictionsAnswered(base: URL): Promise<number> {
  const text = await (await fetch(new URL("/metrics", base))).text();
  let total = 0;
  for (const line of text.split("\n")) {
    const match = line.match(/^predictions_total\{[^}]*\} (\d+)/);
    if (match) total += Number(match[1]);
  }
  return total;
}

function countRows(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number((db.prepare("SELECT count(*) AS n FROM decisions").get() as { n: number }).n);
  } finally {
    db.close();
  }
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function table(r: {
  soak: LoadResult;
  memory: { rss_mib_first_quarter_median: number; rss_mib_last_quarter_median: number; flat: boolean };
  decisions: {
    requests_completed: number;
    answered_by_server: number;
    audit_rows: number | null;
    lost: number | null;
  };
  audit: { synchronous: string | null };
  machine: { load_average_at_start: string };
}): string {
  const s = r.soak;
  const mark = (ok: boolean | null) => (ok === null ? "" : ok ? "✓" : "✗");
  const rows = [
    ["measure", "value", "target", ""],
    ["duration", `${s.duration_s.toFixed(1)} s at ${s.connections} connections`, "60 s at 16", ""],
    ["requests", `${s.requests.toLocaleString("en")} (POST ${PREDICT_PATH})`, "", ""],
    ["throughput", `${s.requests_per_s.toLocaleString("en")} req/s`, "", ""],
    ["p50 / p99 / max latency", `${s.latency_ms.p50} / ${s.latency_ms.p99} / ${s.latency_ms.max} ms`, "", ""],
    ["errors", String(s.errors), "0", mark(s.errors === 0)],
    [
      "server RSS (first → last quarter)",
      `${r.memory.rss_mib_first_quarter_median} → ${r.memory.rss_mib_last_quarter_median} MiB`,
      "flat",
      mark(r.memory.flat),
    ],
    [
      "decisions answered / audit rows",
      `${r.decisions.answered_by_server.toLocaleString("en")} / ${
        r.decisions.audit_rows?.toLocaleString("en") ?? "off"
      }`,
      "rows ≥ answered",
      mark(r.decisions.lost === null ? null : r.decisions.lost === 0),
    ],
  ];
  return `${formatTable(rows)}\n(audit ${
    r.audit.synchronous ?? "off"
  }; load average at start ${r.machine.load_average_at_start})`;
}
