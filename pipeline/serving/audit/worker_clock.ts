/**
 * The clock and the timings file of the audit trail's trace (`AUDIT_TRACE`), on every thread. Kept
 * apart from the trail's other modules so that the worker threads import little (worker.ts).
 * @module
 */

/** Wall-clock ms with sub-ms precision, comparable across threads (each has its own `timeOrigin`). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** Timings a thread keeps while `AUDIT_TRACE` is set (a diagnosis aid), written out when it closes. */
export interface Tracer {
  /** Whether a trace is kept at all (so callers skip reading the clock otherwise). */
  readonly on: boolean;
  /** Keeps one record (a line of the file). */
  add(record: Record<string, number | string>): void;
  /** Writes `<trace>.<role>.jsonl`; never throws. */
  save(): void;
}

/** The tracer of one thread (`role`), a no-op when `trace` is undefined. */
export function tracer(trace: string | undefined, role: string): Tracer {
  const records: string[] = [];
  return {
    on: trace !== undefined,
    add: (record) => void records.push(JSON.stringify(record)),
    save: () => {
      if (trace === undefined) return;
      try {
        Deno.writeTextFileSync(`${trace}.${role}.jsonl`, records.join("\n") + "\n");
      } catch { /* checked writable when the trail opened; a diagnosis aid must not fail the close */ }
    },
  };
}
