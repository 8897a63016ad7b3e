/**
 * The CSV columns that are not attributes, in a module without polars so that the batch workers
 * can import them (etl.ts re-exports them).
 * @module
 */

/** The optional target column of a CSV, coded as in the raw file (1 good, 2 bad). */
export const CLASS_COLUMN = "class";
/** An optional pass-through identifier column of a CSV. */
export const ID_COLUMN = "id";
