/**
 * The statistics behind the notebooks, one module per job. Cells call these, chart the results with
 * `../charts/mod.ts` and display them with `../jupyter.ts`; no analysis logic lives in a cell.
 *
 * | module | job |
 * | --- | --- |
 * | `groups.ts` | good/bad counts and bad rates per category |
 * | `binning.ts` | numeric variables cut into one bin per value or quantile bins |
 * | `woe.ts` | weight of evidence and information value of every attribute and engineered feature |
 * | `association.ts` | contingency tables, χ², Cramér's V, Pearson's and Spearman's correlation |
 * | `quality.ts` | data-quality checks against the schema |
 * | `class_summary.ts` | how a numeric variable differs between good and bad applicants |
 * | `costs.ts` | the Bayes threshold, trivial policies, the cost staircase and its standard error |
 * | `run_artifacts.ts` | the report's one reader of a run's files, `readRunArtifacts` |
 * | `model_report.ts` | hyperparameter effects, importance per attribute, readable names |
 *
 * Conventions: `bad` holds the target (1 bad, 0 good); weight of evidence is `ln(%good / %bad)`,
 * so a positive WoE marks a lower-risk group, as in credit scorecards. Quantiles, mean and sd and
 * the bin index come from `pipeline/stats.ts`. Imports `data/`, `features/`, `model/metrics.ts`,
 * `tracking/` and `stats.ts`; never an entry point.
 * @module
 */

export { countBad, countsByCategory, type GroupBadRate, type GroupCounts, withBadRates } from "./groups.ts";
export {
  type BinningOptions,
  countsByBin,
  formatBinValue,
  type NumericBinning,
  numericBinning,
} from "./binning.ts";
export {
  attributeInformationValues,
  engineeredFeatureValues,
  engineeredInformationValues,
  IV_BANDS,
  type IvStrength,
  ivStrength,
  rankByIv,
  type VariableIv,
  weightOfEvidence,
  WOE_SMOOTHING,
  type WoeBin,
  type WoeTable,
} from "./woe.ts";
export {
  averageRanks,
  chiSquared,
  type ContingencyTable,
  contingencyTable,
  correlationMatrix,
  cramersV,
  cramersVMatrix,
  type MatrixCell,
  pearson,
  spearman,
} from "./association.ts";
export { type AttributeQuality, type QualityReport, qualityReport } from "./quality.ts";
export {
  classValues,
  extremeGroups,
  type NumericSummary,
  numericSummaryByClass,
  standardisedMeanDifference,
} from "./class_summary.ts";
export {
  bayesThreshold,
  costStaircase,
  expectedCostStandardError,
  groupBadRateScores,
  trivialPolicyCosts,
} from "./costs.ts";
export {
  parseTrials,
  type ProductionRun,
  readProductionRun,
  readRunArtifacts,
  type RunArtifacts,
  type RunCurves,
  type StoredSweepPoint,
  type TrialRow,
} from "./run_artifacts.ts";
export {
  featureLabel,
  type HyperparameterEffect,
  hyperparameterEffects,
  importanceByAttribute,
  METRIC_LABELS,
} from "./model_report.ts";
