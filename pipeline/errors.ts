/**
 * The one mark of an error a user can act on (bad data, a missing file, a bad setting). Command-line
 * entry points print its message alone and exit 1; any other error is a bug and also prints its stack.
 * A leaf module: it imports nothing, so every package may extend it.
 * @module
 */

/** An error whose message is the whole story for the user: no stack trace is printed. */
export class UserError extends Error {
  override name = "UserError";
}

/** A command-line mistake (unknown flag, bad value): exit 2 with the usage text. */
export class UsageError extends UserError {
  override name = "UsageError";
}

/** Whether `error`, or any error in its `cause` chain, is a {@link UserError}. */
export function isUserError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof UserError) return true;
  }
  return false;
}
