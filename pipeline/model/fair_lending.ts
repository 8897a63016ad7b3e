/**
 * The price of fairness, measured under the nested protocol: each attribute profile (and mitigation)
 * evaluated by `deno task evaluate --nested` on identical outer folds is compared with the `full`
 * model fold by fold (paired cost, ROC AUC and recall differences with the corrected resampled-t SE,
 * `compare.ts`), its fairness figures computed with bootstrap intervals from its out-of-fold nested
 * predictions (`monitoring/fairness_intervals.ts`), and `models/PROTOCOL.md`'s production rule applied:
 * serve `fair` when its nested expected cost is no more than one corrected SE of the paired
 * difference above `full`'s. The command line is `deno task fairness` (`cli/fairness.ts`), which records it through `fair_lending_run.ts`.
 * @module
 */

import { loadCreditTable, toApplicants } from "../data/etl.ts";
import { UserError } from "../errors.ts";
import {
  DEFAULT_INTERVAL_OPTIONS,
  type FairnessIntervals,
  fairnessIntervals,
  type IntervalOptions,
} from "../monitoring/fairness_intervals.ts";
import {
  correctedResampledT,
  type FoldSummary,
  type PairedSummary,
  pairFolds,
  testTrainRatio,
} from "./compare.ts";
import {
  DEFAULT_MODELS_DIR,
  nestedFiles,
  type NestedRecord,
  readNestedPredictions,
  readNestedRecord,
} from "../tracking/mod.ts";

/** The nested variants compared, in table order: folder suffix and label. */
export const FAIR_LENDING_VARIANTS = [
  { variant: "", name: "full", label: "full (all 20 attributes)" },
  { variant: "fair", name: "fair", label: "fair (no personal_status, age, foreign_worker)" },
  { variant: "fair-reweigh", name: "fair + reweighing", label: "fair + reweighing (Kamiran & Calders)" },
] as const;

/** The protocol's rule, in the words of `models/PROTOCOL.md`. */
export const PRODUCTION_RULE =
  "serve the fair profile when its nested expected cost is no more than one corrected standard error of the " +
  "paired difference above the full profile's; otherwise serve the better one and state the trade-off " +
  "(models/PROTOCOL.md, written before any profile comparison was run)";

/** The targets: disparate impact ≥ 0.8 for age and sex, nested cost within 0.02 of full. */
export const TARGETS = { disparateImpact: 0.8, costMargin: 0.02 } as const;

/** One variant's nested figures. */
export interface VariantFigures {
  name: string;
  label: string;
  files: string;
  git_commit: unknown;
  folds_sha256: string | null;
  /** Whether its folds.csv is byte-identical to the full run's (null for full itself). */
  folds_identical_to_full: boolean | null;
  cost: FoldSummary;
  roc_auc: FoldSummary;
  recall_bad: FoldSummary;
  /** Fairness figures with intervals from the out-of-fold nested predictions (every row once per repeat). */
  fairness: FairnessIntervals;
}

/** A paired comparison of full against a variant on identical folds: `full − variant`. */
export interface PairedFigures {
  a: "full";
  b: string;
  cost: PairedSummary;
  roc_auc: PairedSummary;
  recall_bad: PairedSummary;
}

/** The rule applied to the `fair` profile. */
export interface ProductionDecision {
  rule: string;
  full_cost: number;
  fair_cost: number;
  /** fair − full (positive: fair costs more). */
  cost_increase: number;
  /** Corrected SE of the paired difference. */
  corrected_se: number;
  fair_within_one_se: boolean;
  chosen: "fair" | "full";
  reason: string;
}

/** Targets met or missed, and by how much. */
export interface TargetCheck {
  variant: string;
  disparate_impact_age: { estimate: number | null; met: boolean; short_by: number | null };
  disparate_impact_sex: { estimate: number | null; met: boolean; short_by: number | null };
  cost_increase: { value: number; met: boolean; over_by: number };
}

/** The whole comparison as recorded (run metric group `fair_lending`). */
export interface FairLendingReport {
  protocol: string;
  interval_method: string;
  variants: VariantFigures[];
  paired: PairedFigures[];
  decision: ProductionDecision | null;
  targets: TargetCheck[];
  computed_at: string;
  /** Set on a copy recorded in another run: the run whose nested evaluations were compared. */
  evaluated_run?: string;
}

/** Reads every complete nested variant of `runId` and builds the comparison. */
export async function fairLendingReport(
  runId: string,
  options: { modelsDir?: string; dataPath: string; intervals?: IntervalOptions },
): Promise<FairLendingReport> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const table = await loadCreditTable(options.dataPath);
  const applicants = toApplicants(table.frame);
  const indexOfLine = new Map<number, number>(Array.from(table.lineNumbers, (line, i) => [line - 1, i]));
  const variants: VariantFigures[] = [];
  const records = new Map<string, NestedRecord>();
  for (const v of FAIR_LENDING_VARIANTS) {
    const record = await readNestedRecord(runId, modelsDir, v.variant);
    if (!record?.complete) continue;
    const predictions = await readNestedPredictions(runId, modelsDir, v.variant);
    if (!predictions) throw new UserError(`nested variant ${v.name} of run ${runId} has no predictions.csv`);
    records.set(v.name, record);
    const summary = record.summary as Record<string, FoldSummary>;
    const applicant = predictions.map((p) => {
      const i = indexOfLine.get(p.row);
      if (i === undefined) {
        throw new UserError(`nested prediction row ${p.row} is not a line of ${options.dataPath}`);
      }
      return i;
    });
    const labels = new Uint8Array(applicants.length);
    for (let j = 0; j < predictions.length; j++) labels[applicant[j]] = predictions[j].label;
    const fullOf = record.folds_of_full as { identical: boolean } | undefined;
    variants.push({
      name: v.name,
      label: v.label,
      files: nestedFiles(v.variant).summary,
      git_commit: record.git_commit,
      folds_sha256: (record.folds_sha256 as string | undefined) ?? null,
      folds_identical_to_full: v.variant === "" ? null : fullOf?.identical ?? null,
      cost: summary.cost,
      roc_auc: summary.roc_auc,
      recall_bad: summary.recall_bad,
      fairness: fairnessIntervals({
        applicants,
        labels,
        applicant,
        declined: predictions.map((p) => p.decision === "decline"),
        pd: predictions.map((p) => p.pd),
      }, options.intervals ?? DEFAULT_INTERVAL_OPTIONS),
    });
  }
  const full = records.get("full");
  if (!full) {
    throw new UserError(`run ${runId} has no complete nested evaluation (deno task evaluate --nested first)`);
  }
  const paired: PairedFigures[] = [];
  for (const [name, record] of records) {
    if (name === "full") continue;
    paired.push(pairedFigures(full, record, name));
  }
  const fairPaired = paired.find((p) => p.b === "fair");
  const fairFigures = variants.find((v) => v.name === "fair");
  return {
    protocol: String(full.protocol),
    interval_method: variants[0].fairness.method,
    variants,
    paired,
    decision: fairPaired && fairFigures ? decide(variants[0], fairFigures, fairPaired) : null,
    targets: variants.filter((v) => v.name !== "full").map((v) => targetCheck(variants[0], v)),
    computed_at: new Date().toISOString(),
  };
}

function pairedFigures(full: NestedRecord, other: NestedRecord, name: string): PairedFigures {
  type Fold = { repeat: number; fold: number; n_test: number; n_train: number } & Record<string, number>;
  const a = full.folds as Fold[];
  const b = other.folds as Fold[];
  const ratio = testTrainRatio(a);
  const metric = (key: string) => {
    const pairs = pairFolds(
      a.map((f) => ({ repeat: f.repeat, fold: f.fold, value: f[key] })),
      b.map((f) => ({ repeat: f.repeat, fold: f.fold, value: f[key] })),
      { a: "full", b: name },
    );
    return correctedResampledT(pairs.map((p) => p.difference), ratio);
  };
  return {
    a: "full",
    b: name,
    cost: metric("cost"),
    roc_auc: metric("roc_auc"),
    recall_bad: metric("recall_bad"),
  };
}

/** PROTOCOL.md's rule on the full and fair figures. */
export function decide(
  full: VariantFigures,
  fair: VariantFigures,
  paired: PairedFigures,
): ProductionDecision {
  const increase = fair.cost.mean - full.cost.mean;
  const se = paired.cost.corrected_se;
  // A tolerance for rounding in the subtraction: exactly one SE above is within.
  const within = increase <= se + 1e-12;
  const chosen = within ? "fair" : full.cost.mean <= fair.cost.mean ? "full" : "fair";
  return {
    rule: PRODUCTION_RULE,
    full_cost: full.cost.mean,
    fair_cost: fair.cost.mean,
    cost_increase: increase,
    corrected_se: se,
    fair_within_one_se: within,
    chosen,
    reason: within
      ? `fair costs ${increase.toFixed(4)} more per applicant than full, within one corrected SE (${
        se.toFixed(4)
      }): serve fair`
      : `fair costs ${increase.toFixed(4)} more per applicant than full, more than one corrected SE (${
        se.toFixed(4)
      }): serve ${chosen}, and state the trade-off`,
  };
}

function targetCheck(full: VariantFigures, v: VariantFigures): TargetCheck {
  const di = (k: number) => {
    const estimate = v.fairness.groupings[k].disparate_impact.estimate;
    return {
      estimate,
      met: estimate !== null && estimate >= TARGETS.disparateImpact,
      short_by: estimate === null ? null : Math.max(0, TARGETS.disparateImpact - estimate),
    };
  };
  const increase = v.cost.mean - full.cost.mean;
  return {
    variant: v.name,
    disparate_impact_age: di(0),
    disparate_impact_sex: di(1),
    cost_increase: {
      value: increase,
      met: increase <= TARGETS.costMargin,
      over_by: Math.max(0, increase - TARGETS.costMargin),
    },
  };
}
