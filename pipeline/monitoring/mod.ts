/**
 * Monitoring a model after training: how far served applicants have drifted from the training
 * data (PSI against the reference stored in the artifact) and how outcomes compare across groups.
 *
 * - reference.ts: the training distribution's format (a leaf: the artifact imports its type);
 * - psi.ts: the PSI, its bands, counting rows into a reference's bins, the report;
 * - model_reference.ts: a model's reference, stored or rebuilt from a data file;
 * - fairness.ts: outcomes by group;
 * - fairness_intervals.ts: the same figures with seeded percentile-bootstrap 95 % intervals.
 *
 * The server's rolling window lives with the server (`serving/drift_window.ts`), the command line
 * in `cli/drift.ts`. This package imports data/ (schema, etl), model/ (the `CreditModel` type) and
 * stats.ts only.
 * @module
 */

export {
  type Bins,
  buildReference,
  type CategoricalBins,
  type DriftReference,
  driftReferenceSchema,
  NUMERIC_BINS,
  type NumericBins,
} from "./reference.ts";
export {
  type BinDrift,
  type Drift,
  type DriftBand,
  DriftCounter,
  type DriftReport,
  formatDriftTable,
  psi,
  PSI_BAND_TEXT,
  PSI_FLOOR,
  PSI_LIMITS,
  psiBand,
} from "./psi.ts";
export { referenceFor, referenceFromData, storedReference } from "./model_reference.ts";
export {
  FAIRNESS_GROUPINGS,
  type FairnessComparison,
  fairnessReport,
  type GroupOutcome,
  groupOutcome,
} from "./fairness.ts";
export {
  DEFAULT_INTERVAL_OPTIONS,
  describeIntervalMethod,
  type FairnessInput,
  type FairnessIntervals,
  fairnessIntervals,
  fairnessIntervalsOfDecisions,
  type GroupFigures,
  type GroupingFigures,
  type Interval,
  type IntervalOptions,
} from "./fairness_intervals.ts";
