/**
 * `deno task audit:purge [--days N]`: deletes the audit trail's decisions older than
 * `AUDIT_RETENTION_DAYS` (or `--days`), on the trail the server's settings name (`AUDIT_URL`, else
 * `AUDIT_PATH`). Safe while the server runs. Prints what it did as one JSON line.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError, UserError } from "../errors.ts";
import { AuditError, openAuditLog } from "../serving/audit/log.ts";
import { purgeExpired, retentionCutoff } from "../serving/audit/purge.ts";
import { ConfigError, configFromEnv } from "../serving/config.ts";
import { runCli } from "./run_cli.ts";

/** The usage text. */
export const PURGE_USAGE = "usage: deno task audit:purge [--days N]   (default: AUDIT_RETENTION_DAYS)";

/** Runs the purge; `env` defaults to the process environment. */
export async function purgeMain(
  args: string[],
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
  print: (line: string) => void = console.log,
): Promise<number> {
  const { values } = parseArgs({ args, options: { days: { type: "string" } }, strict: true });
  let config;
  try {
    config = configFromEnv((name) =>
      name === "AUDIT_RETENTION_DAYS" && values.days !== undefined ? values.days : env(name)
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new UsageError(error.message.replace("AUDIT_RETENTION_DAYS", "--days"));
    }
    throw error;
  }
  const days = config.auditRetentionDays;
  if (days === undefined) throw new UsageError("no retention set: give --days N or AUDIT_RETENTION_DAYS");
  retentionCutoff(days);
  let audit;
  try {
    audit = await openAuditLog(config);
  } catch (error) {
    if (error instanceof AuditError) throw new UserError(error.message);
    throw error;
  }
  if (!audit) throw new UserError("the audit trail is off (AUDIT=off): nothing to purge");
  try {
    const outcome = await purgeExpired(audit, days);
    print(JSON.stringify({ trail: audit.location, retention_days: days, ...outcome }));
    return 0;
  } finally {
    await audit.close();
  }
}

if (import.meta.main) await runCli("audit:purge", (args) => purgeMain(args), { usage: PURGE_USAGE });
