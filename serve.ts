/**
 * The credit-risk prediction service: `deno task serve`.
 *
 * Settings come from the environment (see `pipeline/serving/config.ts`): `PORT` (8000), `HOST`,
 * `MODELS_DIR` (models), `MODEL` (an artifact instead of the registry's production model),
 * `REVIEW_MARGIN`, `BATCH_MAX_ROWS`, `MAX_BODY_BYTES`, `MAX_BATCH_BODY_BYTES`, `ADMIN_TOKEN`,
 * `BATCH_WORKERS`, `LOG_LEVEL` / `LOG=off`. The application lives in `pipeline/serving/app.ts`, the
 * socket and its lifecycle in `pipeline/serving/server.ts`; this file only starts them.
 * @module
 */

import { runCli } from "./pipeline/cli/run_cli.ts";
import { serveMain } from "./pipeline/serving/server.ts";

if (import.meta.main) await runCli("serve", serveMain);
