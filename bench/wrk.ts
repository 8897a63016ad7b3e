/**
 * What the load benchmarks (serve_bench.ts, soak_bench.ts, audit_tail_bench.ts, and score_bench.ts
 * for its model) share: a copy of the production model to serve, serve.ts spawned with a bench's
 * permissions, a free loopback port, waiting for `/ready`, the Lua script that rotates real
 * applicants through `POST /predict`, running Debian's `wrk` with it and reading its result line,
 * and the plain-text results table. Bench scripts run at import time, so what two of them share
 * lives here rather than in either.
 * @module
 */

import { type ModelVersion, productionModel, readRegistry, registryPath } from "../pipeline/tracking/mod.ts";

/** One `wrk` run against `/predict`. */
export interface LoadResult {
  tool: string;
  connections: number;
  duration_s: number;
  requests: number;
  errors: number;
  requests_per_s: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number };
}

/**
 * Copies the registry and the production model's run folder from `from` (read only) into `to`, so a
 * bench never writes under `models/`; returns the production model's entry. `hint` ends the error
 * thrown when there is none.
 */
export async function copyProductionModel(from: string, to: string, hint = ""): Promise<ModelVersion> {
  const entry = productionModel(await readRegistry(from));
  if (!entry) throw new Error(`${registryPath(from)} has no production model${hint}`);
  const runDir = entry.artifact.slice(0, entry.artifact.lastIndexOf("/"));
  await Deno.mkdir(`${to}/${runDir}`, { recursive: true });
  await Deno.copyFile(registryPath(from), registryPath(to));
  for await (const file of Deno.readDir(`${from}/${runDir}`)) {
    if (file.isFile) await Deno.copyFile(`${from}/${runDir}/${file.name}`, `${to}/${runDir}/${file.name}`);
  }
  return entry;
}

/** How a load bench starts serve.ts. */
export interface ServerOptions {
  /** The serve.ts to run (this checkout's, or another's for an A/B run). */
  serveTs: string;
  port: number;
  /** The one folder the server may write (its audit trail, its traces). */
  writable: string;
  /** Settings beside PORT, HOST=127.0.0.1 and LOG=off (which keeps logging out of the figures). */
  env: Record<string, string>;
  /** More `deno run` flags, e.g. `--unstable-net` or `--v8-flags=…`. */
  flags?: string[];
  /** Pipe the server's stdout (to read it) rather than discard it. */
  pipeStdout?: boolean;
}

/** Spawns serve.ts on 127.0.0.1 with the permissions a load bench grants it; stderr is inherited. */
export function spawnServer(options: ServerOptions): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      `--allow-write=${options.writable}`,
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      ...(options.flags ?? []),
      options.serveTs,
    ],
    env: { PORT: String(options.port), HOST: "127.0.0.1", LOG: "off", ...options.env },
    stdout: options.pipeStdout ? "piped" : "null",
    stderr: "inherit",
  }).spawn();
}

/**
 * Spawns bench/ceiling_server.ts (the least server, for bench:ceiling) on 127.0.0.1:`port`, serving
 * the artifact at `modelPath`, writing only under `writable`; `flags` are its own (`--explain`,
 * `--audit FILE`, `--sync-normal`). Run by name, as {@link spawnServer}, so that a bench's
 * `--allow-run=deno` covers it.
 */
export function spawnLeastServer(
  options: {
    port: number;
    modelPath: string;
    writable: string;
    flags: string[];
    stderr?: "inherit" | "piped";
  },
): Deno.ChildProcess {
  return new Deno.Command("deno", {
    args: [
      "run",
      "--unstable-net",
      "--allow-read",
      `--allow-write=${options.writable}`,
      "--allow-net=127.0.0.1",
      new URL("ceiling_server.ts", import.meta.url).pathname,
      String(options.port),
      options.modelPath,
      ...options.flags,
    ],
    stdout: "null",
    stderr: options.stderr ?? "inherit",
  }).spawn();
}

/** A port nothing listens on at 127.0.0.1 right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Resolves once `GET /ready` answers 200; throws after 60 s. */
export async function waitReady(base: URL): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(new URL("/ready", base));
      await response.body?.cancel();
      if (response.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the server did not become ready within 60 s");
}

/** Whether `wrk` can be run. */
export async function hasWrk(): Promise<boolean> {
  try {
    // `wrk --version` exits 1 after printing its version: only a missing binary matters.
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a wrk Lua script to `file` that posts `applicants` in turn to `path` (e.g.
 * `/predict?explain=false`) and prints one `RESULT` line for {@link runWrk}.
 */
export async function writePredictScript(file: string, applicants: readonly unknown[], path: string) {
  const bodies = applicants.map((a) => `  [[${JSON.stringify(a)}]]`).join(",\n");
  await Deno.writeTextFile(
    file,
    `local bodies = {\n${bodies}\n}
local i = 0
local headers = { ["Content-Type"] = "application/json" }
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "${path}", headers, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`,
  );
  return file;
}

/** How to run wrk. */
export interface WrkOptions {
  base: URL;
  /** Script from {@link writePredictScript}. */
  script: string;
  seconds: number;
  connections: number;
  /** wrk's `--timeout` (its default, 2 s, when absent). */
  timeout?: string;
}

/** Runs `wrk -t2 --latency` with the script and reads its `RESULT` line. */
export async function runWrk(options: WrkOptions): Promise<LoadResult> {
  const { base, script, seconds, connections } = options;
  const { stdout, stderr, code } = await new Deno.Command("wrk", {
    args: [
      "-t",
      "2",
      "-c",
      String(connections),
      "-d",
      `${seconds}s`,
      ...(options.timeout ? ["--timeout", options.timeout] : []),
      "--latency",
      "-s",
      script,
      new URL("/predict", base).href,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  const match = text.match(/RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/);
  if (code !== 0 || !match) {
    throw new Error(`wrk failed (exit ${code}):\n${text}\n${new TextDecoder().decode(stderr)}`);
  }
  const [requests, micros, errors, p50, p90, p99, max] = match.slice(1).map(Number);
  return {
    tool: `wrk -t2 -c${connections} --latency (Lua script, 200 applicants)`,
    connections,
    duration_s: micros / 1e6,
    requests,
    errors,
    requests_per_s: Math.round(requests / (micros / 1e6)),
    latency_ms: { p50: p50 / 1000, p90: p90 / 1000, p99: p99 / 1000, max: max / 1000 },
  };
}

/**
 * CPU time process `pid` has used, all its threads (a server's HTTP, prediction workers, audit writer),
 * in ms; null where /proc is not there. Per request it does not depend on how busy the machine
 * is, as throughput does: the figure to compare runs made under different loads.
 */
export function processCpuMs(pid: number): number | null {
  try {
    // Deno reads another process's /proc files only with --allow-all: cat does it.
    const { stdout, success } = new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stderr: "null" })
      .outputSync();
    if (!success) return null;
    const fields = new TextDecoder().decode(stdout).split(") ")[1].split(" ");
    // utime and stime (fields 14 and 15), in clock ticks of 1/100 s (Linux's USER_HZ).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** Rows of cells as an aligned plain-text table, a rule under the first row. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return lines.join("\n");
}
