/**
 * Standard-normal tail arithmetic for the truncated Gaussian kernels of the Parzen estimator.
 * Tails are computed from the side where they are small, so narrow bins far from a kernel's
 * centre keep their relative precision instead of vanishing in `1 − 0.99999…`.
 * @module
 */

const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Complementary error function, accurate to about 1e-15 relative. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 3) return 1 - erfSeries(x);
  return erfcContinuedFraction(x);
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / SQRT2);
}

/** Standard normal log density. */
export function normalLogPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** `Φ(b) − Φ(a)` for `a <= b`, taken from the upper tail when both ends lie above zero. */
export function normalMass(a: number, b: number): number {
  if (a > 0) return 0.5 * (erfc(a / SQRT2) - erfc(b / SQRT2));
  return 0.5 * (erfc(-b / SQRT2) - erfc(-a / SQRT2));
}

/** Inverse of the standard normal CDF (Acklam's rational approximation plus one Halley step). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  let x: number;
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = tailApproximation(q);
  } else if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -tailApproximation(q);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q /
      (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  }
  const error = normalCdf(x) - p;
  const u = error * Math.sqrt(2 * Math.PI) * Math.exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

/**
 * A standard-normal draw restricted to `[a, b]` by inverting the CDF at `u ∈ [0, 1)`; one uniform
 * per draw keeps the random stream aligned however narrow the interval.
 */
export function truncatedNormalQuantile(a: number, b: number, u: number): number {
  if (a > 0) return -truncatedNormalQuantile(-b, -a, 1 - u);
  const lower = normalCdf(a);
  const z = normalQuantile(lower + u * (normalCdf(b) - lower));
  return Math.min(b, Math.max(a, Number.isNaN(z) ? a : z));
}

/** `log Σ exp(values[i])` without overflow. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  if (max === -Infinity || max === Infinity) return max;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

const P_LOW = 0.02425;
const A = [
  -3.969683028665376e+01,
  2.209460984245205e+02,
  -2.759285104469687e+02,
  1.383577518672690e+02,
  -3.066479806614716e+01,
  2.506628277459239e+00,
];
const B = [
  -5.447609879822406e+01,
  1.615858368580409e+02,
  -1.556989798598866e+02,
  6.680131188771972e+01,
  -1.328068155288572e+01,
];
const C = [
  -7.784894002430293e-03,
  -3.223964580411365e-01,
  -2.400758277161838e+00,
  -2.549732539343734e+00,
  4.374664141464968e+00,
  2.938163982698783e+00,
];
const D = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];

function tailApproximation(q: number): number {
  return (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
    ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
}

/** erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)); all terms positive, so no cancellation. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

/** erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))), evaluated from the tail up. */
function erfcContinuedFraction(x: number): number {
  if (x > 27) return 0;
  let fraction = x;
  for (let n = 60; n >= 1; n--) fraction = x + (n / 2) / fraction;
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * fraction);
}
