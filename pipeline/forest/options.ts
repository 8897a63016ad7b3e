/**
 * Options of the tree and the forest: types, defaults and validation. Options are plain data so
 * they can be logged as run params and embedded in a saved model unchanged.
 * @module
 */

/** Impurity measure used to choose splits. */
export type Criterion = "gini" | "entropy";

/** How split thresholds are searched: pre-binned histograms (≤ `maxBins` codes) or sorted values. */
export type SplitterKind = "histogram" | "exact";

/**
 * Features tried per split: `"sqrt"`, `"log2"`, a fraction in (0, 1] of the features, or an
 * integer count ≥ 2. `1` means all features (a fraction), since JavaScript cannot tell 1 from 1.0.
 */
export type MaxFeatures = "sqrt" | "log2" | number;

/** Options that shape one CART tree. */
export interface TreeOptions {
  /** Impurity measure. */
  criterion: Criterion;
  /** Deepest level a node may sit at (root = 0); `null` grows until pure or limited otherwise. */
  maxDepth: number | null;
  /** A node with fewer distinct samples is not split. */
  minSamplesSplit: number;
  /** Each child must keep at least this many distinct samples. */
  minSamplesLeaf: number;
  /** Features tried per split. */
  maxFeatures: MaxFeatures;
  /** A split must lower the weighted impurity by at least this much (scikit-learn's formula). */
  minImpurityDecrease: number;
  /** Split search strategy. */
  splitter: SplitterKind;
  /** Most bins per feature in histogram mode (2–255). */
  maxBins: number;
}

/** Options of a single decision tree fitted on its own. */
export interface DecisionTreeOptions extends TreeOptions {
  /** Seed of the feature draws. */
  seed: number;
}

/** Options of {@link BalancedRandomForest}. */
export interface ForestOptions extends TreeOptions {
  /** Number of trees. */
  nEstimators: number;
  /** Per-tree class-balanced under-sampling (`false` gives a plain random forest). */
  balanced: boolean;
  /** Desired minority/majority ratio after under-sampling, in (0, 1]. */
  samplingStrategy: number;
  /** Under-sample the majority with replacement (imbalanced-learn's `replacement`). */
  replacement: boolean;
  /** Bootstrap the (under-sampled) rows before growing each tree. */
  bootstrap: boolean;
  /** Seed; equal seed and data give a byte-identical model. */
  seed: number;
  /** Web Workers used by `fitAsync` (1 = in this thread). */
  nJobs: number;
}

/** Defaults of a lone tree: scikit-learn's DecisionTreeClassifier defaults, histogram splitter. */
export const DEFAULT_TREE_OPTIONS: Readonly<DecisionTreeOptions> = Object.freeze({
  criterion: "gini",
  maxDepth: null,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  maxFeatures: 1,
  minImpurityDecrease: 0,
  splitter: "histogram",
  maxBins: 255,
  seed: 0,
});

/**
 * Forest defaults, chosen on German Credit by repeated stratified 10-fold CV (fold seeds apart
 * from the benchmark's), comparing each change against the same folds (mean ΔAUC ± its se):
 * - maxDepth 8: the shallowest depth that matches unlimited depth (10 × 10 folds: unlimited .7994,
 *   10 .7994, 9 .7987, 8 .7995, 7 .7969 (−.0024 ± .0012), 6 .7948); it halves the nodes
 *   (286 → 134 a tree), the model size and the prediction time.
 * - splitter "histogram": AUC as exact (−.0008 ± .0007), fit ~4× faster (≈40 vs ≈165 ms).
 * - criterion "gini", maxFeatures "sqrt", minSamplesLeaf 1: entropy +.0004 ± .0014, log2
 *   +.0011 ± .0015, 0.2 −.0007 (noise); minSamplesLeaf 2/3/5/8: −.0002/−.0005/−.0026/−.0081.
 * - replacement false, bootstrap true, samplingStrategy 1 (imbalanced-learn's classic BRF); all
 *   alternatives are within noise: no bootstrap −.0021 ± .0015, replacement true without
 *   bootstrap +.0006 ± .0014 (both at depth 8), replacement true +.0011 ± .0017, ratio 0.8 −.0002.
 * - nEstimators 300: 100 trees −.0022 ± .0013.
 */
export const DEFAULT_FOREST_OPTIONS: Readonly<ForestOptions> = Object.freeze({
  criterion: "gini",
  maxDepth: 8,
  minSamplesSplit: 2,
  minSamplesLeaf: 1,
  maxFeatures: "sqrt",
  minImpurityDecrease: 0,
  splitter: "histogram",
  maxBins: 255,
  nEstimators: 300,
  balanced: true,
  samplingStrategy: 1,
  replacement: false,
  bootstrap: true,
  seed: 0,
  nJobs: 1,
});

/** Validates tree options over the lone-tree defaults; unknown keys and bad values throw. */
export function validateTreeOptions(options: Partial<DecisionTreeOptions> = {}): DecisionTreeOptions {
  const merged = mergeKnown(DEFAULT_TREE_OPTIONS, options);
  checkTreeOptions(merged);
  checkSeed(merged.seed);
  return merged;
}

/** Validates forest options over the forest defaults; unknown keys and bad values throw. */
export function validateForestOptions(options: Partial<ForestOptions> = {}): ForestOptions {
  const merged = mergeKnown(DEFAULT_FOREST_OPTIONS, options);
  checkTreeOptions(merged);
  checkSeed(merged.seed);
  checkInteger("nEstimators", merged.nEstimators, 1);
  checkBoolean("balanced", merged.balanced);
  checkBoolean("replacement", merged.replacement);
  checkBoolean("bootstrap", merged.bootstrap);
  checkNumber("samplingStrategy", merged.samplingStrategy);
  if (!(merged.samplingStrategy > 0 && merged.samplingStrategy <= 1)) {
    throw new RangeError(`samplingStrategy must be in (0, 1], got ${merged.samplingStrategy}`);
  }
  checkInteger("nJobs", merged.nJobs, 1);
  return merged;
}

/** Number of features tried per split for `nFeatures` columns. */
export function resolveMaxFeatures(maxFeatures: MaxFeatures, nFeatures: number): number {
  if (maxFeatures === "sqrt") return Math.max(1, Math.floor(Math.sqrt(nFeatures)));
  if (maxFeatures === "log2") return Math.max(1, Math.floor(Math.log2(nFeatures)));
  if (maxFeatures <= 1) return Math.max(1, Math.floor(maxFeatures * nFeatures));
  if (maxFeatures > nFeatures) {
    throw new RangeError(`maxFeatures must be ≤ the number of features (${nFeatures}), got ${maxFeatures}`);
  }
  return maxFeatures;
}

function mergeKnown<T extends object>(defaults: Readonly<T>, options: Partial<T>): T {
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new TypeError(`options must be a plain object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(defaults, key)) {
      throw new TypeError(`unknown option ${key}; known options: ${Object.keys(defaults).join(", ")}`);
    }
  }
  const merged = { ...defaults } as T;
  for (const [key, value] of Object.entries(options)) {
    // An explicit undefined means "use the default", as with omitted keys.
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

function checkTreeOptions(o: TreeOptions): void {
  if (o.criterion !== "gini" && o.criterion !== "entropy") {
    throw new TypeError(`criterion must be "gini" or "entropy", got ${describe(o.criterion)}`);
  }
  if (o.maxDepth !== null) checkInteger("maxDepth", o.maxDepth, 1);
  checkInteger("minSamplesSplit", o.minSamplesSplit, 2);
  checkInteger("minSamplesLeaf", o.minSamplesLeaf, 1);
  const mf = o.maxFeatures;
  if (mf !== "sqrt" && mf !== "log2") {
    if (typeof mf !== "number" || !Number.isFinite(mf) || mf <= 0 || (mf > 1 && !Number.isInteger(mf))) {
      throw new RangeError(
        `maxFeatures must be "sqrt", "log2", a fraction in (0, 1] or an integer ≥ 2, got ${describe(mf)}`,
      );
    }
  }
  checkNumber("minImpurityDecrease", o.minImpurityDecrease);
  if (o.minImpurityDecrease < 0) {
    throw new RangeError(`minImpurityDecrease must be ≥ 0, got ${o.minImpurityDecrease}`);
  }
  if (o.splitter !== "histogram" && o.splitter !== "exact") {
    throw new TypeError(`splitter must be "histogram" or "exact", got ${describe(o.splitter)}`);
  }
  checkInteger("maxBins", o.maxBins, 2, 255);
}

function checkSeed(seed: number): void {
  checkInteger("seed", seed, 0, 0xffffffff);
}

function checkNumber(name: string, value: unknown): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number, got ${describe(value)}`);
  }
}

function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`;
    throw new RangeError(`${name} must be an integer ${range}, got ${describe(value)}`);
  }
}

function checkBoolean(name: string, value: unknown): void {
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
