/**
 * The plumbing of the container test: clean-up steps that run whatever happens, checks that report
 * and go on, and the small readers and formatters the steps share.
 * @module
 */

import { ATTRIBUTES } from "../../pipeline/data/schema.ts";
import type { Log } from "./process.ts";

/** Clean-up steps, run last-in first-out, each whatever the others do. */
export class Cleanup {
  readonly #steps: [string, () => Promise<unknown>][] = [];
  #running: Promise<string[]> | undefined;
  constructor(readonly log: Log) {}
  /** Adds a step; the last added runs first. */
  push(name: string, step: () => Promise<unknown>): void {
    this.#steps.push([name, step]);
  }
  /** Runs the steps once; a second caller (a signal during a failure) waits for the same run. */
  run(): Promise<string[]> {
    return this.#running ??= this.#run();
  }
  async #run(): Promise<string[]> {
    const failures: string[] = [];
    while (this.#steps.length > 0) {
      const [name, step] = this.#steps.pop()!;
      try {
        await step();
        this.log(`cleaned up: ${name}`);
      } catch (error) {
        failures.push(`${name}: ${(error as Error).message}`);
        this.log(`FAILED to clean up ${name}: ${(error as Error).message}`);
      }
    }
    return failures;
  }
}

/** Results of the checks; a failed check is reported and the others still run where they can. */
export class Checks {
  passed = 0;
  readonly failed: string[] = [];
  constructor(readonly log: Log) {}
  /** Runs one check: its detail is logged on success, its error on failure. */
  async check(name: string, body: () => Promise<string> | string): Promise<boolean> {
    try {
      const detail = await body();
      this.passed++;
      this.log(`ok   ${name}${detail ? ` — ${detail}` : ""}`);
      return true;
    } catch (error) {
      this.failed.push(name);
      this.log(`FAIL ${name} — ${(error as Error).message}`);
      return false;
    }
  }
}

/** Throws `message` unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** The default of an `ARG` in the Dockerfile. */
export function dockerfileArg(dockerfile: string, name: string): string {
  const value = dockerfile.match(new RegExp(`^ARG ${name}=(\\S+)`, "m"))?.[1];
  if (!value) throw new Error(`the Dockerfile has no ARG ${name}=…`);
  return value;
}

/** What the image adds to the serve task's flags: no download, and node_modules/ as the image ships it. */
export const IMAGE_ONLY_FLAGS = ["--cached-only", "--node-modules-dir=manual"];

/** Where a `deno run` entrypoint's flags differ from the serve task's, beyond {@link IMAGE_ONLY_FLAGS}. */
export function flagDifferences(entrypoint: readonly string[], serveTask: string): string[] {
  const flags = (argv: readonly string[]) => argv.filter((a) => a.startsWith("-"));
  const served = flags(serveTask.split(/\s+/));
  const shipped = flags(entrypoint).filter((f) => !IMAGE_ONLY_FLAGS.includes(f));
  return [
    ...served.filter((f) => !shipped.includes(f)).map((f) => `missing ${f}`),
    ...shipped.filter((f) => !served.includes(f)).map((f) => `extra ${f}`),
    ...IMAGE_ONLY_FLAGS.filter((f) => !entrypoint.includes(f)).map((f) => `missing ${f}`),
  ];
}

/** A port nothing listens on at the moment, on loopback. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A duration as the log prints it. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
/** A size as the log prints it. */
export const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** A row of the production run's test split, as an applicant, with the P(bad) recorded at training time. */
export async function testSplitApplicant(root: string): Promise<
  { applicant: Record<string, string | number>; recorded: number }
> {
  const registry = JSON.parse(await Deno.readTextFile(`${root}/models/registry.json`));
  const production = registry.models.find((m: { stage: string }) => m.stage === "production");
  assert(production, "models/registry.json has no production model");
  const csv = await Deno.readTextFile(`${root}/models/runs/${production.run_id}/predictions.csv`);
  const [row, , probability] = csv.split("\n")[1].split(",");
  const line = (await Deno.readTextFile(`${root}/data/german.data`)).split("\n")[Number(row)];
  const values = line.trim().split(/\s+/);
  const applicant = Object.fromEntries(
    ATTRIBUTES.map((
      a,
    ) => [a.name, a.kind === "numeric" ? Number(values[a.position - 1]) : values[a.position - 1]]),
  );
  return { applicant, recorded: Number(probability) };
}
