/**
 * The quadrature behind `explain.ts`: Gauss–Legendre points on [0, 1] and the tables the explainer
 * reads at those points.
 *
 * A Shapley value is an integral over t ∈ [0, 1] of a polynomial in t (the expected marginal gain
 * when every other player is known with probability t), of degree below the number of players on
 * the path. K Gauss–Legendre points integrate every polynomial of degree ≤ 2K − 1 exactly, with
 * positive weights and points inside (0, 1), so a path with n players needs K = ⌈n / 2⌉ points and
 * no division by t or 1 − t can meet a zero.
 * @module
 */

/** K Gauss–Legendre points on [0, 1], ascending, and their weights (which sum to 1). */
export function gaussLegendre(k: number): { points: Float64Array; weights: Float64Array } {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`need a positive number of points, got ${k}`);
  const points = new Float64Array(k);
  const weights = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    // Newton's method on the Legendre polynomial P_k from the usual first guess for root i.
    let x = Math.cos((Math.PI * (i + 0.75)) / (k + 0.5));
    let derivative = 1;
    for (let iteration = 0; iteration < 100; iteration++) {
      const [value, slope] = legendre(k, x);
      derivative = slope;
      const step = value / slope;
      x -= step;
      if (Math.abs(step) <= 1e-16) break;
    }
    derivative = legendre(k, x)[1];
    points[i] = (1 - x) / 2;
    weights[i] = 1 / ((1 - x * x) * derivative * derivative);
  }
  return { points, weights };
}

/** P_k(x) and P_k'(x) by the three-term recurrence. */
function legendre(k: number, x: number): [number, number] {
  let previous = 1;
  let value = x;
  for (let n = 2; n <= k; n++) {
    const next = ((2 * n - 1) * x * value - (n - 1) * previous) / n;
    previous = value;
    value = next;
  }
  return [value, (k * (x * value - previous)) / (x * x - 1)];
}

/**
 * Everything the explainer reads at the K points of one tree, each table `stride` wide (the
 * forest's largest K) so one set of scratch buffers serves every tree.
 */
export interface PointTables {
  /** Number of points. */
  readonly k: number;
  readonly t: Float64Array;
  readonly weight: Float64Array;
  /** 1 − t. */
  readonly oneMinusT: Float64Array;
  /** weight / (1 − t). */
  readonly weightOverOneMinusT: Float64Array;
  /**
   * t^r (1 − t)^(n − r) at ((n · (blockSize + 1) + r) · stride + i): the probability that a given
   * r of n block players are known.
   */
  readonly bernstein: Float64Array;
  /** weight · t^j (1 − t)^(n − 1 − j) at the same index: the moments a block player's share needs. */
  readonly moments: Float64Array;
}

/**
 * The tables for K = 1 … maxK (index K), for block sizes up to `blockSize`, each vector `stride`
 * long (≥ maxK). Lanes past K are padding with t = 1/2 and weight 0: finite everywhere, adding
 * nothing to any integral, so a kernel may process them along.
 */
export function pointTables(maxK: number, blockSize: number, stride = maxK): PointTables[] {
  const tables: PointTables[] = [];
  for (let k = 0; k <= maxK; k++) {
    const rule = k === 0 ? { points: new Float64Array(0), weights: new Float64Array(0) } : gaussLegendre(k);
    const t = new Float64Array(stride).fill(0.5);
    const weight = new Float64Array(stride);
    t.set(rule.points);
    weight.set(rule.weights);
    const bernstein = new Float64Array((blockSize + 1) * (blockSize + 1) * stride);
    const moments = new Float64Array(bernstein.length);
    for (let n = 0; n <= blockSize; n++) {
      for (let r = 0; r <= n; r++) {
        const at = (n * (blockSize + 1) + r) * stride;
        for (let i = 0; i < stride; i++) {
          bernstein[at + i] = t[i] ** r * (1 - t[i]) ** (n - r);
          if (r < n) moments[at + i] = weight[i] * t[i] ** r * (1 - t[i]) ** (n - 1 - r);
        }
      }
    }
    tables.push({
      k,
      t,
      weight,
      oneMinusT: t.map((x) => 1 - x),
      weightOverOneMinusT: t.map((x, i) => weight[i] / (1 - x)),
      bernstein,
      moments,
    });
  }
  return tables;
}
