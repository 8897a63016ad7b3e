/**
 * Retention: the trail keeps each decision for `AUDIT_RETENTION_DAYS` days, then
 * `deno task audit:purge` deletes it (a few thousand rows per transaction, so a server writing
 * the same trail is held up only briefly). Run it daily (cron, a Kubernetes CronJob).
 *
 * How long to keep decisions is a legal question; see the README's "Audit trail" section for the
 * assumption this project makes and why the lender's counsel decides.
 * @module
 */

import type { AuditStore } from "./store.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The instant before which decisions are past retention. */
export function retentionCutoff(days: number, now: Date = new Date()): Date {
  if (!(Number.isInteger(days) && days >= 1)) {
    throw new RangeError(`retention must be a whole number of days ≥ 1, got ${days}`);
  }
  return new Date(now.getTime() - days * DAY_MS);
}

/** What a purge did. */
export interface PurgeOutcome {
  cutoff: string;
  deleted: number;
  remaining: number;
}

/** Deletes the decisions older than `days` days; returns the cut-off, rows deleted and rows left. */
export async function purgeExpired(
  audit: AuditStore,
  days: number,
  now: Date = new Date(),
): Promise<PurgeOutcome> {
  const cutoff = retentionCutoff(days, now);
  const deleted = await audit.purge(cutoff);
  return { cutoff: cutoff.toISOString(), deleted, remaining: await audit.count() };
}
