/**
 * Credit score points as lenders quote them: a fixed number of points at given good:bad odds,
 * and a fixed number of points to double the odds ("points to double the odds", PDO).
 * @module
 */

/** The points scale. */
export interface ScoreScale {
  /** Points at the anchor odds. */
  points: number;
  /** Good:bad odds that earn `points` (50 means 50:1). */
  odds: number;
  /** Points that double the odds. */
  pdo: number;
}

/** 600 points at 50:1 good:bad odds, 20 points to double the odds. */
export const DEFAULT_SCORE_SCALE: ScoreScale = { points: 600, odds: 50, pdo: 20 };

/** Checks a scale, naming the bad field. */
export function validateScoreScale(scale: ScoreScale): ScoreScale {
  for (const key of ["points", "odds", "pdo"] as const) {
    if (!Number.isFinite(scale[key])) {
      throw new RangeError(`score scale ${key} must be a finite number, got ${scale[key]}`);
    }
  }
  if (!(scale.odds > 0)) throw new RangeError(`score scale odds must be positive, got ${scale.odds}`);
  if (!(scale.pdo > 0)) throw new RangeError(`score scale pdo must be positive, got ${scale.pdo}`);
  return scale;
}

const PD_FLOOR = 1e-6;

/** Score points for a probability of default: higher is safer. */
export function scoreFromPd(pd: number, scale: ScoreScale = DEFAULT_SCORE_SCALE): number {
  const p = Math.min(1 - PD_FLOOR, Math.max(PD_FLOOR, pd));
  const factor = scale.pdo / Math.LN2;
  const offset = scale.points - factor * Math.log(scale.odds);
  return offset + factor * Math.log((1 - p) / p);
}

/** The probability of default a score stands for (the inverse of {@link scoreFromPd}). */
export function pdFromScore(score: number, scale: ScoreScale = DEFAULT_SCORE_SCALE): number {
  const factor = scale.pdo / Math.LN2;
  const offset = scale.points - factor * Math.log(scale.odds);
  return 1 / (1 + Math.exp((score - offset) / factor));
}
