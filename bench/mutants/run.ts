/**
 * `deno task mutants [--only ID[,ID…]] [--timeout SECONDS] [--keep] [--check]`: mutation testing of our own
 * (no maintained mutation tool runs `deno test`). It copies the repository (git's tracked and
 * unignored files, `node_modules` linked) to a temporary folder once, checks that every mutant's
 * snippet occurs exactly once (failing loudly, naming each stale mutant, before anything runs),
 * runs the mapped tests once unmutated (they must pass, or no kill means anything), then applies
 * one mutant at a time and runs its tests with `--no-check` (a mutant is judged by behaviour, not
 * by the type checker). A mutant is killed when its tests fail or time out, survived when they
 * pass. Prints a table and the score, writes `bench/results/mutants.json`. `--check` only checks
 * the list against the code (after a merge moved files).
 * @module
 */

import { parseArgs } from "node:util";
import { writeJsonAtomic } from "../../pipeline/tracking/atomic.ts";
import { type Mutant, MUTANTS } from "./mutants.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const RESULTS = `${ROOT}/bench/results/mutants.json`;

/** What happened to one mutant. */
export interface Outcome {
  id: string;
  file: string;
  why: string;
  tests: string[];
  status: "killed" | "survived" | "timeout";
  seconds: number;
  /** Names of the failing tests (empty when it survived). */
  failed: string[];
}

/** Counts occurrences of `snippet` in `text`. */
export function occurrences(text: string, snippet: string): number {
  if (snippet === "") return 0;
  let count = 0;
  for (let at = text.indexOf(snippet); at >= 0; at = text.indexOf(snippet, at + 1)) count++;
  return count;
}

/** Problems with the list against a source tree: snippets not found exactly once, missing files. */
export async function staleMutants(mutants: readonly Mutant[], root: string): Promise<string[]> {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const m of mutants) {
    if (ids.has(m.id)) problems.push(`${m.id}: the id is used twice`);
    ids.add(m.id);
    if (m.original === m.replacement) problems.push(`${m.id}: the replacement equals the original`);
    let text: string;
    try {
      text = await Deno.readTextFile(`${root}/${m.file}`);
    } catch {
      problems.push(`${m.id}: ${m.file} does not exist (moved? update bench/mutants/mutants.ts)`);
      continue;
    }
    const n = occurrences(text, m.original);
    if (n !== 1) {
      problems.push(
        `${m.id}: the snippet occurs ${n} times in ${m.file}, not exactly once: ${
          JSON.stringify(m.original)
        }`,
      );
    }
    for (const test of m.tests) {
      if (!(await exists(`${root}/${test}`))) problems.push(`${m.id}: test file ${test} does not exist`);
    }
  }
  return problems;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Copies git's tracked and unignored files to a fresh folder and links `node_modules`. */
async function copyRepository(): Promise<string> {
  const copy = await Deno.makeTempDir({ prefix: "mutants-" });
  const listed = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  if (!listed.success) throw new Error("git ls-files failed: run deno task mutants inside the repository");
  const files = new TextDecoder().decode(listed.stdout).split("\0").filter((f) => f !== "");
  for (const file of files) {
    if (file.startsWith("node_modules/")) continue;
    const target = `${copy}/${file}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    // Files deleted in the work tree but still tracked are skipped.
    await Deno.copyFile(`${ROOT}/${file}`, target).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
  }
  await Deno.symlink(`${ROOT}/node_modules`, `${copy}/node_modules`);
  return copy;
}

interface TestRun {
  passed: boolean;
  timedOut: boolean;
  failed: string[];
  seconds: number;
  output: string;
}

/** Runs test files in the copy with `deno test --no-check`, killing the run after `timeoutMs`. */
async function runTests(copy: string, tests: readonly string[], timeoutMs: number): Promise<TestRun> {
  const started = performance.now();
  // "deno" from the PATH, which the task's --allow-run=deno names (execPath may be a symlink's target).
  const child = new Deno.Command("deno", {
    args: ["test", "--no-check", "--allow-all", "--fail-fast", ...tests],
    cwd: copy,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  const [status, out, err] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  clearTimeout(timer);
  const output = out + err;
  const failed = [...output.matchAll(/^(.+?) \.\.\. FAILED/gm)].map((m) => m[1].trim());
  return {
    passed: status.success && !timedOut,
    timedOut,
    failed: [...new Set(failed)],
    seconds: (performance.now() - started) / 1000,
    output,
  };
}

function table(outcomes: readonly Outcome[]): string {
  const width = Math.max(...outcomes.map((o) => o.id.length));
  return outcomes.map((o) =>
    `${o.id.padEnd(width)}  ${o.status.padEnd(8)}  ${o.seconds.toFixed(1).padStart(6)} s  ${
      o.status === "survived" ? o.why : o.failed.slice(0, 2).join("; ")
    }`
  ).join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string" },
      timeout: { type: "string", default: "90" },
      keep: { type: "boolean", default: false },
      check: { type: "boolean", default: false },
    },
  });
  const only = values.only ? new Set(values.only.split(",")) : null;
  const mutants = MUTANTS.filter((m) => only === null || only.has(m.id));
  if (only && mutants.length !== only.size) {
    const known = new Set(MUTANTS.map((m) => m.id));
    console.error(`mutants: unknown id(s): ${[...only].filter((id) => !known.has(id)).join(", ")}`);
    return 2;
  }
  const timeoutMs = Number(values.timeout) * 1000;

  const stale = await staleMutants(mutants, ROOT);
  if (stale.length > 0) {
    console.error(`mutants: ${stale.length} mutant(s) no longer match the code; nothing was run:`);
    for (const problem of stale) console.error(`  - ${problem}`);
    return 1;
  }
  if (values.check) {
    console.log(`mutants: all ${mutants.length} snippets occur exactly once; their test files exist`);
    return 0;
  }

  const copy = await copyRepository();
  console.log(`mutants: ${mutants.length} mutants, repository copied to ${copy}`);
  try {
    const allTests = [...new Set(mutants.flatMap((m) => m.tests))].sort();
    const baseline = await runTests(copy, allTests, Math.max(timeoutMs * 10, 900_000));
    if (!baseline.passed) {
      console.error(
        baseline.timedOut
          ? `mutants: the unmutated tests did not finish in ${baseline.seconds.toFixed(0)} s:`
          : `mutants: the unmutated tests fail, so no result would mean anything:`,
      );
      console.error(baseline.output.split("\n").slice(-40).join("\n"));
      return 1;
    }
    console.log(
      `baseline: ${allTests.length} test files pass unmutated (${baseline.seconds.toFixed(1)} s)\n`,
    );

    const outcomes: Outcome[] = [];
    for (const m of mutants) {
      const path = `${copy}/${m.file}`;
      const original = await Deno.readTextFile(path);
      await Deno.writeTextFile(path, original.replace(m.original, () => m.replacement));
      let run: TestRun;
      try {
        run = await runTests(copy, m.tests, timeoutMs);
      } finally {
        await Deno.writeTextFile(path, original);
      }
      const outcome: Outcome = {
        id: m.id,
        file: m.file,
        why: m.why,
        tests: m.tests,
        status: run.timedOut ? "timeout" : run.passed ? "survived" : "killed",
        seconds: Math.round(run.seconds * 10) / 10,
        failed: run.failed,
      };
      outcomes.push(outcome);
      console.log(table([outcome]));
    }

    const killed = outcomes.filter((o) => o.status !== "survived").length;
    const score = killed / outcomes.length;
    const survivors = outcomes.filter((o) => o.status === "survived");
    console.log(
      `\nmutation score: ${killed}/${outcomes.length} killed = ${(100 * score).toFixed(1)} %` +
        (survivors.length ? `; survived: ${survivors.map((o) => o.id).join(", ")}` : ""),
    );
    if (only === null) {
      const result = {
        benchmark: "mutants",
        command: "deno task mutants",
        date: new Date().toISOString(),
        deno: Deno.version.deno,
        note: "each mutant's mapped test files run with deno test --no-check on a copy of the repository",
        mutants: outcomes.length,
        killed,
        survived: survivors.length,
        score,
        baseline_seconds: Math.round(baseline.seconds * 10) / 10,
        outcomes,
      };
      await writeJsonAtomic(RESULTS, result);
      console.log(`written: bench/results/mutants.json`);
    }
    return 0;
  } finally {
    if (values.keep) console.log(`kept ${copy}`);
    else await Deno.remove(copy, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main());
