import assert from "node:assert/strict";

/** Asserts `actual` is within `tolerance` of `expected`. */
export const close = (actual: number, expected: number, tolerance = 1e-9, message = "") =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${message} expected ${expected}, got ${actual}`);
