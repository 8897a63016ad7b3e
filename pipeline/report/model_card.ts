/**
 * `MODEL_CARD.md` for a run, generated from its `run.json` alone: intended use, data, protocol,
 * metrics with uncertainty, fairness and limitations. Creditworthiness scoring is high-risk AI under
 * the EU AI Act, so every model ships with one.
 * @module
 */

import type { FairnessComparison } from "../monitoring/fairness.ts";
import type { FairnessIntervals, GroupingFigures, Interval } from "../monitoring/fairness_intervals.ts";
import type { FairLendingReport } from "../model/fair_lending.ts";
import type { AttributeInfluence } from "../model/reasons.ts";
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
  push(...profileSection(run));
  const intervals = run.metrics.fairness_intervals as
    | { test?: FairnessIntervals; cv_out_of_fold?: FairnessIntervals }
    | undefined;
  if (intervals?.cv_out_of_fold || intervals?.test) {
    push("## Fairness", "");
    if (intervals.cv_out_of_fold) {
      push(
        "On out-of-fold decisions of the training part (larger than the test split, so steadier; the PD's within-group",
        "calibration is in-sample there, since the calibrator was fitted on these scores):",
        "",
        ...fairnessTable(intervals.cv_out_of_fold),
        "",
      );
    }
    if (intervals.test) push("On the held-out test split:", "", ...fairnessTable(intervals.test), "");
    push(`Intervals: ${(intervals.cv_out_of_fold ?? intervals.test)!.method}.`, "");
  } else if (fairness) {
    // Older runs recorded point figures only: a fairness figure without its interval misleads, so none is shown.
    push(
      "## Fairness",
      "",
      "This run recorded its fairness figures without intervals; run `deno task fairness --run " +
        run.run_id +
        "` to add them.",
      "",
    );
  }
  const fairLending = run.metrics.fair_lending as FairLendingReport | undefined;
  if (fairLending) push(...fairLendingSection(fairLending));
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
    ...(profileOf(run).excluded.length === 0
      ? [
        "- `personal_status` mixes sex and marital status, and `foreign_worker` and age are protected characteristics in",
        "  many jurisdictions: this model uses them because the data does; check the fairness table before any real use.",
      ]
      : [
        "- The model cannot see the protected attributes, but proxies remain (employment duration, housing and job",
        "  correlate with age): not seeing an attribute is not the same as not discriminating on it; check the table.",
      ]),
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

/** What the run's profile says the model can see, read from its params (absent: `full`). */
function profileOf(
  run: RunRecord,
): { name: string; excluded: string[]; features: string[]; recorded: boolean } {
  const recorded = typeof run.params.attribute_profile === "string";
  return {
    name: recorded ? run.params.attribute_profile as string : "full",
    excluded: (run.params.excluded_attributes as string[] | undefined) ?? [],
    features: (run.params.excluded_features as string[] | undefined) ?? [],
    recorded,
  };
}

const PROTECTED_NOTE = "personal_status (sex and marital status), age and foreign_worker (nationality)";

/** The card's "What the model can see" section, and the explicit note when a protected attribute weighs heavily. */
function profileSection(run: RunRecord): string[] {
  const profile = profileOf(run);
  const mitigation = run.params.mitigation === "reweigh"
    ? "Training rows were reweighed (Kamiran & Calders) so that, weighted, the label is independent of the age < 25 × " +
      "sex cells; the protected attributes were read for that at training time only."
    : null;
  const lines = ["## What the model can see", ""];
  if (profile.excluded.length === 0) {
    lines.push(
      `Attribute profile **full**${
        profile.recorded ? "" : " (recorded before profiles existed)"
      }: the model sees all 20 attributes, including the protected ${PROTECTED_NOTE}. Reasons given to`,
      "applicants never cite a protected attribute; the decisions may still depend on them.",
    );
  } else {
    lines.push(
      `Attribute profile **${profile.name}**: the model **cannot see** ${
        profile.excluded.map((a) => `\`${a}\``).join(", ")
      }${
        profile.features.length
          ? `, nor the engineered features derived from them (${
            profile.features.map((f) => `\`${f}\``).join(", ")
          })`
          : ""
      }. The API still accepts these attributes (the fairness report and monitoring need them), but the encoder never`,
      "reads them: two applicants who differ only in them get bit-identical scores. Reasons never cite them.",
    );
  }
  if (mitigation) lines.push("", mitigation);
  const influence = run.metrics.attribute_influence as
    | { rows: string; measure: string; ranking: AttributeInfluence[] }
    | undefined;
  if (influence) {
    const top = influence.ranking.slice(0, 5);
    lines.push(
      "",
      `Largest contributions (${influence.measure}, ${influence.rows}): ${
        top.map((a) => `${a.attribute} ${a.mean_abs_contribution.toFixed(3)}`).join(", ")
      }.`,
    );
    const heavy = top.filter((a) => a.protected);
    if (heavy.length) {
      lines.push(
        "",
        `**A protected attribute is among the model's five largest contributions:** ${
          heavy.map((a) => `\`${a.attribute}\` ranks ${ordinal(a.rank)} of ${influence.ranking.length}`).join(
            "; ",
          )
        }. The reasons hide it from applicants, but the model's decisions lean on it.`,
      );
    }
  } else if (profile.excluded.length === 0) {
    lines.push(
      "",
      "How much the model leans on each attribute was not measured for this run (`deno task fairness`).",
    );
  }
  lines.push("");
  return lines;
}

function ordinal(n: number): string {
  return n === 1 ? "1st" : n === 2 ? "2nd" : n === 3 ? "3rd" : `${n}th`;
}

const ci = (x: Interval | null | undefined, format: (v: number) => string) =>
  !x || x.estimate === null
    ? "undefined"
    : x.low === null || x.high === null
    ? `${format(x.estimate)} (interval undefined)`
    : `${format(x.estimate)} [${format(x.low)}, ${format(x.high)}]`;
const pct0 = (x: number) => `${(100 * x).toFixed(1)} %`;
const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);

/** A fairness table with 95 % intervals: one row per group, the comparisons on the protected group's row. */
function fairnessTable(report: FairnessIntervals): string[] {
  const row = (g: GroupingFigures, side: "protected" | "reference") => {
    const x = g[side];
    const first = side === "protected";
    return `| ${first ? g.attribute : ""} | ${x.group} | ${x.applicants} | ${ci(x.approval_rate, pct0)} | ${
      ci(x.good_declined_rate, pct0)
    } | ${x.mean_pd ? ci(x.mean_pd, f3) : "–"} | ${ci(x.bad_rate, f3)} | ${
      first ? ci(g.disparate_impact, f2) : ""
    } | ${first ? ci(g.equal_opportunity_difference, f3) : ""} |`;
  };
  return [
    "| attribute | group | n | approval rate | good applicants declined | mean PD | bad rate | disparate impact | equal-opportunity diff. |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...report.groupings.flatMap((g) => [row(g, "protected"), row(g, "reference")]),
    "",
    ...report.groupings.filter((g) => g.note).map((g) => `${g.attribute}: ${g.note}.`),
  ];
}

/** The nested comparison of attribute profiles, the production decision and the targets. */
function fairLendingSection(report: FairLendingReport): string[] {
  const lines = [
    "## Fair lending: the price of fairness (nested CV, identical folds)",
    "",
    ...(report.evaluated_run
      ? [
        `Measured on the nested evaluations recorded in run ${report.evaluated_run}; this run is the model it led to.`,
        "",
      ]
      : []),
    `Each profile evaluated by the nested protocol on the same outer folds (${report.protocol}). Fairness figures from`,
    "the out-of-fold nested decisions (every applicant once per repeat), with bootstrap 95 % intervals.",
    "",
    "| model | expected cost (SE) | ROC AUC | recall (bad) | DI age | DI sex | equal-opp. diff. age | equal-opp. diff. sex | approval < 25 / ≥ 25 | approval women / men |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const v of report.variants) {
    const [age, sex] = v.fairness.groupings;
    lines.push(
      `| ${v.label} | ${v.cost.mean.toFixed(3)} (${v.cost.corrected_se.toFixed(3)}) | ${
        v.roc_auc.mean.toFixed(3)
      } | ${pct0(v.recall_bad.mean)} | ${ci(age.disparate_impact, f2)} | ${ci(sex.disparate_impact, f2)} | ${
        ci(age.equal_opportunity_difference, f3)
      } | ${ci(sex.equal_opportunity_difference, f3)} | ${ci(age.protected.approval_rate, pct0)} / ${
        ci(age.reference.approval_rate, pct0)
      } | ${ci(sex.protected.approval_rate, pct0)} / ${ci(sex.reference.approval_rate, pct0)} |`,
    );
  }
  lines.push(
    "",
    "Cost, ROC AUC and recall: mean over the 50 outer folds; (SE) is the corrected resampled-t standard error of the mean.",
    "",
  );
  for (const p of report.paired) {
    const c = p.cost;
    lines.push(
      `- full − ${p.b}, paired on identical folds: expected cost ${c.mean.toFixed(4)} (corrected SE ${
        c.corrected_se.toFixed(4)
      }, 95 % t interval ${c.interval[0].toFixed(4)} to ${c.interval[1].toFixed(4)}); ROC AUC ${
        p.roc_auc.mean.toFixed(4)
      } (SE ${p.roc_auc.corrected_se.toFixed(4)}); recall on bad ${p.recall_bad.mean.toFixed(4)} (SE ${
        p.recall_bad.corrected_se.toFixed(4)
      }).`,
    );
  }
  if (report.decision) {
    lines.push(
      "",
      `**Production choice.** Rule: ${report.decision.rule}. ${report.decision.reason}.`,
    );
  }
  for (const t of report.targets) {
    const di = (x: TargetShape) =>
      x.estimate === null
        ? "undefined"
        : x.met
        ? `${x.estimate.toFixed(2)} (met)`
        : `${x.estimate.toFixed(2)} (missed by ${x.short_by!.toFixed(2)})`;
    lines.push(
      `- Targets for ${t.variant}: DI age ≥ 0.8: ${di(t.disparate_impact_age)}; DI sex ≥ 0.8: ${
        di(t.disparate_impact_sex)
      }; cost within 0.02 of full: +${t.cost_increase.value.toFixed(4)} (${
        t.cost_increase.met ? "met" : `missed by ${t.cost_increase.over_by.toFixed(4)}`
      }).`,
    );
  }
  lines.push("", `Intervals: ${report.interval_method}.`, "");
  return lines;
}

type TargetShape = { estimate: number | null; met: boolean; short_by: number | null };
