/**
 * The flow's configuration (`--config flow.json`): what the challenger is trained with, how it is
 * compared with the champion, the gate's margin and fairness floor, where it is deployed, and each
 * step's retries, backoff and timeout. Validated by a strict schema, so a misspelt key or a bad
 * value stops the flow before any step runs, naming the field. {@link normaliseConfig} fills every
 * default and sorts the keys: the normalised form is what the flow key hashes and what
 * `flow.json` records.
 * @module
 */

import { z } from "zod";
import { UserError } from "../errors.ts";

/**
 * `model/objective.ts`'s OBJECTIVES, repeated so that reading a configuration (the cached path of
 * `deno task flow`) does not load the training code; `tests/flow/config_test.ts` checks they agree.
 */
export const FLOW_OBJECTIVES = ["cost", "recall", "auc"] as const;

/** The steps of the retraining flow, in the order they run. */
export const FLOW_STEPS = ["validate", "drift", "train", "compare", "gate", "deploy", "record"] as const;

/** One step's name. */
export type FlowStepName = (typeof FLOW_STEPS)[number];

const positiveInt = z.number().int().positive();

/** How one step is retried and bounded (fields left out take the step's default). */
const stepPolicy = z.strictObject({
  /** Attempts after the first one. */
  retries: z.number().int().min(0).max(10).optional(),
  /** Delay before the first retry; each further retry waits `backoff_factor` times longer. */
  backoff_ms: z.number().int().min(0).max(600_000).optional(),
  backoff_factor: z.number().min(1).max(10).optional(),
  /** One attempt's limit; a slower attempt fails with a timeout (and is retried if retries remain). */
  timeout_ms: z.number().int().min(1).max(24 * 3_600_000).optional(),
});

/** One step's retry and timeout policy. */
export interface StepPolicy {
  retries: number;
  backoff_ms: number;
  backoff_factor: number;
  timeout_ms: number;
}

const MINUTE = 60_000;

/**
 * Each step's default policy. Only the steps that talk to something outside the process (the
 * servers) are retried by default: a failed fit or comparison on the same data fails again.
 */
export const DEFAULT_STEP_POLICIES: Readonly<Record<FlowStepName, StepPolicy>> = {
  validate: { retries: 0, backoff_ms: 1_000, backoff_factor: 2, timeout_ms: 2 * MINUTE },
  drift: { retries: 0, backoff_ms: 1_000, backoff_factor: 2, timeout_ms: 2 * MINUTE },
  train: { retries: 1, backoff_ms: 1_000, backoff_factor: 2, timeout_ms: 30 * MINUTE },
  compare: { retries: 1, backoff_ms: 1_000, backoff_factor: 2, timeout_ms: 30 * MINUTE },
  gate: { retries: 2, backoff_ms: 500, backoff_factor: 2, timeout_ms: 2 * MINUTE },
  deploy: { retries: 3, backoff_ms: 500, backoff_factor: 2, timeout_ms: 2 * MINUTE },
  record: { retries: 2, backoff_ms: 500, backoff_factor: 2, timeout_ms: 2 * MINUTE },
};

const stepPolicies = z.strictObject(
  Object.fromEntries(FLOW_STEPS.map((name) => [name, stepPolicy.prefault({})])) as Record<
    FlowStepName,
    z.ZodPrefault<typeof stepPolicy>
  >,
).transform((given) =>
  Object.fromEntries(
    FLOW_STEPS.map((name) => [name, { ...DEFAULT_STEP_POLICIES[name], ...stripUndefined(given[name]) }]),
  ) as Record<FlowStepName, StepPolicy>
);

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The schema of a flow configuration file; every field has a default. */
export const flowConfigSchema = z.strictObject({
  /** The challenger's training: `deno task train`'s options, smaller by default (see README). */
  train: z.strictObject({
    trials: positiveInt.max(1_000).default(12),
    folds: z.number().int().min(2).max(20).default(5),
    search_repeats: positiveInt.max(10).default(2),
    search_trees: positiveInt.max(5_000).default(100),
    trees: positiveInt.max(5_000).default(300),
    seed: z.number().int().min(0).default(42),
    objective: z.enum(FLOW_OBJECTIVES).default("cost"),
    test_size: z.number().gt(0).lt(1).default(0.2),
    min_accuracy: z.number().min(0).max(1).default(0.7),
    experiment: z.string().min(1).default("german-credit"),
    /**
     * What the challenger may see: `champion` (default) keeps the production model's attribute
     * profile, so a retrain never brings back attributes the production choice excluded.
     */
    profile: z.enum(["champion", "full", "fair"]).default("champion"),
  }).prefault({}),
  /**
   * The paired comparison on the new data: repeated stratified K-fold, both models refitted with
   * their recorded hyperparameters in every fold, each threshold chosen by inner CV of the fold's
   * training part.
   */
  compare: z.strictObject({
    repeats: positiveInt.max(20).default(2),
    folds: z.number().int().min(2).max(20).default(5),
    inner_folds: z.number().int().min(2).max(20).default(3),
    seed: z.number().int().min(0).default(20261128),
    /** Trees for both models in every fold; null refits each with its own recorded number. */
    trees: positiveInt.max(5_000).nullable().default(null),
  }).prefault({}),
  /** When the challenger replaces the champion. */
  gate: z.strictObject({
    /**
     * Largest tolerated mean paired difference in the champion's disfavour, in units of the
     * objective (cost per applicant, or recall/AUC points as fractions).
     */
    margin: z.number().min(0).max(1).default(0.01),
    /** Absolute floor on disparate impact (age and sex); null: none (see README for why). */
    min_disparate_impact: z.number().min(0).max(1).nullable().default(null),
    /** Largest tolerated drop of the challenger's disparate impact below the champion's, per attribute. */
    max_disparate_impact_drop: z.number().min(0).max(1).nullable().default(0.05),
  }).prefault({}),
  /** Servers to reload after a promotion; each must read the same models folder. */
  deploy: z.strictObject({
    servers: z.array(z.url({ protocol: /^https?$/ })).default([]),
    /** The environment variable holding the servers' `ADMIN_TOKEN` (the token itself is never recorded). */
    token_env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name").default(
      "FLOW_ADMIN_TOKEN",
    ),
    /** How long `/model` is polled for the new version after a reload. */
    confirm_timeout_ms: positiveInt.max(600_000).default(10_000),
  }).prefault({}),
  steps: stepPolicies.prefault({}),
  /** How long a flow waits for another flow on the same models folder; 0 refuses at once. */
  lock_wait_ms: z.number().int().min(0).max(24 * 3_600_000).default(0),
});

/** A validated configuration, every default filled. */
export type FlowConfig = z.output<typeof flowConfigSchema>;

/** The defaults: what `deno task flow` uses without `--config`. */
export const DEFAULT_FLOW_CONFIG: FlowConfig = normaliseConfig({});

/** Validates a parsed configuration and fills its defaults; the error names every bad field. */
export function normaliseConfig(input: unknown, source = "flow config"): FlowConfig {
  const parsed = flowConfigSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => {
      const path = issue.path.join(".") || "(top level)";
      return `  ${path}: ${issue.message}`;
    });
    throw new UserError(`${source} is not valid:\n${issues.join("\n")}`);
  }
  return sortKeys(parsed.data) as FlowConfig;
}

/** Reads and validates a configuration file. */
export async function loadConfig(path: string): Promise<FlowConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : (error as Error).message;
    throw new UserError(`cannot read flow config ${path}: ${reason}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`flow config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return normaliseConfig(value, `flow config ${path}`);
}

/** The configuration as canonical JSON (keys sorted at every level): the form the flow key hashes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
