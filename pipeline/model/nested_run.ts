/**
 * A nested evaluation recorded in a run's folder, `runs/<id>/nested/`: `nested.json` first written
 * with `complete: false`, then `folds.csv`, the outer folds (`nested.ts`), `predictions.csv`, and
 * last `nested.json` again, atomically, with `complete: true`. A process killed midway leaves the
 * `complete: false` record, never one claiming completeness.
 * @module
 */

import { DEFAULT_DATA_PATH, loadCreditTable } from "../data/etl.ts";
import { UserError } from "../errors.ts";
import type { AttributeProfile } from "../data/profile.ts";
import type { Mitigation } from "./reweigh.ts";
import {
  fixedChoices,
  type FoldOutcome,
  type NestedOptions,
  type NestedProgress,
  outerFolds,
  runNestedFolds,
  summariseOutcomes,
} from "./nested.ts";
import {
  DEFAULT_MODELS_DIR,
  gitProvenance,
  nestedFiles,
  type NestedPredictionRow,
  type NestedRecord,
  readNestedRecord,
  runFilePath,
  sha256File,
  writeNestedFolds,
  writeNestedPredictions,
  writeNestedRecord,
} from "../tracking/mod.ts";

/** Where and how a nested evaluation is recorded. */
export interface NestedRunOptions {
  runId: string;
  modelsDir?: string;
  dataPath?: string;
  /** Replace a complete earlier evaluation of the same run (otherwise refused: results are not overwritten silently). */
  force?: boolean;
  onFold?: NestedProgress;
}

/**
 * The folder variant of a profile's nested evaluation: `nested/` for `full` (the protocol's own
 * evaluation), `nested-fair/`, or `nested-exclude-a+b/` for a custom list.
 */
export function nestedVariant(profile: AttributeProfile, mitigation: Mitigation = "none"): string {
  const suffix = mitigation === "none" ? "" : mitigation;
  if (profile.name === "full") return suffix === "" ? "" : `full-${suffix}`;
  const base = profile.name === "fair" ? "fair" : `exclude-${profile.excluded.join("+")}`;
  return suffix === "" ? base : `${base}-${suffix}`;
}

/** The protocol in one sentence, as nested.json and the CLI state it. */
export function describeProtocol(options: NestedOptions, rows: number): string {
  const profile = options.profile.name === "full"
    ? ""
    : ` (attribute profile ${options.profile.name}: the encoder never sees ${
      options.profile.excluded.join(", ")
    })`;
  const mitigation = options.mitigation === "reweigh"
    ? " with reweighing (Kamiran & Calders, weights from the outer-training rows' age < 25 × sex cells)"
    : "";
  return `nested CV${profile}${mitigation}: ${options.repeats} × ${options.folds}-fold repeated stratified outer CV on all ${rows} rows, ` +
    `seed ${options.seed}; in each outer fold the whole training pipeline (encoder, engineered-feature switch, ` +
    `TPE search of ${options.trials} trials with ${options.searchRepeats} × ${options.innerFolds}-fold inner CV, ` +
    `threshold, Platt calibration, final ${options.trees}-tree fit) runs on the outer-training rows only; ` +
    `the outer test rows are scored once`;
}

/** Runs the nested evaluation of `options` and records it under the run; returns the complete record. */
export async function recordNestedEvaluation(
  options: NestedOptions,
  where: NestedRunOptions,
): Promise<NestedRecord> {
  const started = performance.now();
  const modelsDir = where.modelsDir ?? DEFAULT_MODELS_DIR;
  const dataPath = where.dataPath ?? DEFAULT_DATA_PATH;
  const variant = nestedVariant(options.profile, options.mitigation);
  const earlier = await readNestedRecord(where.runId, modelsDir, variant);
  if (earlier?.complete && !where.force) {
    throw new UserError(
      `run ${where.runId} already has a complete nested evaluation; pass --force to replace it`,
    );
  }
  const table = await loadCreditTable(dataPath);
  const y = table.bad;
  if (!y) throw new UserError(`${dataPath} has no class column to evaluate on`);
  const lineOf = (r: number) => table.lineNumbers[r] - 1;
  const outer = outerFolds(y, options);
  const head: NestedRecord = {
    format_version: 1,
    complete: false,
    run_id: where.runId,
    started_at: new Date().toISOString(),
    protocol: describeProtocol(options, y.length),
    options: { ...options },
    fixed_choices: fixedChoices(options),
    ...(await gitProvenance()),
    data: { path: dataPath, sha256: await sha256File(dataPath), rows: y.length },
    deno_version: Deno.version.deno,
  };
  await writeNestedRecord(head, modelsDir, variant);
  const foldsPath = await writeNestedFolds(
    where.runId,
    outer.flatMap((f) =>
      Array.from(f.test, lineOf).sort((a, b) => a - b).map((row) => ({ repeat: f.repeat, fold: f.fold, row }))
    ),
    modelsDir,
    variant,
  );
  // A profile is compared with the full model fold by fold: say whether the folds are the same bytes.
  const foldsSha256 = await sha256File(foldsPath);
  let foldsOfFull: { sha256: string | null; identical: boolean } | undefined;
  if (variant !== "") {
    const full = runFilePath(where.runId, nestedFiles("").folds, modelsDir);
    const sha = await sha256File(full).catch(() => null);
    foldsOfFull = { sha256: sha, identical: sha === foldsSha256 };
  }

  const outcomes = await runNestedFolds(table, y, outer, options, { onFold: where.onFold });

  await writeNestedPredictions(where.runId, predictionRows(outer, outcomes, lineOf, y), modelsDir, variant);
  const record: NestedRecord = {
    ...head,
    complete: true,
    finished_at: new Date().toISOString(),
    duration_ms: Math.round(performance.now() - started),
    workers: options.workers,
    folds_sha256: foldsSha256,
    ...(foldsOfFull ? { folds_of_full: foldsOfFull } : {}),
    summary: summariseOutcomes(outcomes),
    folds: outcomes.map(({ probabilities: _p, pd: _pd, ...fold }) => fold),
  };
  await writeNestedRecord(record, modelsDir, variant);
  return record;
}

function predictionRows(
  outer: ReturnType<typeof outerFolds>,
  outcomes: readonly FoldOutcome[],
  lineOf: (r: number) => number,
  y: Uint8Array,
): NestedPredictionRow[] {
  return outer.flatMap((f, i) => {
    const o = outcomes[i];
    return Array.from(f.test, (r, j): NestedPredictionRow => ({
      repeat: f.repeat,
      fold: f.fold,
      row: lineOf(r),
      label: y[r],
      probability: o.probabilities[j],
      pd: o.pd[j],
      threshold: o.threshold,
      decision: o.probabilities[j] >= o.threshold ? "decline" : "approve",
    })).sort((a, b) => a.row - b.row);
  });
}
