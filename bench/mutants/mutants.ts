/**
 * The curated mutants of `deno task mutants`: small, realistic bugs a reviewer could let through,
 * one per entry. Each names its file, the exact original snippet (which must occur exactly once), its
 * replacement, why it is plausible, and the test files that ought to catch it (the fast unit tests of
 * its area, so a mutant costs seconds, not minutes).
 * @module
 */

/** One mutant. */
export interface Mutant {
  /** Short stable id, `area/what`. */
  id: string;
  /** Path from the repository root. */
  file: string;
  /** The exact original text; it must occur exactly once in `file`. */
  original: string;
  /** What replaces it. */
  replacement: string;
  /** One line: why a reviewer would find this bug plausible. */
  why: string;
  /** Test files (from the repository root) run against the mutant. */
  tests: string[];
}

const FOREST = [
  "tests/forest/splitter_test.ts",
  "tests/forest/sampler_test.ts",
  "tests/forest/importance_test.ts",
  "tests/forest/forest_test.ts",
];
const METRICS = ["tests/model/metrics_test.ts", "tests/model/thresholds_test.ts", "tests/model/ks_test.ts"];
const CALIBRATION = ["tests/model/platt_test.ts", "tests/model/calibration_test.ts"];
const OBJECTIVE = ["tests/model/objective_test.ts", "tests/tracking/promotion_test.ts"];
const TRACKING = [
  "tests/tracking/run_test.ts",
  "tests/tracking/promotion_test.ts",
  "tests/tracking/atomic_test.ts",
];
const DATA = [
  "tests/data/etl_lines_test.ts",
  "tests/data/etl_test.ts",
  "tests/data/split_test.ts",
  "tests/data/split_counts_test.ts",
];
const SCHEMA = [
  "tests/data/schema_test.ts",
  "tests/data/documented_schema_test.ts",
  "tests/serving/errors_test.ts",
  "tests/serving/openapi_test.ts",
];
const SERVING = [
  "tests/serving/errors_test.ts",
  "tests/serving/auth_test.ts",
  "tests/serving/decision_test.ts",
  "tests/serving/limits_test.ts",
  "tests/serving/serve_test.ts",
];
const MONITORING = [
  "tests/monitoring/fairness_test.ts",
  "tests/monitoring/fairness_groups_test.ts",
  "tests/monitoring/drift_test.ts",
];
const SCORECARD = ["tests/model/scorecard_test.ts"];
const FEATURES = ["tests/features/encoder_test.ts"];

/** The first batch, by area, written before any run. */
const FIRST_BATCH: readonly Mutant[] = [
  // -- forest -------------------------------------------------------------------------------------
  {
    id: "forest/histogram-leaf-size-bound",
    file: "pipeline/forest/splitter.ts",
    original: "if (n - nLeft < minLeaf) break;",
    replacement: "if (n - nLeft <= minLeaf) break;",
    why: "off-by-one on the right child's minimum size: 3|1 splits become impossible (issue 21)",
    tests: FOREST,
  },
  {
    id: "forest/exact-leaf-size-bound",
    file: "pipeline/forest/splitter.ts",
    original: "if (c !== prevCode && i >= minLeaf) {",
    replacement: "if (c !== prevCode && i > minLeaf) {",
    why: "off-by-one on the left child's minimum size in the exact splitter",
    tests: FOREST,
  },
  {
    id: "forest/threshold-at-left-value",
    file: "pipeline/forest/splitter.ts",
    original: "const t = below / 2 + above / 2;",
    replacement: "const t = below;",
    why: "threshold at the last value going left instead of the midpoint, as some libraries do",
    tests: FOREST,
  },
  {
    id: "forest/partition-strict",
    file: "pipeline/forest/splitter.ts",
    original: "if (codes[base + samples[i]] <= leftCode) i++;",
    replacement: "if (codes[base + samples[i]] < leftCode) i++;",
    why: "partition sends the boundary code right while the threshold sends it left",
    tests: FOREST,
  },
  {
    id: "forest/gini-proxy-copy-paste",
    file: "pipeline/forest/criterion.ts",
    original: "(l0 * l0 + l1 * l1) / wl + (r0 * r0 + r1 * r1) / wr;",
    replacement: "(l0 * l0 + l1 * l1) / wl + (r0 * r0 + r1 * r1) / wl;",
    why: "copy-pasted left weight in the right child's term",
    tests: FOREST,
  },
  {
    id: "forest/entropy-in-nats",
    file: "pipeline/forest/criterion.ts",
    original: "if (p0 > 0) h -= p0 * Math.log2(p0);",
    replacement: "if (p0 > 0) h -= p0 * Math.log(p0);",
    why: "natural log in one of the two entropy terms (bits and nats mixed)",
    tests: FOREST,
  },
  {
    id: "forest/improvement-by-count",
    file: "pipeline/forest/builder.ts",
    original: "const improvement = (nodeWeight / totalWeight) *",
    replacement: "const improvement = (n / totalWeight) *",
    why: "row count where the weighted count belongs (they agree without weights)",
    tests: FOREST,
  },
  {
    id: "forest/stop-at-twice-min-leaf",
    file: "pipeline/forest/builder.ts",
    original: "n < 2 * minSamplesLeaf",
    replacement: "n <= 2 * minSamplesLeaf",
    why: "off-by-one in the early stop: a node of exactly two minimum leaves is never split",
    tests: FOREST,
  },
  {
    id: "forest/undersample-inverted-ratio",
    file: "pipeline/forest/sampler.ts",
    original: "const target = Math.floor(classes.minority.length / samplingStrategy);",
    replacement: "const target = Math.floor(classes.minority.length * samplingStrategy);",
    why: "ratio read the wrong way round (minority/majority vs majority/minority)",
    tests: FOREST,
  },
  {
    id: "forest/fisher-yates-full-range",
    file: "pipeline/forest/sampler.ts",
    original: "const j = i + rng.int(pool.length - i);",
    replacement: "const j = rng.int(pool.length);",
    why: "the classic partial Fisher–Yates slip: draws repeat rows although replacement is off",
    tests: FOREST,
  },
  {
    id: "forest/minority-tie",
    file: "pipeline/forest/sampler.ts",
    original: "const minorityLabel = positives <= y.length - positives ? 1 : 0;",
    replacement: "const minorityLabel = positives < y.length - positives ? 1 : 0;",
    why: "a tie of class counts makes label 0 the minority",
    tests: FOREST,
  },
  // -- metrics ------------------------------------------------------------------------------------
  {
    id: "metrics/auc-rank-off-by-one",
    file: "pipeline/stats.ts",
    original: "const averageRank = (start + 1 + end) / 2;",
    replacement: "const averageRank = (start + end) / 2;",
    why: "0-based ranks in the Mann–Whitney statistic",
    tests: [...METRICS, "tests/forest/forest_test.ts"],
  },
  {
    id: "metrics/predict-bad-strictly-above",
    file: "pipeline/model/metrics.ts",
    original: "const predictedBad = scores[i] >= threshold;",
    replacement: "const predictedBad = scores[i] > threshold;",
    why: "strict comparison at the threshold, unlike the serving decision",
    tests: METRICS,
  },
  {
    id: "metrics/cost-matrix-swapped",
    file: "pipeline/model/metrics.ts",
    original: "(costs.falseNegative * cm.fn + costs.falsePositive * cm.fp)",
    replacement: "(costs.falseNegative * cm.fp + costs.falsePositive * cm.fn)",
    why: "the two errors' costs swapped",
    tests: METRICS,
  },
  {
    id: "metrics/cost-tie-last-run",
    file: "pipeline/model/metrics.ts",
    original: "if (bestStart < 0 || j - i > bestEnd - bestStart) [bestStart, bestEnd] = [i, j];",
    replacement: "if (bestStart < 0 || j - i >= bestEnd - bestStart) [bestStart, bestEnd] = [i, j];",
    why: "equal-length tied runs resolved to the last instead of the first",
    tests: METRICS,
  },
  {
    id: "metrics/average-precision-previous-point",
    file: "pipeline/model/metrics.ts",
    original: "area += (points[i].recall - points[i - 1].recall) * points[i].precision;",
    replacement: "area += (points[i].recall - points[i - 1].recall) * points[i - 1].precision;",
    why: "left Riemann sum instead of scikit-learn's step at the new point",
    tests: METRICS,
  },
  {
    id: "metrics/f-beta-weights-swapped",
    file: "pipeline/model/metrics.ts",
    original: "return ratio((1 + b2) * precision * recall, b2 * precision + recall);",
    replacement: "return ratio((1 + b2) * precision * recall, precision + b2 * recall);",
    why: "β² on the wrong term of the F-beta denominator",
    tests: METRICS,
  },
  // -- calibration and objective ------------------------------------------------------------------
  {
    id: "calibration/no-target-smoothing",
    file: "pipeline/model/calibration.ts",
    original: "const hi = (positives + 1) / (positives + 2);\n    const lo = 1 / (n - positives + 2);",
    replacement: "const hi = 1;\n    const lo = 0;",
    why: "plain 0/1 targets: the slope diverges on separable data (issue 21)",
    tests: CALIBRATION,
  },
  {
    id: "calibration/low-target-wrong-count",
    file: "pipeline/model/calibration.ts",
    original: "const lo = 1 / (n - positives + 2);",
    replacement: "const lo = 1 / (positives + 2);",
    why: "the negatives' target computed from the positives' count",
    tests: CALIBRATION,
  },
  {
    id: "calibration/reliability-bin",
    file: "pipeline/model/calibration.ts",
    original: "const b = Math.min(bins - 1, Math.floor(scores[i] * bins));",
    replacement: "const b = Math.floor(scores[i] * (bins - 1));",
    why: "bin index scaled by bins − 1 to avoid the overflow at 1.0",
    tests: CALIBRATION,
  },
  {
    id: "objective/pd-cut-inverted",
    file: "pipeline/model/objective.ts",
    original: "const pdCut = falsePositive / (falsePositive + falseNegative);",
    replacement: "const pdCut = falseNegative / (falsePositive + falseNegative);",
    why: "the Bayes cut 1/6 written as 5/6",
    tests: OBJECTIVE,
  },
  {
    id: "objective/logit-cut-sign",
    file: "pipeline/model/objective.ts",
    original: "const logitCut = (Math.log(pdCut / (1 - pdCut)) - calibrator.b) / calibrator.a;",
    replacement: "const logitCut = (Math.log(pdCut / (1 - pdCut)) + calibrator.b) / calibrator.a;",
    why: "sign slip inverting a·x + b",
    tests: OBJECTIVE,
  },
  {
    id: "objective/recall-minimised",
    file: "pipeline/model/objective.ts",
    original: 'return objective === "cost" ? "minimize" : "maximize";',
    replacement: 'return objective === "auc" ? "maximize" : "minimize";',
    why: "direction keyed on the wrong objective: recall is minimised",
    tests: OBJECTIVE,
  },
  // -- tracking -----------------------------------------------------------------------------------
  {
    id: "tracking/promotion-inverted-for-maximise",
    file: "pipeline/tracking/registry.ts",
    original: ": entry.objective_value >= champion.objective_value;",
    replacement: ": entry.objective_value <= champion.objective_value;",
    why: "copy-pasted comparison: a worse AUC or recall replaces the champion (issue 21)",
    tests: TRACKING,
  },
  {
    id: "tracking/promotion-tie-refused",
    file: "pipeline/tracking/registry.ts",
    original: "? entry.objective_value <= champion.objective_value",
    replacement: "? entry.objective_value < champion.objective_value",
    why: "'better' instead of the documented 'not worse'",
    tests: TRACKING,
  },
  {
    id: "tracking/champion-not-archived",
    file: "pipeline/tracking/registry.ts",
    original: 'if (m.stage !== "production") continue;\n        m.stage = "archived";',
    replacement: 'if (m.stage !== "production") continue;',
    why: "promotion forgets to archive the old champion: two production models",
    tests: TRACKING,
  },
  {
    id: "tracking/atomic-in-place",
    file: "pipeline/tracking/atomic.ts",
    original: "await fs.write(tmp, data);\n    await fs.syncFile(tmp);\n    await fs.rename(tmp, path);",
    replacement: "await fs.write(path, data);",
    why: "a 'simplification' to an in-place write (issue 21)",
    tests: TRACKING,
  },
  {
    id: "tracking/atomic-temp-left",
    file: "pipeline/tracking/atomic.ts",
    original: "await fs.remove(tmp).catch(() => {});",
    replacement: "",
    why: "the failure path forgets its temporary file",
    tests: TRACKING,
  },
  {
    id: "tracking/atomic-no-fsync",
    file: "pipeline/tracking/atomic.ts",
    original: "    await fs.syncFile(tmp);\n",
    replacement: "",
    why: "the rename can reach the disk before the data: an empty registry.json after a power cut (issue 17)",
    tests: TRACKING,
  },
  // -- ETL and splits -----------------------------------------------------------------------------
  {
    id: "etl/class-label-inverted",
    file: "pipeline/data/etl.ts",
    original: 'typed.push(value.eq(pl.lit("2")).cast(pl.Int8).alias("bad"));',
    replacement: 'typed.push(value.eq(pl.lit("1")).cast(pl.Int8).alias("bad"));',
    why: "the codebook's 1 = good, 2 = bad read the other way",
    tests: DATA,
  },
  {
    id: "etl/one-trailing-blank-line",
    file: "pipeline/data/etl.ts",
    original: 'while (lines.length && lines[lines.length - 1].text === "") lines.pop();',
    replacement: 'if (lines.length && lines[lines.length - 1].text === "") lines.pop();',
    why: "only one trailing blank line dropped",
    tests: DATA,
  },
  {
    id: "etl/range-upper-bound-open",
    file: "pipeline/data/etl.ts",
    original: "number.lt(a.min).or(number.gt(a.max)),",
    replacement: "number.lt(a.min).or(number.gtEq(a.max)),",
    why: "the accepted maximum itself refused by the ETL while the API accepts it",
    tests: DATA,
  },
  {
    id: "split/test-size-rounded",
    file: "pipeline/data/split.ts",
    original: "const nTest = Math.ceil(testSize * n);",
    replacement: "const nTest = Math.round(testSize * n);",
    why: "round instead of scikit-learn's ceil",
    tests: DATA,
  },
  // -- schema -------------------------------------------------------------------------------------
  {
    id: "schema/age-minimum-zero",
    file: "pipeline/data/attributes.ts",
    original: 'description: { en: "Age in years.", es: "Edad en años." },\n    min: 18,',
    replacement: 'description: { en: "Age in years.", es: "Edad en años." },\n    min: 0,',
    why: "the accepted age range widened by accident (issue 21's weak oracle)",
    tests: SCHEMA,
  },
  {
    id: "schema/range-excludes-minimum",
    file: "pipeline/data/schema.ts",
    original: "if (value < a.min || value > a.max)",
    replacement: "if (value <= a.min || value > a.max)",
    why: "off-by-one at the range's lower end",
    tests: SCHEMA,
  },
  {
    id: "schema/whole-number-check-dropped",
    file: "pipeline/data/schema.ts",
    original: "if (!Number.isInteger(value)) return `expected a whole number, got ${value}`;",
    replacement: "",
    why: "2.5 months accepted",
    tests: SCHEMA,
  },
  {
    id: "schema/zod-int-dropped",
    file: "pipeline/data/schema.ts",
    original: "return z.number().int().min(a.min).max(a.max)",
    replacement: "return z.number().min(a.min).max(a.max)",
    why: "the OpenAPI schema loses .int() and lets non-whole numbers through the API",
    tests: [...SCHEMA, "tests/serving/serve_test.ts"],
  },
  // -- serving ------------------------------------------------------------------------------------
  {
    id: "serving/422-message-unnamed",
    file: "pipeline/serving/errors.ts",
    original:
      'message ?? `${issues.length} problem${issues.length === 1 ? "" : "s"} with ${fields.join(", ")}`,',
    replacement: 'message ?? `${issues.length} problem${issues.length === 1 ? "" : "s"} in the request`,',
    why: "the summary stops naming the fields (issue 21)",
    tests: SERVING,
  },
  {
    id: "serving/token-compare-last-byte",
    file: "pipeline/serving/auth.ts",
    original: "for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];",
    replacement: "for (let i = 0; i < x.length; i++) diff = x[i] ^ y[i];",
    why: "= for |=: only the digests' last byte is compared",
    tests: SERVING,
  },
  {
    id: "serving/review-margin-one-sided",
    file: "pipeline/model/decision.ts",
    original: 'if (reviewMargin > 0 && Math.abs(probability - threshold) < reviewMargin) return "review";',
    replacement: 'if (reviewMargin > 0 && probability - threshold < reviewMargin) return "review";',
    why: "missing Math.abs: every approval becomes a review",
    tests: SERVING,
  },
  {
    id: "serving/decline-strictly-above",
    file: "pipeline/model/decision.ts",
    original: 'return probability >= threshold ? "decline" : "approve";',
    replacement: 'return probability > threshold ? "decline" : "approve";',
    why: "strict comparison at the threshold, unlike the metrics",
    tests: SERVING,
  },
  {
    id: "serving/score-calibrated-twice",
    file: "pipeline/serving/prediction.ts",
    original: "score: Math.round(serving.model.score(probability)),",
    replacement: "score: Math.round(serving.model.score(serving.model.pd(probability))),",
    why: "the score computed from the PD, which score() calibrates again",
    tests: SERVING,
  },
  {
    id: "serving/body-limit-inclusive",
    file: "pipeline/serving/body.ts",
    original: "if (declared > limit) throw tooLarge(limit);",
    replacement: "if (declared >= limit) throw tooLarge(limit);",
    why: "a body of exactly the limit refused",
    tests: SERVING,
  },
  {
    id: "serving/csv-formula-minus",
    file: "pipeline/data/csv.ts",
    original: "return quote(/^[=+\\-@\\t\\r]/.test(value) ? `'${value}` : value);",
    replacement: "return quote(/^[=+@\\t\\r]/.test(value) ? `'${value}` : value);",
    why: "'-' left out of the formula characters (it looks like a number sign)",
    tests: ["tests/data/csv_test.ts", "tests/serving/serve_test.ts"],
  },
  // -- drift and fairness monitoring --------------------------------------------------------------
  {
    id: "drift/psi-as-kl",
    file: "pipeline/monitoring/psi.ts",
    original: "sum += (a - e) * Math.log(a / e);",
    replacement: "sum += a * Math.log(a / e);",
    why: "one-sided KL divergence written for the symmetric PSI",
    tests: MONITORING,
  },
  {
    id: "drift/band-boundary",
    file: "pipeline/monitoring/psi.ts",
    original: 'return psi < PSI_LIMITS.watch ? "stable" : psi <= PSI_LIMITS.act ? "watch" : "act";',
    replacement: 'return psi < PSI_LIMITS.watch ? "stable" : psi < PSI_LIMITS.act ? "watch" : "act";',
    why: "0.25 itself classed 'act' though documented as 'watch'",
    tests: MONITORING,
  },
  {
    id: "drift/bin-half-open-the-other-way",
    file: "pipeline/stats.ts",
    original: "if (edges[mid] < value) lo = mid + 1;",
    replacement: "if (edges[mid] <= value) lo = mid + 1;",
    why: "bins [a, b) instead of the documented (a, b]",
    tests: MONITORING,
  },
  {
    id: "drift/quantile-edge-rank",
    file: "pipeline/stats.ts",
    original: "const edge = sorted[Math.max(0, Math.ceil((q / bins) * sorted.length) - 1)];",
    replacement: "const edge = sorted[Math.min(sorted.length - 1, Math.floor((q / bins) * sorted.length))];",
    why: "floor instead of the nearest-rank ceil − 1",
    tests: MONITORING,
  },
  {
    id: "drift/window-span-oldest",
    file: "pipeline/serving/drift_window.ts",
    original: "const oldest = this.#size < this.capacity ? 0 : this.#next;",
    replacement: "const oldest = 0;",
    why: "the ring buffer's oldest slot taken as slot 0 after it wrapped",
    tests: MONITORING,
  },
  {
    id: "drift/publish-without-k-new",
    file: "pipeline/serving/routes/monitoring.ts",
    original: "if (fresh < this.options.minBin) return;",
    replacement: "",
    why: "every period republishes, so one decision can be read off the diff (issue 17)",
    tests: ["tests/serving/monitoring_test.ts"],
  },
  {
    id: "drift/bins-published-below-k",
    file: "pipeline/serving/routes/monitoring.ts",
    original: "const suppressed = drift.bins.some((b) => b.count < minBin);",
    replacement: "const suppressed = drift.bins.every((b) => b.count < minBin);",
    why: "an attribute with one rare bin still published (issue 17)",
    tests: ["tests/serving/monitoring_test.ts"],
  },
  {
    id: "fairness/under-25-inclusive",
    file: "pipeline/monitoring/fairness.ts",
    original: 'isProtected: (a: Pick<Applicant, "age">) => a.age < 25,',
    replacement: 'isProtected: (a: Pick<Applicant, "age">) => a.age <= 25,',
    why: "'under 25' read as 'up to 25'",
    tests: MONITORING,
  },
  {
    id: "fairness/disparate-impact-inverted",
    file: "pipeline/monitoring/fairness.ts",
    original: ": protectedOutcome.approval_rate / referenceOutcome.approval_rate;",
    replacement: ": referenceOutcome.approval_rate / protectedOutcome.approval_rate;",
    why: "the four-fifths ratio taken the wrong way round",
    tests: MONITORING,
  },
  // -- scorecard ----------------------------------------------------------------------------------
  {
    id: "scorecard/odds-inverted",
    file: "pipeline/model/scorecard.ts",
    original: "return offset + factor * Math.log((1 - p) / p);",
    replacement: "return offset + factor * Math.log(p / (1 - p));",
    why: "bad:good odds where good:bad belongs: a higher score means riskier",
    tests: SCORECARD,
  },
  {
    id: "scorecard/offset-sign",
    file: "pipeline/model/scorecard.ts",
    original: "const offset = scale.points - factor * Math.log(scale.odds);\n  return offset",
    replacement: "const offset = scale.points + factor * Math.log(scale.odds);\n  return offset",
    why: "sign slip in the offset of the points formula",
    tests: SCORECARD,
  },
  {
    id: "scorecard/zero-pdo-accepted",
    file: "pipeline/model/scorecard.ts",
    original: "if (!(scale.pdo > 0)) throw",
    replacement: "if (scale.pdo < 0) throw",
    why: "the positivity check written as 'not negative', letting pdo = 0 through",
    tests: SCORECARD,
  },
  // -- features -----------------------------------------------------------------------------------
  {
    id: "features/age-band-bound",
    file: "pipeline/features/engineered.ts",
    original: "record: (a) => AGE_BAND_BOUNDS.reduce((band, bound) => band + (a.age >= bound ? 1 : 0), 0),",
    replacement: "record: (a) => AGE_BAND_BOUNDS.reduce((band, bound) => band + (a.age > bound ? 1 : 0), 0),",
    why: "the record path's band boundary drifts from the table path's",
    tests: FEATURES,
  },
];

/**
 * The second batch, written after the first run's ten survivors had been killed and run once as they
 * stand, so that the score says something about bugs the tests were not written against.
 */
const SECOND_BATCH: readonly Mutant[] = [
  {
    id: "forest/leaf-value-by-count",
    file: "pipeline/forest/builder.ts",
    original: "value[id] = node1 / nodeWeight;",
    replacement: "value[id] = node1 / n;",
    why: "P(bad) at a node as bad weight over the row count (they agree without weights and bootstrap)",
    tests: FOREST,
  },
  {
    id: "forest/importance-without-children",
    file: "pipeline/forest/importance.ts",
    original: "perTree[tree.feature[i]] += w[i] * imp[i] - w[l] * imp[l] - w[r] * imp[r];",
    replacement: "perTree[tree.feature[i]] += w[i] * imp[i];",
    why: "importance as the node's weighted impurity, forgetting to subtract the children's",
    tests: FOREST,
  },
  {
    id: "metrics/ks-absolute",
    file: "pipeline/model/metrics.ts",
    original: "best = Math.max(best, point.tpr - point.fpr);",
    replacement: "best = Math.max(best, Math.abs(point.tpr - point.fpr));",
    why: "the KS distance taken in absolute value, so an inverted score looks good",
    tests: METRICS,
  },
  {
    id: "metrics/balanced-accuracy-precision",
    file: "pipeline/model/metrics.ts",
    original: "balanced_accuracy: (recall + specificity) / 2,",
    replacement: "balanced_accuracy: (recall + precision) / 2,",
    why: "precision where specificity belongs",
    tests: METRICS,
  },
  {
    id: "calibration/transform-without-logit",
    file: "pipeline/model/calibration.ts",
    original: "return 1 / (1 + Math.exp(-(this.a * logit(score) + this.b)));",
    replacement: "return 1 / (1 + Math.exp(-(this.a * score + this.b)));",
    why: "the transform forgets the logit that the fit used",
    tests: CALIBRATION,
  },
  {
    id: "tracking/corrupt-registry-as-empty",
    file: "pipeline/tracking/registry.ts",
    original:
      "if (error instanceof Deno.errors.NotFound) return { format_version: 1, models: [], history: [] };",
    replacement: "return { format_version: 1, models: [], history: [] };",
    why: "every read error taken for 'no registry yet', so a corrupt registry is silently replaced",
    tests: TRACKING,
  },
  {
    id: "tracking/stale-never",
    file: "pipeline/tracking/run_files.ts",
    original: "now - Date.parse(run.heartbeat_at ?? run.start_time) > STALE_AFTER_MS",
    replacement: "Date.parse(run.heartbeat_at ?? run.start_time) - now > STALE_AFTER_MS",
    why: "the heartbeat's age subtracted the wrong way round: no run ever looks killed",
    tests: TRACKING,
  },
  {
    id: "etl/field-count-too-many-accepted",
    file: "pipeline/data/etl.ts",
    original: "} else if (fields.length !== width) {",
    replacement: "} else if (fields.length < width) {",
    why: "only short lines reported; a line with an extra field is read",
    tests: DATA,
  },
  {
    id: "schema/missing-value-shown-as-undefined",
    file: "pipeline/data/schema.ts",
    original: 'if (value === undefined) return "nothing";',
    replacement: 'if (value === undefined) return "undefined";',
    why: "a JavaScript word leaks into a user-facing message",
    tests: SCHEMA,
  },
  {
    id: "serving/batch-row-zero-based",
    file: "pipeline/serving/batch.ts",
    original: "errors.push({ row: i + 1, ...(id === undefined ? {} : { id }), issues: checked.issues });",
    replacement: "errors.push({ row: i, ...(id === undefined ? {} : { id }), issues: checked.issues });",
    why: "JSON batch errors numbered from 0 while CSV rows count from 1",
    tests: SERVING,
  },
  {
    id: "serving/csv-line-is-row",
    file: "pipeline/serving/batch.ts",
    original: "errors.push({ row, line: row + 1, ...(id === undefined ? {} : { id }), issues });",
    replacement: "errors.push({ row, line: row, ...(id === undefined ? {} : { id }), issues });",
    why: "the header line forgotten in CSV line numbers",
    tests: SERVING,
  },
  {
    id: "drift/psi-no-floor-on-expected",
    file: "pipeline/monitoring/psi.ts",
    original: "const e = Math.max(expected[k], PSI_FLOOR);",
    replacement: "const e = expected[k];",
    why: "floor applied to the observed side only: a code never seen in training makes the PSI infinite",
    tests: MONITORING,
  },
  {
    id: "drift/worst-is-lowest",
    file: "pipeline/monitoring/psi.ts",
    original: "if (d.psi !== null && (worst === null || d.psi > worst.psi)) {",
    replacement: "if (d.psi !== null && (worst === null || d.psi < worst.psi)) {",
    why: "comparison flipped: the most stable attribute reported as the worst",
    tests: MONITORING,
  },
  {
    id: "drift/window-score-of-every-model",
    file: "pipeline/serving/drift_window.ts",
    original:
      "for (let r = 0; r < this.#size; r++) if (this.#models[r] === key) counter.addScore(this.#scores[r]);",
    replacement: "for (let r = 0; r < this.#size; r++) counter.addScore(this.#scores[r]);",
    why: "after a reload the score drift mixes the previous model's scores in",
    tests: MONITORING,
  },
  {
    id: "scorecard/inverse-sign",
    file: "pipeline/model/scorecard.ts",
    original: "return 1 / (1 + Math.exp((score - offset) / factor));",
    replacement: "return 1 / (1 + Math.exp((offset - score) / factor));",
    why: "the inverse of the score formula with the sign of the exponent flipped",
    tests: SCORECARD,
  },
  {
    id: "features/income-proxy-record-path",
    file: "pipeline/features/engineered.ts",
    original: "record: (a) => a.credit_amount / a.duration / a.installment_commitment,",
    replacement: "record: (a) => a.credit_amount / (a.duration / a.installment_commitment),",
    why: "operator precedence in the record path's copy of the formula",
    tests: FEATURES,
  },
  // -- hardening (issue 17) -------------------------------------------------------------------------
  {
    id: "guard/idle-counted-from-open",
    file: "pipeline/serving/client_guard.ts",
    original: "      this.inFlight = 0;\n      this.idleSince = performance.now();",
    replacement: "      this.inFlight = 0;",
    why:
      "the header deadline counted from the connection's opening: a keep-alive client is cut mid-conversation",
    tests: ["tests/e2e/client_guard_test.ts"],
  },
  {
    id: "guard/no-send-deadline",
    file: "pipeline/serving/client_guard.ts",
    original: 'if (now - connection.offeredSince > sendTimeoutMs) this.#close(connection, "send_timeout");',
    replacement: "// the send deadline is not enforced",
    why: "a client that stops reading a large answer holds its connection (and the answer's work) for good",
    tests: ["tests/e2e/client_guard_test.ts"],
  },
  {
    id: "guard/stalled-body-kept-open",
    file: "pipeline/serving/client_guard.ts",
    original: 'this.#close(this, "body_timeout");',
    replacement: "// a stalled body leaves its connection open",
    why: "a stalled upload is answered 408 but its connection stays open, a slot held for good",
    tests: ["tests/e2e/client_guard_test.ts"],
  },
  {
    id: "signature/version-unchecked",
    file: "pipeline/model/signature.ts",
    original: "if (statement.model_version !== null && statement.model_version !== actual.version) {",
    replacement: "if (false) {",
    why: "a signed artifact re-registered under another version would pass as that version",
    tests: ["tests/model/signature_test.ts", "tests/serving/model_holder_test.ts"],
  },
  {
    id: "signature/registry-hash-unchecked",
    file: "pipeline/serving/model_holder.ts",
    original: "if (target.entry && target.entry.sha256 !== statement.artifact_sha256) {",
    replacement: "if (false) {",
    why: "the registry and the signature disagreeing goes unreported",
    tests: ["tests/serving/model_holder_test.ts"],
  },
  // -- the yardstick of bench:ceiling ----------------------------------------------------------------
  {
    id: "ceiling/answer-before-commit",
    file: "bench/ceiling_server.ts",
    original: "await writer?.record({",
    replacement: "void writer?.record({",
    why: "the least server would answer before its row is committed: a ceiling no honest trail can reach",
    tests: ["tests/bench/ceiling_server_test.ts"],
  },
  // -- replicas: start order and the writers' lock ----------------------------------------------------
  {
    id: "replicas/listen-as-prepared",
    file: "pipeline/serving/replicas.ts",
    original: "    for (let i = 0; i < n && !stopping; i++) replicas.push(await start(i));\n" +
      "    if (stopping) return;\n" +
      "    port = Number(new URL(await listen(replicas[0], undefined)).port);\n" +
      "    await Promise.all(replicas.slice(1).map((r) => listen(r, port)));",
    replacement: "    replicas.push(await start(0));\n" +
      "    port = Number(new URL(await listen(replicas[0], undefined)).port);\n" +
      "    for (let i = 1; i < n && !stopping; i++) {\n" +
      "      replicas.push(await start(i));\n" +
      "      await listen(replicas[i], port);\n" +
      "    }",
    why:
      "the first replica would be alone on the port while the others load, and keep every connection made meanwhile",
    tests: ["tests/e2e/replicas_test.ts"],
  },
  {
    id: "writer-lock/writer-ignores-lock",
    file: "pipeline/serving/audit/worker.ts",
    original: "lock = data.lock ? new WriterLock(data.lock) : null;",
    replacement: "lock = null;",
    why:
      "the replicas' writers would meet in SQLite's busy handler again, whose sleeps made a p99 of a second",
    tests: ["tests/serving/audit_writer_lock_test.ts"],
  },
  {
    id: "writer-lock/no-exclusion",
    file: "pipeline/serving/audit/writer_lock.ts",
    original: "    if (state === FREE) return true;",
    replacement: "    if (state !== FREE || state === FREE) return true;",
    why: "two writers would hold the lock at once",
    tests: ["tests/serving/audit_writer_lock_test.ts"],
  },
];

/** Every mutant: the first batch, then the second. */
export const MUTANTS: readonly Mutant[] = [...FIRST_BATCH, ...SECOND_BATCH];
