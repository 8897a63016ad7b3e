/**
 * `deno task evaluate [--run ID]`: the repeated-CV estimate of a run's configuration
 * (`pipeline/model/evaluate.ts`), printed as mean ± sd and added to the run's record (metric group
 * `repeated_cv`, or `repeated_cv_plain` with `--plain`) with its model card re-rendered. With
 * `--nested`, the nested evaluation of the whole training pipeline (`pipeline/model/nested_run.ts`),
 * written to `runs/<id>/nested/` and summarised in the run's metric group `nested`. Without
 * `--run`, the production model's run. Exit codes: 0 done, 1 failed, 2 bad flags.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError, UserError } from "../errors.ts";
import { type Estimate, repeatedCv, type RepeatedCvResult, runConfiguration } from "../model/evaluate.ts";
import { modelCard } from "../report/model_card.ts";
import { DEFAULT_NESTED_OPTIONS, type NestedOptions, type summariseOutcomes } from "../model/nested.ts";
import { describeProtocol, nestedVariant, recordNestedEvaluation } from "../model/nested_run.ts";
import { resolveProfile } from "../data/profile.ts";
import {
  amendRun,
  DEFAULT_MODELS_DIR,
  nestedFiles,
  type NestedRecord,
  productionModel,
  readRegistry,
  readRun,
  type RunRecord,
} from "../tracking/mod.ts";
import { runCli } from "./run_cli.ts";

/** The usage text of `deno task evaluate`. */
export const EVALUATE_USAGE = [
  "usage: deno task evaluate [--run ID] [--repeats 5] [--folds 10] [--inner-folds 5] [--seed 42] [--plain] [--json]",
  "       deno task evaluate --nested [--run ID] [--repeats 5] [--folds 10] [--trials 30] [--seed 20261128]",
  "                          [--workers 2] [--search-trees 200] [--trees 600] [--force] [--json]",
  "                          [--profile full|fair | --exclude a,b,…] [--reweigh]  (writes nested-<variant>/)",
].join("\n");

/** One line per metric: `name  mean ± sd`. */
export function formatEstimate(result: RepeatedCvResult): string {
  const line = (name: string, e: Estimate, digits = 3) =>
    `${name.padEnd(16)}${e.mean.toFixed(digits).padStart(8)} ± ${e.sd.toFixed(digits)}`;
  return [
    result.protocol,
    "",
    line("ROC AUC", result.roc_auc),
    line("recall (bad)", result.recall_bad),
    line("specificity", result.specificity),
    line("accuracy", result.accuracy),
    line("expected cost", result.cost),
    line("threshold", result.threshold),
    "",
    `${(result.duration_ms / 1000).toFixed(1)} s`,
  ].join("\n");
}

/** `deno task evaluate` with `args`; returns the exit code (errors are mapped by `runCli`). */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        run: { type: "string" },
        "models-dir": { type: "string", default: DEFAULT_MODELS_DIR },
        repeats: { type: "string", default: "5" },
        folds: { type: "string", default: "10" },
        "inner-folds": { type: "string", default: "5" },
        seed: { type: "string" },
        plain: { type: "boolean" },
        nested: { type: "boolean" },
        trials: { type: "string" },
        workers: { type: "string" },
        "search-trees": { type: "string" },
        trees: { type: "string" },
        force: { type: "boolean" },
        profile: { type: "string" },
        exclude: { type: "string" },
        reweigh: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(EVALUATE_USAGE);
    return 0;
  }
  if (values.seed === undefined) values.seed = values.nested ? String(DEFAULT_NESTED_OPTIONS.seed) : "42";
  if (!values.nested) {
    for (
      const flag of [
        "trials",
        "workers",
        "search-trees",
        "trees",
        "force",
        "profile",
        "exclude",
        "reweigh",
      ] as const
    ) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} only applies with --nested`);
    }
  } else if (values.plain) throw new UsageError("--plain does not apply with --nested");
  const numbers = Object.fromEntries(
    (["repeats", "folds", "inner-folds", "seed"] as const).map((k) => {
      const n = Number(values[k]);
      if (!Number.isInteger(n) || n < (k === "seed" ? 0 : k === "repeats" ? 1 : 2)) {
        throw new UsageError(`--${k} must be a whole number, got ${values[k]}`);
      }
      return [k, n];
    }),
  );
  const modelsDir = values["models-dir"]!;
  let runId = values.run;
  if (!runId) {
    const production = productionModel(await readRegistry(modelsDir));
    if (!production) {
      throw new UserError(
        "no production model in the registry; pass --run ID or run `deno task train` first",
      );
    }
    runId = production.run_id;
  }
  const run = await readRun(runId, modelsDir);
  if (!run) throw new UserError(`no run ${runId} under ${modelsDir}/runs`);
  if (values.nested) {
    const nested = {
      ...DEFAULT_NESTED_OPTIONS,
      repeats: numbers.repeats,
      folds: numbers.folds,
      seed: numbers.seed,
      profile: profileFlag(values.profile, values.exclude),
      mitigation: values.reweigh ? "reweigh" as const : "none" as const,
    };
    nested.innerFolds = numbers["inner-folds"];
    for (const [flag, key, min] of NESTED_NUMBERS) {
      if (values[flag] === undefined) continue;
      const n = Number(values[flag]);
      if (!Number.isInteger(n) || n < min) throw new UsageError(`--${flag} must be a whole number ≥ ${min}`);
      nested[key] = n;
    }
    return await nestedMain(runId, run, nested, {
      modelsDir,
      force: values.force ?? false,
      json: values.json,
    });
  }
  const configuration = runConfiguration(run);
  if (values.plain) configuration.forest = { ...configuration.forest, balanced: false };
  const tty = Deno.stderr.isTerminal();
  const result = await repeatedCv(
    configuration,
    {
      repeats: numbers.repeats,
      folds: numbers.folds,
      innerFolds: numbers["inner-folds"],
      seed: numbers.seed,
      dataPath: run.params.data as string | undefined,
    },
    (done, total) => {
      if (tty) {
        Deno.stderr.writeSync(
          new TextEncoder().encode(`\rfold ${done}/${total}${done === total ? "\n" : ""}`),
        );
      }
    },
  );
  await amendRun(runId, {
    metrics: { [values.plain ? "repeated_cv_plain" : "repeated_cv"]: result },
    artifacts: (amended) => ({ "MODEL_CARD.md": modelCard(amended) }),
  }, modelsDir);
  console.log(values.json ? JSON.stringify(result, null, 2) : `run ${runId}\n${formatEstimate(result)}`);
  return 0;
}

function profileFlag(profile: string | undefined, exclude: string | undefined) {
  try {
    return resolveProfile({ profile, exclude });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const NESTED_NUMBERS = [
  ["trials", "trials", 1],
  ["workers", "workers", 0],
  ["search-trees", "searchTrees", 1],
  ["trees", "trees", 1],
] as const;

async function nestedMain(
  runId: string,
  run: RunRecord,
  options: NestedOptions,
  flags: { modelsDir: string; force: boolean; json?: boolean },
): Promise<number> {
  const progress = foldProgress(performance.now());
  console.error(`run ${runId}: ${describeProtocol(options, 1000)}; ${options.workers} workers`);
  const record = await recordNestedEvaluation(options, {
    runId,
    modelsDir: flags.modelsDir,
    dataPath: run.params.data as string | undefined,
    force: flags.force,
    onFold: (done, total, outcome) =>
      progress(done, total, `last r${outcome.repeat} f${outcome.fold} cost ${outcome.cost.toFixed(3)}`),
  });
  const summary = record.summary as ReturnType<typeof summariseOutcomes>;
  const variant = nestedVariant(options.profile, options.mitigation);
  await amendRun(runId, {
    metrics: {
      [variant === "" ? "nested" : `nested_${variant.replaceAll("-", "_")}`]: nestedMetricGroup(
        record,
        variant,
      ),
    },
    artifacts: (amended) => ({ "MODEL_CARD.md": modelCard(amended) }),
  }, flags.modelsDir);
  console.log(
    flags.json ? JSON.stringify(record, null, 2) : `run ${runId}\n${formatNested(summary, record)}`,
  );
  return 0;
}

/** A progress line with ETA on stderr: redrawn in place on a terminal, a line per fold elsewhere. */
function foldProgress(startedAt: number) {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  return (done: number, total: number, note: string) => {
    const elapsed = (performance.now() - startedAt) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : 0;
    const width = 24;
    const filled = Math.round((done / total) * width);
    const line = `outer fold ${String(done).padStart(String(total).length)}/${total} [${"█".repeat(filled)}${
      "·".repeat(width - filled)
    }] ${note}  ${elapsed.toFixed(0)} s elapsed, ETA ${eta.toFixed(0)} s`;
    Deno.stderr.writeSync(encoder.encode(tty ? `\r${line}\x1b[K${done === total ? "\n" : ""}` : `${line}\n`));
  };
}

/** The nested summary as the run record keeps it (metric group `nested`): the figures, not the folds. */
export function nestedMetricGroup(record: NestedRecord, variant = ""): Record<string, unknown> {
  const files = nestedFiles(variant);
  return {
    protocol: record.protocol,
    files: `${files.summary}, ${files.folds}, ${files.predictions}`,
    ...(record.folds_of_full ? { folds_of_full: record.folds_of_full } : {}),
    summary: record.summary,
    git_commit: record.git_commit,
    git_dirty: record.git_dirty,
    duration_ms: record.duration_ms,
  };
}

/** One line per metric: mean, SD across folds, corrected SE of the mean, each labelled. */
export function formatNested(summary: ReturnType<typeof summariseOutcomes>, record: NestedRecord): string {
  const line = (name: string, key: string) => {
    const s = summary[key];
    return `${name.padEnd(16)}${s.mean.toFixed(3).padStart(8)}   SD ${s.sd.toFixed(3)}   SE (corrected) ${
      s.corrected_se.toFixed(3)
    }`;
  };
  return [
    String(record.protocol),
    "",
    line("expected cost", "cost"),
    line("ROC AUC", "roc_auc"),
    line("recall (bad)", "recall_bad"),
    line("specificity", "specificity"),
    line("accuracy", "accuracy"),
    line("Brier (PD)", "brier_pd"),
    line("Brier (raw)", "brier_raw"),
    "",
    `${((record.duration_ms as number) / 1000).toFixed(1)} s; git ${record.git_commit ?? "unknown"}${
      record.git_dirty ? " (dirty)" : ""
    }`,
  ].join("\n");
}

if (import.meta.main) await runCli("evaluate", main, { usage: EVALUATE_USAGE });
