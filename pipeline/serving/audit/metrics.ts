/**
 * The audit trail's Prometheus series, appended to `/metrics`: commits, rows, write failures,
 * writer restarts, and for SQLite the checkpoint's health and the WAL's size.
 * @module
 */

import type { AuditMetrics } from "./store.ts";

/** The exposition text of the trail's series (text format 0.0.4). */
export function renderAuditMetrics(m: AuditMetrics, healthy: boolean | null): string {
  const out: string[] = [];
  const series = (name: string, type: string, help: string, value: number) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{backend="${m.backend}"} ${value}`);
  series(
    "audit_commits_total",
    "counter",
    "Audit transactions committed (each holds a group of decisions).",
    m.commits,
  );
  series("audit_rows_written_total", "counter", "Decisions committed to the audit trail.", m.rows);
  series(
    "audit_write_failures_total",
    "counter",
    "Audit writes that failed; every request in them was refused.",
    m.writeFailures,
  );
  series(
    "audit_writer_restarts_total",
    "counter",
    "Times the audit writer thread was restarted after a crash.",
    m.writerRestarts,
  );
  if (healthy !== null) {
    series(
      "audit_up",
      "gauge",
      "1 when the last readiness probe could write to the audit trail.",
      healthy ? 1 : 0,
    );
  }
  if (m.checkpointFailures !== undefined) {
    series(
      "audit_checkpoint_failures_total",
      "counter",
      "WAL checkpoints that failed.",
      m.checkpointFailures,
    );
    series(
      "audit_checkpoint_age_seconds",
      "gauge",
      "Seconds since the WAL was last fully checkpointed (-1 before the first).",
      m.checkpointAgeSeconds ?? -1,
    );
    series("audit_wal_bytes", "gauge", "Size of the audit trail's write-ahead log.", m.walBytes ?? 0);
  }
  return out.join("\n") + "\n";
}
