/**
 * The dense row-major matrix the forest reads, and the checks on features, labels and weights
 * that every entry point shares, so bad input fails early with a message that says what is wrong.
 * @module
 */

/** A dense row-major matrix of finite numbers. */
export interface Matrix {
  /** `rows * cols` values, row after row. */
  readonly data: Float64Array;
  /** Number of rows (samples). */
  readonly rows: number;
  /** Number of columns (features). */
  readonly cols: number;
}

/** Feature input accepted everywhere: rows of numbers or a {@link Matrix}. */
export type MatrixLike = readonly (readonly number[])[] | Matrix;

/** Converts rows to a {@link Matrix} (a Matrix is checked and returned as is, not copied). */
export function toMatrix(X: MatrixLike): Matrix {
  if (Array.isArray(X)) return fromRows(X as readonly (readonly number[])[]);
  const m = X as Matrix;
  if (m === null || typeof m !== "object" || !(m.data instanceof Float64Array)) {
    throw new TypeError("X must be number[][] or { data: Float64Array; rows: number; cols: number }");
  }
  if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 0 || m.cols < 1) {
    throw new RangeError(`X has invalid shape rows=${m.rows}, cols=${m.cols}`);
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new RangeError(`X.data has ${m.data.length} values, expected rows * cols = ${m.rows * m.cols}`);
  }
  const data = m.data;
  for (let i = 0; i < data.length; i++) {
    // `x - x` is NaN exactly for NaN and ±Infinity: one cheap test for both.
    if (data[i] - data[i] !== 0) {
      const row = Math.floor(i / m.cols);
      throw new RangeError(`X[${row}][${i - row * m.cols}] must be a finite number, got ${data[i]}`);
    }
  }
  return m;
}

function fromRows(rows: readonly (readonly number[])[]): Matrix {
  if (rows.length === 0) throw new RangeError("X must have at least one row");
  const cols = rows[0]?.length ?? 0;
  if (cols === 0) throw new RangeError("X must have at least one column");
  const data = new Float64Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    if (!Array.isArray(row) && !ArrayBuffer.isView(row)) throw new TypeError(`X[${r}] must be an array`);
    if (row.length !== cols) {
      throw new RangeError(`X is ragged: row ${r} has ${row.length} values, row 0 has ${cols}`);
    }
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      if (typeof v !== "number" || v - v !== 0) {
        throw new RangeError(`X[${r}][${c}] must be a finite number, got ${v}`);
      }
      data[r * cols + c] = v;
    }
  }
  return { data, rows: rows.length, cols };
}

/** Checks binary labels (0 = good, 1 = bad) against the row count; both classes must occur. */
export function checkLabels(y: ArrayLike<number>, rows: number): Uint8Array {
  if (y === null || typeof y !== "object" || typeof y.length !== "number") {
    throw new TypeError("y must be an array of 0/1 labels");
  }
  if (y.length !== rows) throw new RangeError(`y has ${y.length} labels but X has ${rows} rows`);
  const labels = new Uint8Array(rows);
  let positives = 0;
  for (let i = 0; i < rows; i++) {
    const v = y[i];
    if (v !== 0 && v !== 1) throw new RangeError(`y[${i}] must be 0 or 1, got ${v}`);
    labels[i] = v;
    positives += v;
  }
  if (positives === 0 || positives === rows) {
    throw new RangeError(`y must contain both classes 0 and 1, got only class ${positives === 0 ? 0 : 1}`);
  }
  return labels;
}

/** Checks optional sample weights (finite, ≥ 0, some positive); absent weights are all 1. */
export function checkWeights(sampleWeight: ArrayLike<number> | undefined, rows: number): Float64Array {
  const weights = new Float64Array(rows);
  if (sampleWeight === undefined) return weights.fill(1);
  if (sampleWeight.length !== rows) {
    throw new RangeError(`sampleWeight has ${sampleWeight.length} values but X has ${rows} rows`);
  }
  let total = 0;
  for (let i = 0; i < rows; i++) {
    const w = sampleWeight[i];
    if (typeof w !== "number" || !(w >= 0) || w === Infinity) {
      throw new RangeError(`sampleWeight[${i}] must be a finite number ≥ 0, got ${w}`);
    }
    weights[i] = w;
    total += w;
  }
  if (!(total > 0)) throw new RangeError("sampleWeight must have at least one positive weight");
  return weights;
}
