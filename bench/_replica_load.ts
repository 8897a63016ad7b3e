import { germanApplicants } from "../tests/fixtures.ts";
import { freePort, runWrk, waitReady, writePredictScript } from "./wrk.ts";
const [mode, seconds, audit] = Deno.args;
const work = await Deno.makeTempDir({ prefix: "replica-" });
const port = freePort();
const base = new URL(`http://127.0.0.1:${port}/`);
const env: Record<string, string> = { PORT: String(port), HOST: "127.0.0.1", MODELS_DIR: "models", LOG: "off", ...(audit === "off" ? { AUDIT: "off" } : audit.startsWith("postgres") ? { AUDIT_URL: audit } : { AUDIT_PATH: `${work}/audit.sqlite`, AUDIT_SYNC: audit }) };
const procs: Deno.ChildProcess[] = [];
const spawn = (args: string[], extra: Record<string, string> = {}) => procs.push(new Deno.Command("deno", { args, env: { ...env, ...extra }, stdout: "null", stderr: "inherit" }).spawn());
if (mode === "single") spawn(["run", "-A", "serve.ts"]);
else if (mode === "parallel") spawn(["serve", "--parallel", "-A", "--port", String(port), "--host", "127.0.0.1", "bench/_serve_entry.ts"], { DENO_JOBS: "2" });
else if (mode === "procs") { spawn(["run", "-A", "--unstable-net", "serve.ts"], { WORKERS: "2" }); spawn(["run", "-A", "--unstable-net", "serve.ts"], { WORKERS: "2" }); }
try {
  await waitReady(base);
  await new Promise((r) => setTimeout(r, 1500));
  const script = await writePredictScript(`${work}/p.lua`, (await germanApplicants()).slice(0, 200), "/predict?explain=false");
  await runWrk({ base, script, seconds: 3, connections: 16 });
  const r = await runWrk({ base, script, seconds: Number(seconds), connections: 16 });
  console.log(mode, audit, r.requests_per_s, "req/s p99", r.latency_ms.p99, "errors", r.errors, "load", Deno.loadavg()[0].toFixed(1));
} finally {
  for (const p of procs) { p.kill("SIGTERM"); await p.status; }
  await Deno.remove(work, { recursive: true });
}
