/**
 * The model registry, `<modelsDir>/registry.json`: every registered model version, its artifact's
 * sha256 and its stage, and its `history` — every registration and stage change, appended, never
 * rewritten. Versions only go up: a new version is one more than any version the models or the
 * history ever held. A registry written before the history existed is migrated on read (its
 * history rebuilt from the models it lists) and stored with it at the next registration. Registration decides promotion (champion/challenger on the objective) and
 * runs under an OS lock, so concurrent training runs cannot corrupt the registry or end with two
 * production models. The same lock guards amendments to a finished run's record.
 * @module
 */

import { z } from "zod";
import { UserError } from "../errors.ts";
import { writeJsonAtomic } from "./atomic.ts";
import { DEFAULT_MODELS_DIR, readRun } from "./run_files.ts";

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "an ISO time");

/** The schema of `models/registry.json`. */
export const registrySchema = z.object({
  format_version: z.literal(1),
  models: z.array(z.object({
    version: z.number().int().positive(),
    run_id: z.string(),
    artifact: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    stage: z.enum(["production", "archived", "candidate"]),
    created_at: isoTime,
    objective: z.string(),
    objective_value: z.number(),
    direction: z.enum(["minimize", "maximize"]),
    metrics: z.record(z.string(), z.number()),
    attribute_profile: z.string().optional(),
  })),
  history: z.array(z.object({
    at: isoTime,
    event: z.enum(["registered", "promoted", "archived"]),
    version: z.number().int().positive(),
    run_id: z.string(),
    detail: z.string().optional(),
  })).optional(),
});

/** One entry of the registry's history. */
export interface RegistryEvent {
  at: string;
  event: "registered" | "promoted" | "archived";
  version: number;
  run_id: string;
  detail?: string;
}

/** A model version's stage. */
export type Stage = "production" | "archived" | "candidate";

/** One registered model version. */
export interface ModelVersion {
  version: number;
  run_id: string;
  artifact: string;
  sha256: string;
  stage: Stage;
  created_at: string;
  objective: string;
  objective_value: number;
  direction: "minimize" | "maximize";
  metrics: Record<string, number>;
  /** The attribute profile the model was trained under (`full`, `fair`, `custom`); absent: its run says. */
  attribute_profile?: string;
}

/** The content of `models/registry.json`. */
export interface Registry {
  format_version: 1;
  models: ModelVersion[];
  /** Every registration and stage change, oldest first; only ever appended to. */
  history: RegistryEvent[];
}

/**
 * The history of a registry stored without one: each listed version's registration (and its
 * promotion when it is production), in version order. What happened to versions no longer listed
 * is not known, and not invented.
 */
export function migratedHistory(models: readonly ModelVersion[]): RegistryEvent[] {
  return [...models].sort((a, b) => a.version - b.version).flatMap((m): RegistryEvent[] => [
    { at: m.created_at, event: "registered", version: m.version, run_id: m.run_id, detail: "migrated" },
    ...(m.stage === "production"
      ? [{ at: m.created_at, event: "promoted" as const, version: m.version, run_id: m.run_id }]
      : []),
  ]);
}

/** The next version number: above every version the models and the history have ever held. */
export function nextVersion(registry: Registry): number {
  const highest = Math.max(
    0,
    ...registry.models.map((m) => m.version),
    ...registry.history.map((e) => e.version),
  );
  return highest + 1;
}

/** The registry's path under a models folder. */
export function registryPath(modelsDir = DEFAULT_MODELS_DIR): string {
  return `${modelsDir}/registry.json`;
}

/** Reads the registry (migrating a registry without history); an absent registry is empty. */
export async function readRegistry(modelsDir = DEFAULT_MODELS_DIR): Promise<Registry> {
  try {
    const parsed = registrySchema.safeParse(JSON.parse(await Deno.readTextFile(registryPath(modelsDir))));
    if (!parsed.success) {
      throw new UserError(
        `${registryPath(modelsDir)} is not a valid registry: ${parsed.error.issues[0].message}`,
      );
    }
    const models = parsed.data.models as ModelVersion[];
    return { format_version: 1, models, history: parsed.data.history ?? migratedHistory(models) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { format_version: 1, models: [], history: [] };
    throw error;
  }
}

/** The production model version, or undefined. */
export function productionModel(registry: Registry): ModelVersion | undefined {
  return registry.models.find((m) => m.stage === "production");
}

/** The sha256 of a file, hex. */
export async function sha256File(path: string): Promise<string> {
  return sha256Hex(await Deno.readFile(path));
}

/** The sha256 of bytes, hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What `registerModel` decided. */
export interface Registration {
  version: ModelVersion;
  promoted: boolean;
  reason: string;
}

/**
 * Registers a model artifact. It becomes production when there is no production model, when
 * `promote` is "always", or (champion/challenger) when it is not worse than the champion on the same
 * objective; `promote: "never"` keeps it a candidate. Runs under a lock and writes atomically.
 */
export async function registerModel(
  entry: Omit<ModelVersion, "version" | "stage" | "created_at" | "sha256">,
  options: { promote?: "auto" | "always" | "never"; modelsDir?: string } = {},
): Promise<Registration> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const sha256 = await sha256File(
    entry.artifact.startsWith("/") ? entry.artifact : `${modelsDir}/${entry.artifact}`,
  );
  return await withRegistryLock(modelsDir, async () => {
    const registry = await readRegistry(modelsDir);
    const champion = productionModel(registry);
    const version: ModelVersion = {
      ...entry,
      version: nextVersion(registry),
      sha256,
      stage: "candidate",
      created_at: new Date().toISOString(),
    };
    let promoted: boolean;
    let reason: string;
    const mode = options.promote ?? "auto";
    if (mode === "never") {
      promoted = false;
      reason = "kept as candidate (--no-promote)";
    } else if (mode === "always") {
      promoted = true;
      reason = "promoted on request (--promote)";
    } else if (!champion) {
      promoted = true;
      reason = "no production model yet";
    } else if (
      (entry.attribute_profile ?? "full") !== (await profileOf(champion, modelsDir))
    ) {
      // Which attributes the production model may see is a fair-lending decision, not a score race.
      promoted = false;
      reason =
        `champion v${champion.version} was trained under profile ${await profileOf(champion, modelsDir)}, ` +
        `this model under ${entry.attribute_profile ?? "full"}; a profile change needs --promote`;
    } else if (champion.objective !== entry.objective) {
      promoted = false;
      reason =
        `champion v${champion.version} was chosen on objective ${champion.objective}, not ${entry.objective}; use --promote`;
    } else {
      const better = entry.direction === "minimize"
        ? entry.objective_value <= champion.objective_value
        : entry.objective_value >= champion.objective_value;
      promoted = better;
      reason = `${entry.objective} ${fmt(entry.objective_value)} vs champion v${champion.version}'s ${
        fmt(champion.objective_value)
      }: ${better ? "not worse, promoted" : "worse, kept as candidate"}`;
    }
    const at = version.created_at;
    registry.history.push({ at, event: "registered", version: version.version, run_id: version.run_id });
    if (promoted) {
      for (const m of registry.models) {
        if (m.stage !== "production") continue;
        m.stage = "archived";
        registry.history.push({ at, event: "archived", version: m.version, run_id: m.run_id });
      }
      version.stage = "production";
      registry.history.push({
        at,
        event: "promoted",
        version: version.version,
        run_id: version.run_id,
        detail: reason,
      });
    }
    registry.models.push(version);
    await writeJsonAtomic(registryPath(modelsDir), registry);
    return { version, promoted, reason };
  });
}

/**
 * Makes a registered version production (archiving the one before), under the lock, provided the
 * production version is still `expectedProduction` (null: none): a promotion decided against one
 * champion is never applied over another. Idempotent: a version already in production is left as
 * it is (`changed: false`), so a retried or resumed promotion does nothing twice.
 */
export async function promoteVersion(
  version: number,
  options: { expectedProduction: number | null; reason: string; modelsDir?: string },
): Promise<{ version: ModelVersion; changed: boolean }> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  return await withRegistryLock(modelsDir, async () => {
    const registry = await readRegistry(modelsDir);
    const target = registry.models.find((m) => m.version === version);
    if (!target) throw new UserError(`model version ${version} is not in ${registryPath(modelsDir)}`);
    if (target.stage === "production") return { version: target, changed: false };
    const current = productionModel(registry);
    if ((current?.version ?? null) !== options.expectedProduction) {
      throw new UserError(
        `production is v${current?.version ?? "none"}, not v${
          options.expectedProduction ?? "none"
        } as when v${version} was compared: not promoting over a model it was not compared with`,
      );
    }
    if (target.stage !== "candidate") {
      throw new UserError(`model version ${version} is ${target.stage}, not a candidate`);
    }
    const at = new Date().toISOString();
    if (current) {
      current.stage = "archived";
      registry.history.push({ at, event: "archived", version: current.version, run_id: current.run_id });
    }
    target.stage = "production";
    registry.history.push({ at, event: "promoted", version, run_id: target.run_id, detail: options.reason });
    await writeJsonAtomic(registryPath(modelsDir), registry);
    return { version: target, changed: true };
  });
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

/**
 * Runs `work` holding an exclusive OS lock (flock) on `registry.lock`. The kernel releases the lock
 * when its holder dies, so a training run killed mid-registration never blocks the next one.
 */
export async function withRegistryLock<T>(modelsDir: string, work: () => Promise<T>): Promise<T> {
  await Deno.mkdir(modelsDir, { recursive: true });
  const file = await Deno.open(`${modelsDir}/registry.lock`, { create: true, write: true });
  try {
    await file.lock(true);
    return await work();
  } finally {
    file.close();
  }
}

/** A registered model's attribute profile: its entry's, else its run's, else `full` (before profiles). */
async function profileOf(version: ModelVersion, modelsDir: string): Promise<string> {
  if (version.attribute_profile) return version.attribute_profile;
  const profile = (await readRun(version.run_id, modelsDir))?.params.attribute_profile;
  return typeof profile === "string" ? profile : "full";
}
