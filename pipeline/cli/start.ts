/**
 * `deno task start`: the one command a new user runs. Trains a model when the registry has no
 * production model (saying so, and how long it takes), then serves the form, the dashboard and the
 * API, and prints where.
 * @module
 */

import { UsageError } from "../errors.ts";
import { serveMain as serve } from "../serving/server.ts";
import { runCli } from "./run_cli.ts";
import { defaultModelsDir, parseServeFlags, SERVE_USAGE } from "../serving/flags.ts";
import { productionModel, readRegistry } from "../tracking/mod.ts";
import { DEFAULT_TRAIN_OPTIONS, formatSummary, train } from "../model/train.ts";

/** Whether the models folder has a production model whose artifact exists. */
export async function hasProductionModel(modelsDir: string): Promise<boolean> {
  const registry = await readRegistry(modelsDir);
  const production = productionModel(registry);
  if (!production) return false;
  const path = production.artifact.startsWith("/")
    ? production.artifact
    : `${modelsDir}/${production.artifact}`;
  return await Deno.stat(path).then(() => true, () => false);
}

async function main(args: string[]): Promise<number> {
  let flags;
  try {
    flags = parseServeFlags(args);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (flags.help) {
    console.log(SERVE_USAGE.replace("usage: serve", "usage: deno task start"));
    return 0;
  }
  const modelsDir = flags.env.MODELS_DIR ?? Deno.env.get("MODELS_DIR") ??
    defaultModelsDir(new URL("../../serve.ts", import.meta.url).href);
  if (!flags.env.MODEL && !Deno.env.get("MODEL") && !(await hasProductionModel(modelsDir))) {
    console.log(
      `No production model in ${modelsDir} yet: training one now ` +
        `(${DEFAULT_TRAIN_OPTIONS.trials} search trials × ${DEFAULT_TRAIN_OPTIONS.searchRepeats} × ` +
        `${DEFAULT_TRAIN_OPTIONS.folds}-fold CV, then a ${DEFAULT_TRAIN_OPTIONS.trees}-tree model: about 10 s on 2 cores).`,
    );
    const started = performance.now();
    const result = await train({
      ...DEFAULT_TRAIN_OPTIONS,
      modelsDir,
      onTrial: (_study, done) => {
        if (Deno.stdout.isTerminal()) {
          Deno.stdout.writeSync(
            new TextEncoder().encode(`\r  trial ${done}/${DEFAULT_TRAIN_OPTIONS.trials}`),
          );
        }
      },
    });
    console.log(
      `\n${formatSummary(result)}\nTrained in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`,
    );
  }
  const port = Number(flags.env.PORT ?? Deno.env.get("PORT") ?? 8000);
  console.log(
    `Serving on http://localhost:${port}/  (form)  ·  /runs (dashboard)  ·  /docs (API)  —  Ctrl-C stops.`,
  );
  return await serve(args);
}

if (import.meta.main) {
  await runCli("start", main, { usage: SERVE_USAGE.replace("usage: serve", "usage: deno task start") });
}
