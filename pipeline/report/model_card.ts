/**
 * `MODEL_CARD.md` for a run, generated from its `run.json` alone: intended use, data, protocol,
 * metrics with uncertainty, fairness and limitations. Creditworthiness scoring is high-risk AI under
 * the EU AI Act, so every model ships with one.
 * @module
 */

import type { FairnessComparison } from "../monitoring/fairness.ts";
import type { RunRecord } from "../tracking/mod.ts";

type Numbers = Record<string, number>;

const pct = (x: number | undefined) => (x === undefined ? "–" : `${(100 * x).toFixed(1)} %`);
const num = (x: number | undefined, digits = 3) => (x === undefined ? "–" : x.toFixed(digits));

/** Renders the model card of a run. */
export function modelCard(run: RunRecord): string {
  const test = run.metrics.test as Numbers | undefined;
  const baseline = (run.metrics.baseline_test as { at_own_threshold?: Numbers } | undefined)
    ?.at_own_threshold;
  const protocol = (run.metrics.protocol ?? {}) as Record<string, string>;
  const repeated = run.metrics.repeated_cv as
    | (Record<string, { mean: number; sd: number }> & { protocol: string })
    | undefined;
  const repeatedPlain = run.metrics.repeated_cv_plain as
    | Record<string, { mean: number; sd: number }>
    | undefined;
  // The nested evaluation (deno task evaluate --nested), when recorded: shown where the 5 × 10 CV was.
  const nested = run.metrics.nested as
    | {
      protocol: string;
      summary: Record<string, { mean: number; sd: number; corrected_se: number; folds: number }>;
    }
    | undefined;
  const calibration = run.metrics.calibration as Numbers & { method?: string } | undefined;
  const fairness =
    (run.metrics.fairness as { test?: FairnessComparison[]; cv_out_of_fold?: FairnessComparison[] })
      ?.cv_out_of_fold;
  // The searched hyperparameters, then the tree count and the threshold, which the record keeps apart.
  const model: Record<string, unknown> = {
    ...(run.params.model ?? {}) as Record<string, unknown>,
    ...(typeof run.params.trees === "number" ? { trees: run.params.trees } : {}),
    ...(typeof run.metrics.threshold === "number" ? { "threshold (fitted)": run.metrics.threshold } : {}),
  };
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);

  push(
    `# Model card — run ${run.run_id}`,
    "",
    `Status: **${run.status}**. Experiment: ${run.experiment}. Started ${run.start_time}. Model version: ${
      run.tags.model_version ?? "not registered"
    } (${run.tags.stage ?? "–"}).`,
    "",
    "## Intended use",
    "",
    "Scores consumer credit applications (German Credit attributes) for the risk that the credit goes bad, to decline or",
    "refer high-risk applicants early while approving good customers. It supports a credit officer's decision; it is not",
    "meant to decide alone. Applicants declined are owed the reasons (`reasons` in the API's answer). Out of scope:",
    "other products, other countries or periods than the data's, and any use of the protected attributes to target people.",
    "",
    "## Data",
    "",
    `Statlog German Credit (UCI, CC BY 4.0): 1,000 applicants from a German bank in the 1970s, 20 attributes, 30 % bad.`,
    `Data sha256 \`${
      run.tags.data_sha256 ?? "–"
    }\`. Old, small and from one lender: its figures describe that population,`,
    "not today's applicants.",
    "",
    "## Model",
    "",
    "Balanced random forest (every tree grows on a class-balanced sample), tuned by a TPE search; probabilities",
    "calibrated by Platt scaling; decision threshold chosen to minimise expected cost (a missed bad risk costs 5,",
    "a declined good customer 1).",
    "",
    "| parameter | value |",
    "| --- | --- |",
    ...Object.entries(model).map(([k, v]) =>
      `| ${k} | ${typeof v === "number" && !Number.isInteger(v) ? num(v, 4) : String(v)} |`
    ),
    "",
    "## Protocol",
    "",
    ...Object.entries(protocol).map(([k, v]) => `- ${k}: ${v}`),
    ...(nested
      ? [
        `- nested CV: ${nested.protocol}. Fixed beforehand (models/PROTOCOL.md), not searched: the PD ≥ 1/6`,
        "  rule, the tree counts and the forest defaults, themselves chosen earlier by 5 × 10-fold CV on all rows.",
      ]
      : repeated
      ? [`- repeated CV: ${repeated.protocol}`]
      : []),
    "",
    "## Metrics",
    "",
    // Runs before pd_brier was logged kept the served PD's Brier score under calibration.
    ...(nested
      ? nestedTable(nested.summary, {
        ...(calibration ? { pd_brier: calibration.test_brier_calibrated } : {}),
        ...test,
      })
      : [
        "| metric | held-out test split | plain forest (test) | repeated CV (mean ± sd) | plain forest, repeated CV |",
        "| --- | --- | --- | --- | --- |",
        ...([
          ["ROC AUC", "roc_auc", false],
          ["recall on bad risks", "recall_bad", true],
          ["specificity", "specificity", true],
          ["accuracy", "accuracy", true],
          ["expected cost per applicant", "cost", false],
          ["KS", "ks", false],
          ["Brier score (raw)", "brier", false],
        ] as const).map(([label, key, percent]) => {
          const f = percent ? pct : (x?: number) => num(x);
          const cell = (e?: { mean: number; sd: number }) => (e ? `${f(e.mean)} ± ${f(e.sd)}` : "–");
          return `| ${label} | ${f(test?.[key])} | ${f(baseline?.[key])} | ${cell(repeated?.[key])} | ${
            cell(repeatedPlain?.[key])
          } |`;
        }),
      ]),
    "",
    "Reference points: declining everyone costs 0.70 per applicant, approving everyone 1.50.",
    "",
  );
  if (calibration) {
    push(
      "## Calibration",
      "",
      `${calibration.method ?? "Platt scaling"}. Brier score on the test split: ${
        num(calibration.test_brier_raw)
      } raw,`,
      `${num(calibration.test_brier_calibrated)} calibrated; mean PD ${
        pct(calibration.test_mean_pd)
      } against an observed bad`,
      `rate of ${pct(calibration.test_bad_rate)}. The decision threshold on the PD scale is ${
        num(calibration.pd_threshold)
      }.`,
      "",
    );
  }
  if (fairness) {
    push(
      "## Fairness",
      "",
      "On out-of-fold decisions of the training part (larger than the test split, so steadier):",
      "",
      "| attribute | group | n | approval rate | recall (bad) | false declines | disparate impact | equal-opportunity diff. |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      ...fairness.flatMap((f) => [
        `| ${f.attribute} | ${f.protected.group} | ${f.protected.count} | ${
          pct(f.protected.approval_rate)
        } | ${pct(f.protected.recall_bad)} | ${pct(f.protected.false_decline_rate)} | ${
          num(f.disparate_impact, 2)
        } | ${num(f.equal_opportunity_difference, 3)} |`,
        `| | ${f.reference.group} | ${f.reference.count} | ${pct(f.reference.approval_rate)} | ${
          pct(f.reference.recall_bad)
        } | ${pct(f.reference.false_decline_rate)} | | |`,
      ]),
      "",
      ...fairness.filter((f) => f.warning).map((f) => `**Warning:** ${f.warning}.`),
      "",
    );
  }
  push(
    "## Limitations",
    "",
    ...(nested
      ? [
        "- 1,000 rows: test-split figures move by several points with the seed; prefer the nested-CV figures. The test",
        "  split is one run's held-out check, and earlier production runs were scored on it too.",
        "- The nested figures are free of tuning on their test rows, not of the design choices fixed before them",
        "  (threshold rule, tree counts, forest defaults), which were chosen by CV on all 1,000 rows.",
      ]
      : [
        "- 1,000 rows: test-split figures move by several points with the seed; prefer the repeated-CV figures.",
        "- Hyperparameters were tuned on the training part of one split; repeated CV reuses them on all rows, which flatters",
        "  it slightly.",
      ]),
    "- `personal_status` mixes sex and marital status, and `foreign_worker` and age are protected characteristics in",
    "  many jurisdictions: the model uses them because the data does; check the fairness table before any real use.",
    "- The data are from the 1970s in Deutsche Mark; amounts and base rates do not transfer to today's lending.",
    "",
  );
  return lines.join("\n");
}

/** The metrics table with the nested figures: mean, SD across folds and corrected SE, each labelled. */
function nestedTable(
  summary: Record<string, { mean: number; sd: number; corrected_se: number; folds: number }>,
  test: Numbers | undefined,
): string[] {
  const folds = summary.cost?.folds ?? 0;
  return [
    `| metric | nested CV, mean over ${folds} outer folds | SD across folds | SE of the mean (corrected) | held-out test split (one run) |`,
    "| --- | --- | --- | --- | --- |",
    ...([
      ["expected cost per applicant", "cost", "cost", false],
      ["ROC AUC", "roc_auc", "roc_auc", false],
      ["recall on bad risks", "recall_bad", "recall_bad", true],
      ["specificity", "specificity", "specificity", true],
      ["accuracy", "accuracy", "accuracy", true],
      ["Brier score (served PD)", "brier_pd", "pd_brier", false],
      ["Brier score (raw forest score)", "brier_raw", "brier", false],
    ] as const).map(([label, key, testKey, percent]) => {
      const f = percent ? pct : (x?: number) => num(x);
      const s = summary[key];
      return `| ${label} | ${f(s?.mean)} | ${f(s?.sd)} | ${f(s?.corrected_se)} | ${f(test?.[testKey])} |`;
    }),
  ];
}
