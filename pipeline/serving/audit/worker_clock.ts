/**
 * The clock the audit trail's trace (`AUDIT_TRACE`) uses on every thread.
 * @module
 */

/** Wall-clock ms with sub-ms precision, comparable across threads (each has its own `timeOrigin`). */
export const wallMs = (): number => performance.timeOrigin + performance.now();
