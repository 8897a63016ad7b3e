/**
 * Paired comparison of two models scored on identical resampling folds: per-fold differences, their
 * mean, and the corrected resampled-t standard error of Nadeau & Bengio (2003) for repeated k-fold,
 * with a Student-t interval. Pure functions, no I/O.
 *
 * Why the correction: the J = k × repeats fold estimates share most of their training rows, so they
 * are positively correlated and the naive SE `s / √J` is far too small. Nadeau & Bengio's corrected
 * variance of the mean is `(1/J + n_test/n_train) · s²`, with `s²` the sample variance (ddof 1) of
 * the J per-fold values. The naive SE is reported beside it only so a reader can see the difference.
 * @module
 */

import { UserError } from "../errors.ts";
import { meanAndSd } from "../stats.ts";

/** One fold's value of a metric, keyed by the fold's place in a repeated k-fold. */
export interface FoldValue {
  /** Zero-based repeat. */
  repeat: number;
  /** Zero-based fold within its repeat. */
  fold: number;
  value: number;
}

/** One fold of a paired comparison: both models' values and `a − b`. */
export interface PairedFold {
  repeat: number;
  fold: number;
  a: number;
  b: number;
  difference: number;
}

/** Mean, spread and uncertainty of J per-fold values, each figure named for what it is. */
export interface FoldSummary {
  /** J, the number of folds (k × repeats). */
  folds: number;
  mean: number;
  /** Standard deviation across folds (ddof 1): the spread of single folds, not an uncertainty of the mean. */
  sd: number;
  /** `sd / √J`: the standard error if folds were independent, which they are not (too small). */
  naive_se: number;
  /** Nadeau & Bengio's corrected SE of the mean: `√((1/J + n_test/n_train) · sd²)`. */
  corrected_se: number;
  /** The `n_test/n_train` ratio used in the correction. */
  test_train_ratio: number;
}

/** A paired comparison's summary: the mean difference with its corrected-t test and interval. */
export interface PairedSummary extends FoldSummary {
  /** Degrees of freedom of the t statistic, J − 1. */
  df: number;
  /** `mean / corrected_se` (±Infinity when the SE is 0 and the mean is not; 0 when both are 0). */
  t: number;
  /** Two-sided p-value of the corrected t (0 or 1 in the zero-variance case). */
  p_value: number;
  /** Confidence level of `interval`, e.g. 0.95. */
  confidence: number;
  /** `mean ± t_{(1+confidence)/2, J−1} · corrected_se`. */
  interval: [number, number];
}

/**
 * Pairs two models' per-fold values on identical folds and returns `a − b` per fold, in (repeat,
 * fold) order. Refuses, naming the problem: duplicated folds, folds present in one and not the
 * other, or non-finite values. `names` label the two sides in error messages.
 */
export function pairFolds(
  a: readonly FoldValue[],
  b: readonly FoldValue[],
  names: { a: string; b: string } = { a: "a", b: "b" },
): PairedFold[] {
  const left = indexFolds(a, names.a);
  const right = indexFolds(b, names.b);
  const onlyLeft = [...left.keys()].filter((k) => !right.has(k));
  const onlyRight = [...right.keys()].filter((k) => !left.has(k));
  if (onlyLeft.length || onlyRight.length) {
    const list = (keys: string[]) =>
      keys.length > 5 ? `${keys.slice(0, 5).join(", ")} and ${keys.length - 5} more` : keys.join(", ");
    const parts = [
      onlyLeft.length ? `${onlyLeft.length} fold(s) only in ${names.a} (${list(onlyLeft)})` : "",
      onlyRight.length ? `${onlyRight.length} fold(s) only in ${names.b} (${list(onlyRight)})` : "",
    ].filter(Boolean);
    throw new UserError(`${names.a} and ${names.b} are not scored on the same folds: ${parts.join("; ")}`);
  }
  return [...left.values()]
    .sort((x, y) => x.repeat - y.repeat || x.fold - y.fold)
    .map(({ repeat, fold, value }) => {
      const other = right.get(foldKey(repeat, fold))!.value;
      return { repeat, fold, a: value, b: other, difference: value - other };
    });
}

/**
 * Mean, SD, naive SE and corrected SE of J per-fold values of one model; `testTrainRatio` is
 * `n_test / n_train` of the folds (1/9 for 10-fold CV).
 */
export function summariseFolds(values: ArrayLike<number>, testTrainRatio: number): FoldSummary {
  const J = values.length;
  if (J < 2) throw new UserError(`a fold summary needs at least 2 folds, got ${J}`);
  for (let i = 0; i < J; i++) {
    if (!Number.isFinite(values[i])) {
      throw new UserError(`fold value ${i} is not a finite number: ${values[i]}`);
    }
  }
  if (!(Number.isFinite(testTrainRatio) && testTrainRatio > 0)) {
    throw new UserError(`n_test/n_train must be a positive finite number, got ${testTrainRatio}`);
  }
  const { mean, sd } = meanAndSd(values);
  return {
    folds: J,
    mean,
    sd,
    naive_se: sd / Math.sqrt(J),
    corrected_se: Math.sqrt((1 / J + testTrainRatio) * sd * sd),
    test_train_ratio: testTrainRatio,
  };
}

/**
 * The corrected resampled-t test of J paired per-fold differences (Nadeau & Bengio 2003): mean,
 * corrected SE, t with J − 1 degrees of freedom, two-sided p-value and a `confidence` interval.
 */
export function correctedResampledT(
  differences: ArrayLike<number>,
  testTrainRatio: number,
  confidence = 0.95,
): PairedSummary {
  if (!(confidence > 0 && confidence < 1)) {
    throw new UserError(`confidence must lie strictly between 0 and 1, got ${confidence}`);
  }
  const summary = summariseFolds(differences, testTrainRatio);
  const df = summary.folds - 1;
  const se = summary.corrected_se;
  if (se === 0) {
    // Every fold gave the same difference: no spread to test against, the interval is a point.
    const m = summary.mean;
    return {
      ...summary,
      df,
      t: m === 0 ? 0 : m > 0 ? Infinity : -Infinity,
      p_value: m === 0 ? 1 : 0,
      confidence,
      interval: [m, m],
    };
  }
  const t = summary.mean / se;
  const half = studentTQuantile((1 + confidence) / 2, df) * se;
  return {
    ...summary,
    df,
    t,
    p_value: 2 * studentTUpperTail(Math.abs(t), df),
    confidence,
    interval: [summary.mean - half, summary.mean + half],
  };
}

/** `n_test / n_train` averaged over folds: `mean(n_test) / mean(n_train)`. */
export function testTrainRatio(folds: readonly { n_test: number; n_train: number }[]): number {
  if (folds.length === 0) throw new UserError("no folds to take n_test/n_train from");
  let test = 0, train = 0;
  for (const f of folds) {
    if (!(f.n_test > 0 && f.n_train > 0)) {
      throw new UserError(`fold sizes must be positive, got n_test ${f.n_test}, n_train ${f.n_train}`);
    }
    test += f.n_test;
    train += f.n_train;
  }
  return test / train;
}

/** Student-t cumulative distribution function with `df` (> 0, not necessarily whole) degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  requireDf(df);
  if (Number.isNaN(t)) return Number.NaN;
  return t >= 0 ? 1 - studentTUpperTail(t, df) : studentTUpperTail(-t, df);
}

/**
 * The Student-t quantile: the `t` with `P(T ≤ t) = p` for `df` degrees of freedom. Newton steps on
 * the CDF (through the regularised incomplete beta function), kept inside a bisection bracket;
 * accurate to about 1e-12 relative.
 */
export function studentTQuantile(p: number, df: number): number {
  requireDf(df);
  if (!(p > 0 && p < 1)) throw new RangeError(`p must lie strictly between 0 and 1, got ${p}`);
  if (p === 0.5) return 0;
  // Symmetry: solve for the upper tail q = P(T > t) with t > 0.
  const q = p > 0.5 ? 1 - p : p;
  const sign = p > 0.5 ? 1 : -1;
  let lo = 0, hi = 1;
  while (studentTUpperTail(hi, df) > q) {
    lo = hi;
    hi *= 2;
    if (!Number.isFinite(hi)) return sign * Infinity;
  }
  let t = (lo + hi) / 2;
  for (let iteration = 0; iteration < 200; iteration++) {
    const f = studentTUpperTail(t, df) - q; // decreasing in t
    if (f > 0) lo = t;
    else hi = t;
    let next = t + f / studentTDensity(t, df);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-14 * Math.max(1, Math.abs(t))) return sign * next;
    t = next;
  }
  return sign * t;
}

/** P(T > t) for t ≥ 0: `½ · I_{df/(df+t²)}(df/2, ½)`. */
function studentTUpperTail(t: number, df: number): number {
  if (t === Infinity) return 0;
  const x = df / (df + t * t);
  return 0.5 * regularizedIncompleteBeta(x, df / 2, 0.5);
}

function studentTDensity(t: number, df: number): number {
  return Math.exp(
    logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI) -
      ((df + 1) / 2) * Math.log1p((t * t) / df),
  );
}

function requireDf(df: number): void {
  if (!(Number.isFinite(df) && df > 0)) {
    throw new RangeError(`degrees of freedom must be a positive finite number, got ${df}`);
  }
}

// Lanczos approximation (g = 7, 9 coefficients): ~1e-15 relative for positive arguments.
const LANCZOS = [
  0.99999999999980993,
  676.5203681218851,
  -1259.1392167224028,
  771.32342877765313,
  -176.61502916214059,
  12.507343278686905,
  -0.13857109526572012,
  9.9843695780195716e-6,
  1.5056327351493116e-7,
];

function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** `I_x(a, b)` by its continued fraction (modified Lentz), using the symmetry for fast convergence. */
function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x),
  );
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h;
}

function foldKey(repeat: number, fold: number): string {
  return `repeat ${repeat} fold ${fold}`;
}

function indexFolds(values: readonly FoldValue[], name: string): Map<string, FoldValue> {
  if (values.length === 0) throw new UserError(`${name} has no folds`);
  const byKey = new Map<string, FoldValue>();
  for (const v of values) {
    if (!Number.isInteger(v.repeat) || v.repeat < 0 || !Number.isInteger(v.fold) || v.fold < 0) {
      throw new UserError(`${name}: repeat and fold must be whole numbers ≥ 0, got ${v.repeat}, ${v.fold}`);
    }
    const key = foldKey(v.repeat, v.fold);
    if (byKey.has(key)) throw new UserError(`${name}: ${key} appears more than once`);
    if (!Number.isFinite(v.value)) throw new UserError(`${name}: ${key} has a non-finite value ${v.value}`);
    byKey.set(key, v);
  }
  return byKey;
}
