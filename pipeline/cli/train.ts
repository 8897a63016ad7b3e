/**
 * `deno task train`: tune, evaluate on the test split, track the run, register the model
 * (`pipeline/model/train.ts`). Prints a progress bar on standard error and a summary table, or the
 * result as JSON. Exit codes: 0 trained, 1 failed (the run is left `failed`), 2 bad flags.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../errors.ts";
import { type Objective, OBJECTIVES } from "../model/objective.ts";
import { DEFAULT_TRAIN_OPTIONS, formatSummary, train, type TrainOptions } from "../model/train.ts";
import { readSigningKey } from "../model/signature.ts";
import type { Study } from "../tune/mod.ts";
import { runCli } from "./run_cli.ts";
import { resolveProfile } from "../data/profile.ts";

/** The usage text of `deno task train`. */
export const TRAIN_USAGE = `usage: deno task train [options]
  --trials N          search trials (default 30)
  --folds K           cross-validation folds (default 5)
  --objective NAME    cost (default) | recall | auc
  --min-accuracy X    accuracy floor of the recall objective (default 0.70)
  --seed N            seed of split, folds, search and forests (default 42)
  --trees N           trees of the final model (default 600)
  --search-trees N    trees per forest during the search (default 200)
  --timeout S         stop starting new trials after S seconds
  --data PATH         data file (default data/german.data)
  --models-dir DIR    where runs and the registry live (default models)
  --profile NAME      full (default) | fair: the attributes the model may see (fair drops
                      personal_status, age, foreign_worker and every feature derived from them)
  --exclude A,B,…     a custom profile: attributes the model may not see
  --reweigh           reweigh training rows (Kamiran & Calders) by the age < 25 × sex cells
  --promote           make the new model production whatever its score
  --no-promote        register the new model as a candidate only
  --sign-key FILE     sign the registered model with this Ed25519 private key (PKCS#8 PEM, mode 0600;
                      env MODEL_SIGNING_KEY_FILE); see deno task keygen
  --quiet             print nothing but errors
  --json              print the result as JSON`;

/** Parses the CLI flags into options; throws a {@link UsageError} naming the bad flag. */
export function parseTrainArgs(
  args: string[],
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): Omit<TrainOptions, "signingKey"> & { signKeyFile?: string; quiet: boolean; json: boolean; help: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        trials: { type: "string" },
        folds: { type: "string" },
        objective: { type: "string" },
        "min-accuracy": { type: "string" },
        seed: { type: "string" },
        trees: { type: "string" },
        "search-trees": { type: "string" },
        timeout: { type: "string" },
        data: { type: "string" },
        "models-dir": { type: "string" },
        profile: { type: "string" },
        exclude: { type: "string" },
        reweigh: { type: "boolean" },
        promote: { type: "boolean" },
        "no-promote": { type: "boolean" },
        "sign-key": { type: "string" },
        quiet: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const int = (flag: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      throw new UsageError(`--${flag} must be an integer ≥ ${min}, got ${raw}`);
    }
    return n;
  };
  const objective = values.objective ?? DEFAULT_TRAIN_OPTIONS.objective;
  if (!(OBJECTIVES as readonly string[]).includes(objective)) {
    throw new UsageError(`--objective must be one of ${OBJECTIVES.join(", ")}, got ${objective}`);
  }
  const minAccuracy = values["min-accuracy"] === undefined
    ? DEFAULT_TRAIN_OPTIONS.minAccuracy
    : Number(values["min-accuracy"]);
  if (!(minAccuracy >= 0 && minAccuracy <= 1)) {
    throw new UsageError(`--min-accuracy must be in [0, 1], got ${values["min-accuracy"]}`);
  }
  if (values.promote && values["no-promote"]) {
    throw new UsageError("--promote and --no-promote exclude each other");
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(timeout > 0)) {
    throw new UsageError(`--timeout must be a positive number of seconds`);
  }
  let profile;
  try {
    profile = resolveProfile({ profile: values.profile, exclude: values.exclude });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    ...DEFAULT_TRAIN_OPTIONS,
    profile,
    mitigation: values.reweigh ? "reweigh" : "none",
    trials: int("trials", values.trials, DEFAULT_TRAIN_OPTIONS.trials, 1),
    folds: int("folds", values.folds, DEFAULT_TRAIN_OPTIONS.folds, 2),
    seed: int("seed", values.seed, DEFAULT_TRAIN_OPTIONS.seed, 0),
    trees: int("trees", values.trees, DEFAULT_TRAIN_OPTIONS.trees, 1),
    searchTrees: int("search-trees", values["search-trees"], DEFAULT_TRAIN_OPTIONS.searchTrees, 1),
    objective: objective as Objective,
    minAccuracy,
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    dataPath: values.data ?? DEFAULT_TRAIN_OPTIONS.dataPath,
    modelsDir: values["models-dir"] ?? DEFAULT_TRAIN_OPTIONS.modelsDir,
    promote: values.promote ? "always" : values["no-promote"] ? "never" : "auto",
    signKeyFile: values["sign-key"] || env("MODEL_SIGNING_KEY_FILE") || undefined,
    quiet: values.quiet ?? false,
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

function progressBar(total: number, startedAt: number, quiet: boolean) {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  return (study: Study, done: number) => {
    if (quiet) return;
    const elapsed = (performance.now() - startedAt) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : 0;
    const width = 24;
    const filled = Math.round((done / total) * width);
    const best = study.bestTrial ? study.bestValue!.toFixed(4) : "–";
    const last = study.trials[study.trials.length - 1];
    const line = `trial ${String(done).padStart(String(total).length)}/${total} [${"█".repeat(filled)}${
      "·".repeat(width - filled)
    }] best ${best}  last ${last?.state ?? ""}  ${elapsed.toFixed(1)} s elapsed, ETA ${eta.toFixed(1)} s`;
    Deno.stderr.writeSync(encoder.encode(tty ? `\r${line}\x1b[K${done === total ? "\n" : ""}` : `${line}\n`));
  };
}

/** `deno task train` with `args`; returns the exit code (errors are mapped by `runCli`). */
export async function main(args: string[]): Promise<number> {
  const options = parseTrainArgs(args);
  if (options.help) {
    console.log(TRAIN_USAGE);
    return 0;
  }
  // Read before hours of training, so a bad key fails at once.
  const signingKey = options.signKeyFile ? await readSigningKey(options.signKeyFile) : undefined;
  const result = await train({
    ...options,
    signingKey,
    onTrial: progressBar(options.trials, performance.now(), options.quiet),
  });
  if (options.json) console.log(JSON.stringify(result, null, 2));
  else if (!options.quiet) console.log(formatSummary(result));
  return 0;
}

if (import.meta.main) await runCli("train", main, { usage: TRAIN_USAGE });
