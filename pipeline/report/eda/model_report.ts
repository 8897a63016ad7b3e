/**
 * Tables of the model report beyond the raw artifacts: how each hyperparameter relates to the
 * objective across trials, feature importance per attribute, readable metric and feature names.
 * @module
 */

import { ATTRIBUTES, codeLabel } from "../../data/schema.ts";
import { mean } from "../../stats.ts";
import { spearman } from "./association.ts";
import type { TrialRow } from "./run_artifacts.ts";

/** How one hyperparameter relates to the objective across completed trials. */
export interface HyperparameterEffect {
  name: string;
  /** Number of completed trials that asked for it. */
  trials: number;
  /** Spearman correlation with the objective for numeric ones, else null. */
  spearman: number | null;
  /** Mean objective per level for text (and two-valued) ones, best level first. */
  levels: { level: string; trials: number; mean: number }[];
  /** The best completed trial's value of it. */
  best: number | string | null;
}

/** Per hyperparameter: rank correlation with the objective (numeric) or mean objective per level. */
export function hyperparameterEffects(
  trials: readonly TrialRow[],
  direction: "minimize" | "maximize",
): HyperparameterEffect[] {
  const complete = trials.filter((t) => t.state.toLowerCase() === "complete" && t.value !== null);
  const sign = direction === "minimize" ? 1 : -1;
  const best = [...complete].sort((a, b) => sign * (a.value! - b.value!) || a.number - b.number)[0];
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))];
  return names.map((name) => {
    const asked = complete.filter((t) => name in t.params);
    const values = asked.map((t) => t.params[name]);
    const isNumeric = values.every((v) => typeof v === "number");
    const distinct = new Set(values.map(String));
    const levels = isNumeric && distinct.size > 2 ? [] : [...distinct].map((level) => {
      const at = asked.filter((t) => String(t.params[name]) === level);
      return { level, trials: at.length, mean: mean(at.map((t) => t.value!)) };
    }).sort((a, b) => sign * (a.mean - b.mean) || (a.level < b.level ? -1 : 1));
    return {
      name,
      trials: asked.length,
      spearman: isNumeric && distinct.size > 1
        ? spearman(values as number[], asked.map((t) => t.value!))
        : null,
      levels,
      best: best && name in best.params ? best.params[name] : null,
    };
  });
}

/** Sums feature importances per source: one-hot columns ("purpose=A40") add up to their attribute. */
export function importanceByAttribute(
  items: readonly { name: string; importance: number }[],
): { name: string; importance: number }[] {
  const sums = new Map<string, number>();
  for (const { name, importance } of items) {
    const source = name.split("=")[0];
    sums.set(source, (sums.get(source) ?? 0) + importance);
  }
  return [...sums].map(([name, importance]) => ({ name, importance }))
    .sort((a, b) => b.importance - a.importance || (a.name < b.name ? -1 : 1));
}

/** Readable names of the metrics `metricsReport` logs, in the order a report lists them. */
export const METRIC_LABELS: Readonly<Record<string, string>> = {
  roc_auc: "ROC AUC",
  pr_auc: "PR AUC (average precision)",
  gini: "Gini (2·AUC − 1)",
  ks: "KS statistic",
  brier: "Brier score",
  recall_bad: "recall of bad (sensitivity)",
  specificity: "specificity (good approved)",
  precision: "precision of a decline",
  accuracy: "accuracy",
  balanced_accuracy: "balanced accuracy",
  f1: "F1",
  f2: "F2",
  cost: "expected cost per applicant",
  threshold: "decision threshold on P(bad)",
};

/** A one-hot feature name ("checking_status=A14") or attribute name as readable English. */
export function featureLabel(name: string): string {
  const [attributeName, code] = name.split("=");
  const a = ATTRIBUTES.find((x) => x.name === attributeName);
  if (!a) return name;
  if (code === undefined) return a.label.en;
  return `${a.label.en}: ${codeLabel(a.name, code) ?? code}`;
}
