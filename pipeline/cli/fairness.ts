/**
 * `deno task fairness [--run ID]`: the price of fairness under the nested protocol
 * (`pipeline/model/fair_lending.ts`): every complete nested variant of the run (`nested/`,
 * `nested-fair/`, `nested-fair-reweigh/`) compared with `full` on identical folds, fairness figures
 * with bootstrap intervals, and `models/PROTOCOL.md`'s production rule applied; recorded as the run's
 * metric group `fair_lending` and in its model card (and, with `--also`, in other runs' records and
 * cards, e.g. the model the decision put in production). Without `--run`, the production model's run.
 * Exit codes: 0 done, 1 failed, 2 bad flags.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError, UserError } from "../errors.ts";
import type { FairLendingReport } from "../model/fair_lending.ts";
import { recordFairLending } from "../model/fair_lending_run.ts";
import { DEFAULT_INTERVAL_OPTIONS, type Interval } from "../monitoring/fairness_intervals.ts";
import { DEFAULT_MODELS_DIR, productionModel, readRegistry } from "../tracking/mod.ts";
import { runCli } from "./run_cli.ts";

/** The usage text of `deno task fairness`. */
export const FAIRNESS_USAGE =
  "usage: deno task fairness [--run ID] [--also RUN …] [--models-dir models] [--resamples 2000] [--seed 20261128] [--json]\n" +
  "  --also RUN   record the same comparison in another run too (e.g. the model the decision put in production)";

/** `deno task fairness` with `args`; returns the exit code (errors are mapped by `runCli`). */
export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        run: { type: "string" },
        also: { type: "string", multiple: true },
        "models-dir": { type: "string", default: DEFAULT_MODELS_DIR },
        resamples: { type: "string", default: String(DEFAULT_INTERVAL_OPTIONS.resamples) },
        seed: { type: "string", default: String(DEFAULT_INTERVAL_OPTIONS.seed) },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    console.log(FAIRNESS_USAGE);
    return 0;
  }
  const resamples = Number(values.resamples);
  const seed = Number(values.seed);
  if (!Number.isInteger(resamples) || resamples < 100) {
    throw new UsageError(`--resamples must be a whole number ≥ 100, got ${values.resamples}`);
  }
  if (!Number.isInteger(seed) || seed < 0) {
    throw new UsageError(`--seed must be a whole number, got ${values.seed}`);
  }
  const modelsDir = values["models-dir"]!;
  const runId = values.run ?? productionModel(await readRegistry(modelsDir))?.run_id;
  if (!runId) throw new UserError("no production model in the registry; pass --run ID");
  const { report } = await recordFairLending(runId, {
    modelsDir,
    intervals: { resamples, seed },
    alsoIn: values.also ?? [],
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatFairLending(runId, report));
  return 0;
}

const ci = (x: Interval, digits = 2) =>
  x.estimate === null
    ? "undefined"
    : `${x.estimate.toFixed(digits)} [${x.low === null ? "?" : x.low.toFixed(digits)}, ${
      x.high === null ? "?" : x.high.toFixed(digits)
    }]`;

/** The comparison as plain text: one block per variant, the paired differences, the decision. */
export function formatFairLending(runId: string, report: FairLendingReport): string {
  const lines = [`run ${runId}`, report.protocol, `intervals: ${report.interval_method}`, ""];
  for (const v of report.variants) {
    lines.push(
      `${v.label}: cost ${v.cost.mean.toFixed(3)} (corrected SE ${v.cost.corrected_se.toFixed(3)}), ROC AUC ${
        v.roc_auc.mean.toFixed(3)
      }, recall (bad) ${v.recall_bad.mean.toFixed(3)}` +
        (v.folds_identical_to_full === null ? "" : `; folds identical to full: ${v.folds_identical_to_full}`),
    );
    for (const g of v.fairness.groupings) {
      lines.push(
        `  ${g.attribute}: approval ${g.protected.group} ${
          ci(g.protected.approval_rate)
        } vs ${g.reference.group} ${ci(g.reference.approval_rate)}; DI ${ci(g.disparate_impact)}; EOD ${
          ci(g.equal_opportunity_difference)
        }`,
      );
    }
  }
  lines.push("");
  for (const p of report.paired) {
    const c = p.cost;
    lines.push(
      `full − ${p.b}: cost ${c.mean.toFixed(4)} (corrected SE ${c.corrected_se.toFixed(4)}, 95 % CI ${
        c.interval[0].toFixed(4)
      } to ${c.interval[1].toFixed(4)}); ROC AUC ${p.roc_auc.mean.toFixed(4)} (SE ${
        p.roc_auc.corrected_se.toFixed(4)
      }); recall ${p.recall_bad.mean.toFixed(4)} (SE ${p.recall_bad.corrected_se.toFixed(4)})`,
    );
  }
  if (report.decision) lines.push("", `decision: ${report.decision.reason}`);
  return lines.join("\n");
}

if (import.meta.main) await runCli("fairness", main, { usage: FAIRNESS_USAGE });
