/**
 * `deno task runs [--json] [--limit N]`: the runs side by side — status, objective, test metrics,
 * repeated-CV cost, duration, and which model is in production.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { DEFAULT_MODELS_DIR, listRuns, readRegistry, type RunRecord } from "../tracking/mod.ts";
import { runCli } from "./run_cli.ts";

/** The usage text of `deno task runs`. */
export const RUNS_USAGE = "usage: deno task runs [--json] [--limit 20] [--models-dir models]";

/** One run reduced to the columns of the side-by-side table. */
export interface RunRow {
  run_id: string;
  status: string;
  stage: string;
  objective: string;
  cv_value: number | null;
  test_roc_auc: number | null;
  test_recall_bad: number | null;
  test_accuracy: number | null;
  test_cost: number | null;
  repeated_cv_cost: number | null;
  threshold: number | null;
  duration_s: number | null;
}

/** Reduces runs to table rows, joining each to its registry stage. */
export function runRows(runs: readonly RunRecord[], stages: ReadonlyMap<string, string>): RunRow[] {
  return runs.map((run) => {
    const test = run.metrics.test as Record<string, number> | undefined;
    const cv = run.metrics.cv as { value?: number } | undefined;
    const repeated = run.metrics.repeated_cv as { cost?: { mean: number } } | undefined;
    return {
      run_id: run.run_id,
      status: run.tags.stale === "true" ? "killed" : run.status,
      stage: stages.get(run.run_id) ?? "",
      objective: String(run.params.objective ?? ""),
      cv_value: cv?.value ?? null,
      test_roc_auc: test?.roc_auc ?? null,
      test_recall_bad: test?.recall_bad ?? null,
      test_accuracy: test?.accuracy ?? null,
      test_cost: test?.cost ?? null,
      repeated_cv_cost: repeated?.cost?.mean ?? null,
      threshold: typeof run.metrics.threshold === "number" ? run.metrics.threshold : null,
      duration_s: run.duration_ms === undefined ? null : run.duration_ms / 1000,
    };
  });
}

/** Formats rows as an aligned text table. */
export function formatRunsTable(rows: readonly RunRow[]): string {
  const header = [
    "run",
    "status",
    "stage",
    "objective",
    "cv",
    "AUC",
    "recall",
    "accuracy",
    "cost",
    "5×10 cost",
    "thr",
    "time",
  ];
  const num = (x: number | null, digits = 3) => (x === null ? "–" : x.toFixed(digits));
  const body = rows.map((r) => [
    r.run_id,
    r.status,
    r.stage,
    r.objective,
    num(r.cv_value),
    num(r.test_roc_auc),
    num(r.test_recall_bad),
    num(r.test_accuracy),
    num(r.test_cost),
    num(r.repeated_cv_cost),
    num(r.threshold),
    r.duration_s === null ? "–" : `${r.duration_s.toFixed(1)} s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), ...body.map(line)].join("\n");
}

/** `deno task runs` with `args`; returns the exit code (errors are mapped by `runCli`). */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        "models-dir": { type: "string", default: DEFAULT_MODELS_DIR },
        limit: { type: "string", default: "20" },
        json: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const modelsDir = values["models-dir"]!;
  const registry = await readRegistry(modelsDir);
  const stages = new Map(registry.models.map((m) => [m.run_id, `v${m.version} ${m.stage}`]));
  const rows = runRows((await listRuns(modelsDir)).slice(0, Number(values.limit)), stages);
  if (values.json) console.log(JSON.stringify(rows, null, 2));
  else {console.log(
      rows.length ? formatRunsTable(rows) : `no runs under ${modelsDir}/runs yet: run \`deno task train\``,
    );}
  return 0;
}

if (import.meta.main) await runCli("runs", main, { usage: RUNS_USAGE });
