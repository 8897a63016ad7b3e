/**
 * The server's request ids, the audit trail's key: UUIDv7 (RFC 9562), whose first 48 bits are the
 * time in milliseconds, so the trail's index on them grows at one end (a page or two a commit)
 * instead of taking a random page of it per row, as random (v4) ids did.
 * @module
 */

/** A UUIDv7 for the time `now` (ms since the epoch): time-ordered to the millisecond, 74 random bits. */
export function timeOrderedUuid(now: number = Date.now()): string {
  const time = Math.trunc(now).toString(16).padStart(12, "0");
  // A v4's last 74 bits are random, its variant bits already RFC 9562's: only time and version change.
  const random = crypto.randomUUID(); // xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
