/**
 * Test scopes. `deno task test` runs everything; `deno task test:unit` sets `TEST_SCOPE=unit` and
 * skips the tests marked {@link slow}: whole-data oracles, nested evaluations and trainings that
 * take seconds of CPU each, and tests that start a `deno` process (a CLI entry point or `serve.ts`
 * under its task's permissions: 0.5–1 s each) beside in-process tests of the same code. They are
 * reported as ignored there, never silently dropped, and CI runs them through `deno task test`.
 * @module
 */

/** True under `deno task test:unit`. */
export const UNIT_SCOPE = Deno.env.get("TEST_SCOPE") === "unit";

/** Options for a test that only the full suite runs: `Deno.test(name, slow, fn)`. */
export const slow: { ignore: boolean } = { ignore: UNIT_SCOPE };
