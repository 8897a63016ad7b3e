/**
 * Probability calibration. Balanced bootstraps train every tree on a 50 % bad rate, so the forest's
 * P(bad) overstates the true 30 % default rate; Platt scaling on out-of-fold predictions maps it
 * back to a probability of default (PD). Platt is strictly increasing, so a decision made on the
 * raw score and one made on the PD with the mapped threshold are the same decision.
 * @module
 */

/** The calibrator's JSON form: PD = 1 / (1 + exp(−(a·logit(p) + b))). */
export interface PlattJSON {
  kind: "platt";
  a: number;
  b: number;
}

/** Scores are clipped to [EPSILON, 1 − EPSILON] before the logit, so 0 and 1 stay finite. */
export const EPSILON = 1e-6;

function logit(p: number): number {
  const q = Math.min(1 - EPSILON, Math.max(EPSILON, p));
  return Math.log(q / (1 - q));
}

/** Cross-entropy of sigmoid(a·x + b) against the targets, finite for any |a·x + b|. */
function smoothedLoss(a: number, b: number, x: Float64Array, t: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const z = a * x[i] + b;
    sum += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - t[i] * z;
  }
  return sum;
}

/** Platt scaling on the logit of the score, fitted by Newton's method with Platt's smoothed targets. */
export class PlattCalibrator {
  readonly a: number;
  readonly b: number;

  private constructor(a: number, b: number) {
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      throw new RangeError(`calibrator parameters must be finite`);
    }
    if (!(a > 0)) {
      throw new RangeError(`calibrator slope must be positive to keep decisions unchanged, got ${a}`);
    }
    this.a = a;
    this.b = b;
  }

  /** Fits on labelled probabilities (1 = bad), e.g. out-of-fold predictions of the training part. */
  static fit(labels: ArrayLike<number>, scores: ArrayLike<number>): PlattCalibrator {
    const n = labels.length;
    if (n === 0 || n !== scores.length) {
      throw new RangeError(`labels and scores must be non-empty and equally long`);
    }
    let positives = 0;
    for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
    if (positives === 0 || positives === n) throw new RangeError(`calibration needs both classes`);
    // Platt's targets keep the fit finite on separable data.
    const hi = (positives + 1) / (positives + 2);
    const lo = 1 / (n - positives + 2);
    const x = Float64Array.from({ length: n }, (_, i) => logit(scores[i]));
    const t = Float64Array.from({ length: n }, (_, i) => (labels[i] === 1 ? hi : lo));
    // Newton's method with a backtracking line search (Lin, Lin and Weng, 2007): a full Newton
    // step overshoots when the scores' logits are far from the fit (a score of 0.99 from a = 1)
    // and the saturated Hessian sends the slope off to 1e12.
    let a = 1, b = 0;
    let current = smoothedLoss(a, b, x, t);
    for (let iteration = 0; iteration < 100; iteration++) {
      let g0 = 0, g1 = 0, h00 = 1e-12, h01 = 0, h11 = 1e-12;
      for (let i = 0; i < n; i++) {
        const p = 1 / (1 + Math.exp(-(a * x[i] + b)));
        const d = p - t[i];
        const w = p * (1 - p);
        g0 += d * x[i];
        g1 += d;
        h00 += w * x[i] * x[i];
        h01 += w * x[i];
        h11 += w;
      }
      if (Math.abs(g0) < 1e-12 && Math.abs(g1) < 1e-12) break;
      const det = h00 * h11 - h01 * h01;
      const da = (h11 * g0 - h01 * g1) / det;
      const db = (h00 * g1 - h01 * g0) / det;
      let step = 1;
      let next = smoothedLoss(a - da, b - db, x, t);
      // Armijo condition along the Newton direction; the directional derivative is −(g·Δ).
      const slope = g0 * da + g1 * db;
      while (step > 1e-10 && !(next <= current - 1e-4 * step * slope)) {
        step /= 2;
        next = smoothedLoss(a - step * da, b - step * db, x, t);
      }
      if (step <= 1e-10) break;
      a -= step * da;
      b -= step * db;
      current = next;
      if (Math.abs(step * da) < 1e-10 && Math.abs(step * db) < 1e-10) break;
    }
    return new PlattCalibrator(a, b);
  }

  /** Restores a calibrator from JSON. */
  static fromJSON(json: PlattJSON): PlattCalibrator {
    if (json?.kind !== "platt") throw new TypeError(`calibrator kind ${json?.kind} is not supported`);
    return new PlattCalibrator(json.a, json.b);
  }

  /** The JSON form. */
  toJSON(): PlattJSON {
    return { kind: "platt", a: this.a, b: this.b };
  }

  /** The PD for a raw score. */
  transform(score: number): number {
    return 1 / (1 + Math.exp(-(this.a * logit(score) + this.b)));
  }

  /** PDs for many raw scores. */
  transformAll(scores: ArrayLike<number>): Float64Array {
    return Float64Array.from({ length: scores.length }, (_, i) => this.transform(scores[i]));
  }
}

/** One bin of a reliability curve. */
export interface ReliabilityBin {
  meanPredicted: number;
  observed: number;
  count: number;
}

/** Equal-width reliability bins: mean predicted probability against the observed bad rate. */
export function reliabilityCurve(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  bins = 10,
): ReliabilityBin[] {
  const sums = new Float64Array(bins), hits = new Float64Array(bins), counts = new Float64Array(bins);
  for (let i = 0; i < labels.length; i++) {
    const b = Math.min(bins - 1, Math.floor(scores[i] * bins));
    sums[b] += scores[i];
    hits[b] += labels[i];
    counts[b]++;
  }
  return Array.from({ length: bins }, (_, b) => ({
    meanPredicted: counts[b] ? sums[b] / counts[b] : (b + 0.5) / bins,
    observed: counts[b] ? hits[b] / counts[b] : 0,
    count: counts[b],
  }));
}
