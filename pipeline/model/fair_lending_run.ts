/**
 * The fair-lending comparison recorded in a run (`fair_lending.ts` computes it): metric group
 * `fair_lending`, what older runs lack for the model card (test-split fairness intervals, attribute
 * influence), and the re-rendered card. Kept apart from `fair_lending.ts` because the card's renderer
 * reads that module's types.
 * @module
 */

import { loadCreditTable, toApplicants } from "../data/etl.ts";
import { UserError } from "../errors.ts";
import { fairnessIntervalsOfDecisions, type IntervalOptions } from "../monitoring/fairness_intervals.ts";
import { modelCard } from "../report/model_card.ts";
import {
  amendRun,
  DEFAULT_MODELS_DIR,
  PREDICTIONS,
  readRun,
  readRunFile,
  runFilePath,
  type RunRecord,
} from "../tracking/mod.ts";
import { CreditModel } from "./artifact.ts";
import { type FairLendingReport, fairLendingReport } from "./fair_lending.ts";
import { attributeInfluence } from "./reasons.ts";

/**
 * Computes the comparison for `runId` and records it in the run (metric group `fair_lending`), with
 * what older runs lack: the test split's fairness intervals (`fairness_intervals.test`, from its
 * predictions.csv) and how much the model leans on each attribute (`attribute_influence`, on the same
 * rows). The model card is re-rendered. Returns the report.
 */
export async function recordFairLending(
  runId: string,
  options: {
    modelsDir?: string;
    dataPath?: string;
    intervals?: IntervalOptions;
    /** Other runs whose records and cards carry the same comparison (e.g. the model it led to serve). */
    alsoIn?: readonly string[];
  },
): Promise<{ report: FairLendingReport; run: RunRecord }> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const run = await readRun(runId, modelsDir);
  if (!run) throw new UserError(`no run ${runId} under ${modelsDir}/runs`);
  const dataPath = options.dataPath ?? (run.params.data as string | undefined) ?? "data/german.data";
  const report = await fairLendingReport(runId, { modelsDir, dataPath, intervals: options.intervals });
  const metrics: Record<string, unknown> = { fair_lending: report };
  const existing = run.metrics.fairness_intervals as Record<string, unknown> | undefined;
  if (!existing?.test || !run.metrics.attribute_influence) {
    const predictions = await readRunFile(PREDICTIONS, runId, modelsDir);
    const { model } = await CreditModel.load(runFilePath(runId, "model.json", modelsDir));
    if (predictions?.length) {
      const table = await loadCreditTable(dataPath);
      const all = toApplicants(table.frame);
      const byLine = new Map<number, number>(Array.from(table.lineNumbers, (line, i) => [line - 1, i]));
      const applicants = predictions.map((p) => {
        const i = byLine.get(p.row);
        if (i === undefined) throw new UserError(`predictions.csv row ${p.row} is not a line of ${dataPath}`);
        return all[i];
      });
      if (!existing?.test) {
        metrics.fairness_intervals = {
          ...existing,
          test: fairnessIntervalsOfDecisions(
            applicants,
            predictions.map((p) => p.label),
            predictions.map((p) => p.probability >= model.threshold),
            predictions.map((p) => model.pd(p.probability)),
            options.intervals,
          ),
        };
      }
      if (!run.metrics.attribute_influence) {
        metrics.attribute_influence = {
          rows: `held-out test part (${applicants.length} rows, from predictions.csv)`,
          measure: "mean |attribute-level TreeSHAP contribution to P(bad)|",
          ranking: attributeInfluence(model.explainer, applicants),
        };
      }
    }
  }
  const amended = await amendRun(runId, {
    metrics,
    artifacts: (record) => ({ "MODEL_CARD.md": modelCard(record) }),
  }, modelsDir);
  for (const other of options.alsoIn ?? []) {
    if (other === runId) continue;
    if (!await readRun(other, modelsDir)) throw new UserError(`no run ${other} under ${modelsDir}/runs`);
    await amendRun(other, {
      metrics: { fair_lending: { ...report, evaluated_run: runId } },
      artifacts: (record) => ({ "MODEL_CARD.md": modelCard(record) }),
    }, modelsDir);
  }
  return { report, run: amended };
}
