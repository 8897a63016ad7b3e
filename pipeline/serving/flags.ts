/**
 * Command-line flags of the server (and of the compiled binary), layered over the environment:
 * `--port`, `--host`, `--model`, `--models-dir`, `--healthcheck`, `--help`.
 * @module
 */

import { parseArgs } from "node:util";

/** The server's usage text. */
export const SERVE_USAGE =
  `usage: serve [--port N] [--host ADDR] [--workers N] [--model PATH] [--models-dir DIR] [--healthcheck] [--help]

Serves the credit-risk API, the applicant form (/) and the runs dashboard (/runs).
  --port N          port to listen on (env PORT, default 8000)
  --host ADDR       address to listen on (env HOST, default 0.0.0.0)
  --workers N       replicas sharing the port, one per core (env WORKERS, default 1); each
                    replica's prediction pool is min(4, cores) / N threads unless BATCH_WORKERS is set
  --model PATH      serve this model artifact instead of the registry's production model (env MODEL)
  --models-dir DIR  folder of the registry and runs (env MODELS_DIR, default: models/ beside the program)
  --healthcheck     ask a running server's /health on --port and exit 0 when it answers 200
  --help            print this text

Other settings come from the environment: REVIEW_MARGIN, ADMIN_TOKEN, BATCH_MAX_ROWS, MAX_BODY_BYTES,
MAX_BATCH_BODY_BYTES, BATCH_WORKERS, LOG_LEVEL (or LOG=off), AUDIT_PATH, AUDIT_URL, AUDIT_SYNC, AUDIT_TOKEN,
AUDIT_PSEUDONYM_KEY, MONITORING_TOKEN, MONITORING_MIN_BIN, MONITORING_REFRESH_SECONDS, MODEL_PUBLIC_KEY (or
MODEL_PUBLIC_KEY_FILE), CLIENT_GUARD, HEADER_TIMEOUT_SECONDS, BODY_TIMEOUT_SECONDS, MAX_CONNECTIONS,
SHUTDOWN_TIMEOUT_SECONDS. See README.md.`;

/** What the flags ask for. */
export interface ServeFlags {
  help: boolean;
  healthcheck: boolean;
  /** Environment overrides, by variable name. */
  env: Record<string, string>;
}

/** Parses the flags; throws a TypeError naming an unknown flag or a missing value. */
export function parseServeFlags(args: string[]): ServeFlags {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      workers: { type: "string" },
      model: { type: "string" },
      "models-dir": { type: "string" },
      healthcheck: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const env: Record<string, string> = {};
  if (values.port !== undefined) env.PORT = values.port;
  if (values.host !== undefined) env.HOST = values.host;
  if (values.workers !== undefined) env.WORKERS = values.workers;
  if (values.model !== undefined) env.MODEL = values.model;
  if (values["models-dir"] !== undefined) env.MODELS_DIR = values["models-dir"];
  return { help: values.help ?? false, healthcheck: values.healthcheck ?? false, env };
}

/** The models folder beside the program: works from any working directory and inside `deno compile`. */
export function defaultModelsDir(moduleUrl: string): string {
  const path = decodeURIComponent(new URL("./models", moduleUrl).pathname);
  return path;
}

/** Asks `/health` on loopback; true when it answers 200 within two seconds. */
export async function healthcheck(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}
