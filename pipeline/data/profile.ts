/**
 * Attribute profiles: which attributes a model may see. `full` sees all 20; `fair` sees none of the
 * attributes `attributes.ts` marks `PROTECTED` (nor, through the encoder, any engineered feature
 * derived from them); a custom profile excludes a named list. Everything here derives from that
 * mark, so marking another attribute changes `fair` everywhere at once.
 * @module
 */

import { type AttributeName, ATTRIBUTES } from "./schema.ts";
import { PROTECTED } from "./attributes.ts";
import { UserError } from "../errors.ts";

/** The named profiles; `custom` is an explicit exclusion list. */
export const PROFILE_NAMES = ["full", "fair", "custom"] as const;

/** A profile's name. */
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Which attributes a model may not see, in schema order. */
export interface AttributeProfile {
  readonly name: ProfileName;
  readonly excluded: readonly AttributeName[];
}

/** The attributes marked protected, in schema order. */
export const PROTECTED_ATTRIBUTES: readonly AttributeName[] = ATTRIBUTES
  .filter((a) => PROTECTED[a.name] !== undefined)
  .map((a) => a.name);

/** Whether `name` is a protected attribute. */
export function isProtected(name: string): boolean {
  return (PROTECTED_ATTRIBUTES as readonly string[]).includes(name);
}

/** The profile that sees everything; what an artifact without a profile was trained with. */
export const FULL_PROFILE: AttributeProfile = { name: "full", excluded: [] };

/** The profile that sees no protected attribute. */
export const FAIR_PROFILE: AttributeProfile = { name: "fair", excluded: PROTECTED_ATTRIBUTES };

/**
 * The profile of `--profile` / `--exclude`: a named profile, or a custom exclusion list (comma
 * separated or an array). Throws a {@link UserError} naming an unknown profile or attribute, a
 * profile combined with a list, or a list that would leave no attribute.
 */
export function resolveProfile(
  input: { profile?: string; exclude?: string | readonly string[] },
): AttributeProfile {
  const list = typeof input.exclude === "string"
    ? input.exclude.split(",").map((s) => s.trim()).filter((s) => s !== "")
    : input.exclude;
  if (list !== undefined) {
    if (input.profile !== undefined && input.profile !== "custom") {
      throw new UserError(
        `profile ${input.profile} cannot be combined with an exclusion list; use one or the other`,
      );
    }
    return customProfile(list);
  }
  const name = input.profile ?? "full";
  if (name === "full") return FULL_PROFILE;
  if (name === "fair") return FAIR_PROFILE;
  if (name === "custom") throw new UserError("profile custom needs an exclusion list (--exclude a,b,…)");
  throw new UserError(`unknown profile ${JSON.stringify(name)}; expected one of ${PROFILE_NAMES.join(", ")}`);
}

/** A custom profile excluding `names` (deduplicated, put in schema order); throws on an unknown name. */
export function customProfile(names: readonly string[]): AttributeProfile {
  const known = new Set<string>(ATTRIBUTES.map((a) => a.name));
  for (const name of names) {
    if (!known.has(name)) {
      throw new UserError(`cannot exclude ${JSON.stringify(name)}: not an attribute of the schema`);
    }
  }
  if (names.length === 0) throw new UserError("the exclusion list is empty; name at least one attribute");
  const excluded = ATTRIBUTES.map((a) => a.name).filter((n) => names.includes(n));
  if (excluded.length === ATTRIBUTES.length) {
    throw new UserError("the exclusion list names every attribute; a model needs at least one");
  }
  return { name: "custom", excluded };
}

/**
 * The profile an artifact or run records, read back: absent means `full` (models trained before
 * profiles existed saw every attribute). Throws on a malformed record.
 */
export function profileFromRecord(value: unknown): AttributeProfile {
  if (value === undefined || value === null) return FULL_PROFILE;
  const record = value as Partial<AttributeProfile>;
  if (
    typeof value !== "object" || !PROFILE_NAMES.includes(record.name as ProfileName) ||
    !Array.isArray(record.excluded)
  ) {
    throw new TypeError(`attribute profile ${JSON.stringify(value)} is not {name, excluded}`);
  }
  if (record.name === "full") {
    if (record.excluded.length) throw new TypeError("profile full cannot exclude attributes");
    return FULL_PROFILE;
  }
  const profile = customProfile(record.excluded as string[]);
  return { name: record.name as ProfileName, excluded: profile.excluded };
}

/** One line for cards and logs: what the model cannot see. */
export function describeProfile(profile: AttributeProfile): string {
  return profile.excluded.length === 0
    ? `${profile.name}: sees all ${ATTRIBUTES.length} attributes`
    : `${profile.name}: cannot see ${profile.excluded.join(", ")} (nor any feature derived from them)`;
}
