/**
 * Running the host programs of the container test (podman, tar, chroot, mount…): each command line is
 * logged as it would be typed, its output captured, and a failure reported with the end of its stderr.
 * @module
 */

import { createHash } from "node:crypto";

/** Where progress lines go. */
export type Log = (line: string) => void;

/** How {@link run} runs a command. */
export interface RunOptions {
  /** Logs the command line before running it. */
  log?: Log;
  /** Logs only the program and its first argument (for long or noisy commands). */
  quiet?: boolean;
  env?: Record<string, string>;
  cwd?: string;
  /** Nonzero exit codes that are an answer, not a failure. */
  allowFailure?: boolean;
  /** Receives each line of the output (stdout and stderr) as it comes. */
  onLine?: (line: string) => void;
}

/** A command that exited nonzero. */
export class CommandError extends Error {
  constructor(readonly command: string, readonly code: number, readonly stderr: string) {
    const tail = stderr.trim().split("\n").slice(-25).join("\n");
    super(`\`${command}\` exited ${code}${tail ? `:\n${tail}` : ""}`);
    this.name = "CommandError";
  }
}

/** The command line as a shell would take it. */
export function shellLine(program: string, args: readonly string[]): string {
  const quote = (a: string) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
  return [program, ...args].map(quote).join(" ");
}

/** The programs {@link run} has started and not yet seen end. */
const running = new Set<Deno.ChildProcess>();
const stopped = new WeakSet<Deno.ChildProcess>();

/**
 * Stops every program still running (on Ctrl-C, before the clean-up): SIGTERM, SIGKILL after 20 s. Their
 * {@link run} fails whatever their exit code, so the interrupted flow goes no further.
 */
export async function stopRunning(): Promise<number> {
  const children = [...running];
  for (const child of children) stopped.add(child);
  await Promise.all(children.map(async (child) => {
    const signal = (name: Deno.Signal) => {
      try {
        child.kill(name);
      } catch { /* already gone */ }
    };
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), 20_000);
    await child.status;
    clearTimeout(timer);
  }));
  return children.length;
}

/** Runs a program to its end; resolves with its standard output, throws {@link CommandError} on failure. */
export async function run(
  program: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  const line = shellLine(program, args);
  options.log?.(`$ ${options.quiet ? `${shellLine(program, args.slice(0, 1))} …` : line}`);
  const child = new Deno.Command(program, {
    args: [...args],
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  running.add(child);
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    let text = "";
    let pending = "";
    const decoder = new TextDecoder();
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true });
      text += chunk;
      if (!options.onLine) continue;
      const lines = (pending + chunk).split("\n");
      pending = lines.pop()!;
      for (const l of lines) options.onLine(l);
    }
    if (pending && options.onLine) options.onLine(pending);
    return text;
  };
  const [stdout, stderr, { code }] = await Promise.all([
    collect(child.stdout),
    collect(child.stderr),
    child.status,
  ]).finally(() => running.delete(child));
  if (stopped.has(child)) throw new CommandError(line, code, "interrupted");
  if (code !== 0 && !options.allowFailure) throw new CommandError(line, code, stderr || stdout);
  return stdout;
}

/** Runs a program and returns its exit code and both outputs, whatever the code. */
export async function status(
  program: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(program, {
    args: [...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const decoder = new TextDecoder();
  return { code: output.code, stdout: decoder.decode(output.stdout), stderr: decoder.decode(output.stderr) };
}

/** Hex sha256 of a text. */
export async function sha256Text(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Hex sha256 of a file, read in chunks. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path);
  // The stream closes the file when it ends.
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}
