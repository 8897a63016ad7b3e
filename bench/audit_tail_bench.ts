/**
 * `deno task bench:audit-tail`: where the p99 of `POST /predict` comes from with the audit trail on.
 *
 * Serves the production model (copied into a temporary folder) with `AUDIT_TRACE` set, drives
 * `/predict` with `wrk -t2 -c8` for `--duration` seconds, stops the server (which writes the traces)
 * and prints, beside wrk's percentiles: each group's round trip as the HTTP thread sees it (sent to
 * the writer → told it is committed), the writer's queue wait, inserts and COMMIT (the fsync) per
 * commit, the checkpoints' durations, the HTTP thread's timer lag (long tasks, GC pauses), and how
 * many slow commits overlapped a checkpoint. Options: `--duration S` (default 10), `--path`
 * (default `/predict?explain=false`), `--sync full|normal` (default full), `--env K=V,…` (more
 * server settings, e.g. `AUDIT=off`), `--runs N` (default 1), `--root DIR` (serve another checkout's
 * serve.ts, e.g. `main`'s for an A/B run under one lock), `--trace-gc` (V8's GC pauses of the whole
 * run, by kind, from `--v8-flags=--trace-gc`). Every server thread that used 20 ms of CPU
 * or more is listed, per request (the audit writer's figure is its CPU per row).
 * @module
 */

import { parseArgs } from "node:util";
import { germanApplicants } from "../tests/fixtures.ts";
import { copyProductionModel, freePort, runWrk, spawnServer, waitReady, writePredictScript } from "./wrk.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "10" },
    path: { type: "string", default: "/predict?explain=false" },
    sync: { type: "string", default: "full" },
    env: { type: "string", default: "" },
    runs: { type: "string", default: "1" },
    "trace-gc": { type: "boolean", default: false },
    root: { type: "string" },
  },
});
const extraEnv = Object.fromEntries(
  values.env.split(",").filter(Boolean).map((kv) => kv.split("=", 2) as [string, string]),
);

/** The checkout whose serve.ts is measured (`--root`, e.g. another branch's, for an A/B run). */
const ROOT = values.root === undefined ? new URL("../", import.meta.url) : new URL(`file://${values.root}/`);
const REPO_MODELS = new URL("../models/", import.meta.url).pathname.replace(/\/$/, "");

/** The `q` quantile (nearest rank) of `xs`. */
function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const describe = (xs: number[]) =>
  `n=${xs.length} p50 ${quantile(xs, 0.5).toFixed(2)} p90 ${quantile(xs, 0.9).toFixed(2)} ` +
  `p99 ${quantile(xs, 0.99).toFixed(2)} max ${Math.max(...xs).toFixed(2)} ms`;

/** One traced event: times (wall-clock ms) and counts, and a checkpoint's mode. */
type Traced = Record<string, number> & { mode?: string };

function readJsonl(file: string): Record<string, number | string>[] {
  try {
    return Deno.readTextFileSync(file).split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}

/** CPU and run-queue wait (ns) of each thread of `pid`. */
function schedstat(pid: number): Map<string, { name: string; cpu: number; wait: number }> {
  // Deno reads another process's /proc files only with --allow-all: find and grep do it.
  const { stdout } = new Deno.Command("find", {
    args: [
      `/proc/${pid}/task`,
      "-mindepth",
      "2",
      "-maxdepth",
      "2",
      "(",
      "-name",
      "schedstat",
      "-o",
      "-name",
      "comm",
      ")",
      "-exec",
      "grep",
      "-H",
      "",
      "{}",
      "+",
    ],
    stderr: "null",
  }).outputSync();
  const files = new Map<string, { comm?: string; schedstat?: string }>();
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const match = /^\/proc\/\d+\/task\/(\d+)\/(comm|schedstat):(.*)$/.exec(line);
    if (!match) continue;
    const entry = files.get(match[1]) ?? {};
    entry[match[2] as "comm" | "schedstat"] = match[3].trim();
    files.set(match[1], entry);
  }
  const threads = new Map<string, { name: string; cpu: number; wait: number }>();
  for (const [tid, { comm, schedstat }] of files) {
    if (comm === undefined || schedstat === undefined) continue; // the thread ended meanwhile
    const [cpu, wait] = schedstat.split(" ").map(Number);
    threads.set(tid, { name: `${comm}#${tid}`, cpu, wait });
  }
  return threads;
}

const work = await Deno.makeTempDir({ prefix: "credit-tail-" });
try {
  await copyProductionModel(REPO_MODELS, `${work}/models`);
  const applicants = (await germanApplicants()).slice(0, 200);
  const script = await writePredictScript(`${work}/predict.lua`, applicants, values.path);
  for (let run = 1; run <= Number(values.runs); run++) {
    const port = freePort();
    const base = new URL(`http://127.0.0.1:${port}/`);
    const trace = `${work}/trace-${run}`;
    const server = spawnServer({
      serveTs: new URL("serve.ts", ROOT).pathname,
      port,
      writable: work,
      flags: values["trace-gc"] ? ["--v8-flags=--trace-gc"] : [],
      env: {
        MODELS_DIR: `${work}/models`,
        AUDIT_PATH: `${work}/audit-${run}.sqlite`,
        AUDIT_SYNC: values.sync,
        AUDIT_TRACE: trace,
        ...extraEnv,
      },
      pipeStdout: values["trace-gc"],
    });
    const gcLog = values["trace-gc"] ? new Response(server.stdout).text() : Promise.resolve("");
    let measured;
    try {
      await waitReady(base);
      const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
      const before = schedstat(server.pid);
      const wrk = await runWrk({ base, script, seconds: Number(values.duration), connections: 8 });
      measured = { load, before, wrk, after: schedstat(server.pid) };
    } finally {
      server.kill("SIGTERM"); // the server writes its traces as it closes
      await server.status;
    }
    const { load, before, wrk, after } = measured;
    const gcText = await gcLog;
    const writer = readJsonl(`${trace}.writer.jsonl`) as Traced[];
    const commits = writer.filter((r) => r.mode === undefined);
    const checkpoints = [
      ...readJsonl(`${trace}.checkpointer.jsonl`),
      // The writer's own checkpoints only: its key indexing (mode "index") is no checkpoint.
      ...writer.filter((r) => r.mode === "writer"),
    ] as Traced[];
    const main = readJsonl(`${trace}.main.jsonl`);
    const groups = main.filter((r) => r.kind === "group") as Record<string, number>[];
    const lags = main.filter((r) => r.kind === "lag") as Record<string, number>[];
    console.log(
      `run ${run} ${values.path} AUDIT_SYNC=${values.sync} ${values.env} (load ${load}): ` +
        `${wrk.requests_per_s} req/s, p50 ${wrk.latency_ms.p50} p90 ${wrk.latency_ms.p90} ` +
        `p99 ${wrk.latency_ms.p99} max ${wrk.latency_ms.max} ms`,
    );
    // Per thread: CPU time and time spent runnable but waiting for a core (/proc/…/schedstat), per request.
    for (const [tid, a] of after) {
      const b = before.get(tid);
      if (!b) continue;
      const cpu = (a.cpu - b.cpu) / 1e6 / wrk.requests, wait = (a.wait - b.wait) / 1e6 / wrk.requests;
      if (a.cpu - b.cpu > 2e7) {
        console.log(
          `  thread ${a.name}: CPU ${(1000 * cpu).toFixed(0)} µs, waiting for a core ${
            (1000 * wait).toFixed(0)
          } µs a request (${((a.wait - b.wait) / 1e6).toFixed(0)} ms in all)`,
        );
      }
    }
    if (values["trace-gc"]) {
      const pauses = [...gcText.matchAll(/(Scavenge|Mark-Compact|Mark-sweep)[^\n]*?, ([\d.]+) \/ [\d.]+ ms/g)]
        .map((m) => ({ kind: m[1], ms: Number(m[2]) }));
      for (const kind of new Set(pauses.map((p) => p.kind))) {
        const ms = pauses.filter((p) => p.kind === kind).map((p) => p.ms);
        console.log(`  GC ${kind} (all isolates, whole run): ${describe(ms)}`);
      }
    }
    if (commits.length === 0) continue;
    const rows = commits.map((c) => c.rows);
    console.log(
      `  commits ${commits.length}, rows ${rows.reduce((a, b) => a + b, 0)}, rows/commit p50 ${
        quantile(rows, 0.5)
      } max ${Math.max(...rows)}`,
    );
    console.log(`  group round trip (HTTP thread): ${describe(groups.map((g) => g.answered - g.sent))}`);
    console.log(`  writer queue wait:  ${describe(commits.map((c) => c.begin - c.queued))}`);
    console.log(`  writer inserts:     ${describe(commits.map((c) => c.inserted - c.begin))}`);
    console.log(`  writer COMMIT:      ${describe(commits.map((c) => c.committed - c.inserted))}`);
    const passive = checkpoints.filter((c) => c.mode === "passive");
    const byWriter = checkpoints.filter((c) => c.mode === "writer");
    const indexed = writer.filter((r) => r.mode === "index" && r.rows > 0);
    if (indexed.length) {
      console.log(
        `  writer's key indexing ${indexed.length} times, ${indexed.reduce((n, r) => n + r.rows, 0)} rows: ${
          describe(indexed.map((r) => r.end - r.start))
        }`,
      );
    }
    if (byWriter.length) {
      console.log(
        `  writer's finishing checkpoints ${byWriter.length}: ${
          describe(byWriter.map((c) => c.end - c.start))
        }`,
      );
    }
    console.log(
      `  checkpoints ${passive.length}: ${describe(passive.map((c) => c.end - c.start))}; truncates ${
        checkpoints.filter((c) => c.mode === "truncate").length
      }`,
    );
    console.log(
      `  WAL bytes at checkpoints: p50 ${quantile(passive.map((c) => c.bytes), 0.5)} max ${
        Math.max(...passive.map((c) => c.bytes))
      }`,
    );
    const lagMs = lags.map((l) => l.ms);
    console.log(
      `  HTTP thread timer lag > 2 ms: ${lagMs.length} times, ${lagMs.length ? describe(lagMs) : ""}`,
    );
    // Do slow commits coincide with checkpoints? (the checkpoint overlapping the COMMIT's interval)
    const slowCut = quantile(commits.map((c) => c.committed - c.inserted), 0.99);
    const overlaps = (c: Traced) => checkpoints.some((k) => k.start < c.committed && k.end > c.inserted);
    const slow = commits.filter((c) => c.committed - c.inserted >= slowCut);
    const fast = commits.filter((c) =>
      c.committed - c.inserted < quantile(commits.map((c) => c.committed - c.inserted), 0.5)
    );
    console.log(
      `  COMMITs ≥ p99 (${slowCut.toFixed(2)} ms) overlapping a checkpoint: ${
        slow.filter(overlaps).length
      }/${slow.length}; ` +
        `below p50: ${fast.filter(overlaps).length}/${fast.length}`,
    );
    const duty = passive.reduce((a, c) => a + c.end - c.start, 0) /
      (commits[commits.length - 1].committed - commits[0].begin);
    const complete = passive.filter((c) => c.log === c.copied).length;
    console.log(
      `  passive checkpoints that copied the whole WAL (so the next commit may restart it): ${complete}/${passive.length}`,
    );
    // The slowest commits (queued → committed) and the checkpoint, if any, running at the time.
    const total = (c: Traced) => c.committed - c.queued;
    const slowest = [...commits].sort((a, b) => total(b) - total(a)).slice(0, 8);
    for (const c of slowest) {
      const during = checkpoints.filter((k) => k.start < c.committed && k.end > c.queued).map((k) =>
        `${k.mode} ${(k.end - k.start).toFixed(1)} ms`
      );
      console.log(
        `    slow commit ${total(c).toFixed(1)} ms (wait ${(c.begin - c.queued).toFixed(1)}, begin+inserts ${
          (c.inserted - c.begin).toFixed(1)
        }, COMMIT ${(c.committed - c.inserted).toFixed(1)}) during: ${during.join(", ") || "no checkpoint"}`,
      );
    }
    const truncates = checkpoints.filter((c) => c.mode === "truncate");
    const nearTruncate = (t: number) => truncates.some((k) => t >= k.start - 5 && t <= k.end + 60);
    console.log(
      `  HTTP-thread lags > 10 ms within 60 ms of a TRUNCATE: ${
        lags.filter((l) => l.ms > 10 && nearTruncate(l.at)).length
      }/${lags.filter((l) => l.ms > 10).length}`,
    );
    const slowish = groups.filter((g) => g.answered - g.sent > 5);
    console.log(
      `  group round trips > 5 ms overlapping the writer's own checkpoint: ${
        slowish.filter((g) => byWriter.some((k) => g.sent <= k.end && g.answered >= k.start)).length
      }/${slowish.length}`,
    );
    const slowGroups = groups.filter((g) => g.answered - g.sent > 10);
    console.log(
      `  group round trips > 10 ms overlapping a TRUNCATE (or its 60 ms after): ${
        slowGroups.filter((g) => truncates.some((k) => g.sent <= k.end + 60 && g.answered >= k.start)).length
      }/${slowGroups.length}`,
    );
    console.log(`  checkpointer busy ${(100 * duty).toFixed(1)} % of the run`);
  }
} finally {
  await Deno.remove(work, { recursive: true });
}
