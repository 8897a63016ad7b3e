/**
 * The one way every `deno task` entry point starts, reports errors and exits:
 * 0 success, 1 failure (a user error prints its message; anything else is a bug and prints its stack
 * too), 2 usage (the message, then the usage text).
 * @module
 */

import { isUserError, UsageError } from "../errors.ts";

/** What a command's main returns: an exit code, or nothing for 0. */
export type CliMain = (args: string[]) => Promise<number | void> | number | void;

/** How {@link cliExitCode} reports. */
export interface CliOptions {
  /** Printed after a usage error. */
  usage?: string;
  /** Where messages go (standard error by default); tests pass their own. */
  print?: (line: string) => void;
}

/** Runs `main` and maps what it returns or throws to an exit code, printing errors as `name: message`. */
export async function cliExitCode(
  name: string,
  main: CliMain,
  args: string[],
  options: CliOptions = {},
): Promise<number> {
  const print = options.print ?? ((line: string) => console.error(line));
  try {
    return (await main(args)) ?? 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      print(`${name}: ${message}${options.usage ? `\n${options.usage}` : ""}`);
      return 2;
    }
    if (isUserError(error) || error instanceof Deno.errors.NotFound) {
      print(`${name}: ${message}`);
      return 1;
    }
    print(`${name}: ${message}`);
    if (error instanceof Error && error.stack) print(error.stack);
    return 1;
  }
}

/** Runs `main` with the process arguments and exits with its code. Call under `import.meta.main`. */
export async function runCli(name: string, main: CliMain, options: CliOptions = {}): Promise<never> {
  Deno.exit(await cliExitCode(name, main, Deno.args, options));
}
