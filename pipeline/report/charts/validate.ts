/**
 * Input checks for the spec builders. A chart fed an empty array or a NaN would render blank or
 * misleading; we fail instead, naming the builder, the argument and the offending element.
 * @module
 */

/** Thrown by a spec builder when its input cannot make a meaningful chart. */
export class ChartInputError extends TypeError {
  override name = "ChartInputError";
}

/** Throws unless `items` is a non-empty array. */
export function requireItems<T>(where: string, name: string, items: readonly T[]): void {
  if (!Array.isArray(items)) {
    throw new ChartInputError(`${where}: ${name} must be an array, got ${typeof items}`);
  }
  if (items.length === 0) throw new ChartInputError(`${where}: ${name} is empty; nothing to chart`);
}

/** Returns `value` if it is a finite number, else throws naming `path`. */
export function requireFinite(where: string, path: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ChartInputError(`${where}: ${path} must be a finite number, got ${describe(value)}`);
  }
  return value;
}

/** Returns `value` if it is a finite number in [min, max], else throws naming `path`. */
export function requireInRange(
  where: string,
  path: string,
  value: unknown,
  min: number,
  max: number,
): number {
  const number = requireFinite(where, path, value);
  if (number < min || number > max) {
    throw new ChartInputError(`${where}: ${path} must lie in [${min}, ${max}], got ${number}`);
  }
  return number;
}

/** Returns `value` if it is a non-negative integer, else throws naming `path`. */
export function requireCount(where: string, path: string, value: unknown): number {
  const number = requireFinite(where, path, value);
  if (number < 0 || !Number.isInteger(number)) {
    throw new ChartInputError(`${where}: ${path} must be a non-negative integer, got ${number}`);
  }
  return number;
}

/** Returns `value` if it is a non-empty string, else throws naming `path`. */
export function requireText(where: string, path: string, value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ChartInputError(`${where}: ${path} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** Throws if two elements share a key, since vega would silently merge them into one mark. */
export function requireUnique(where: string, name: string, keyName: string, keys: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) {
      throw new ChartInputError(`${where}: ${name} has two elements with ${keyName} ${JSON.stringify(key)}`);
    }
    seen.add(key);
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value == null) return String(value);
  return typeof value;
}
