/**
 * `deno task test:unit` in two isolates instead of one per test file. Deno's runner starts a fresh
 * isolate for every test module, and each start costs about 0.3 s of CPU before the module's own
 * imports (Hono, zod, polars, Vega) are evaluated again: with a hundred files that was more than half
 * of the suite's CPU. Each root module here (`shard_1.ts`, `shard_2.ts`) imports its share of the test
 * files, so `deno test --parallel` runs two isolates, one per core, and the files keep mirroring the
 * modules they test. `deno task test` still runs every file in its own isolate, so a test that only
 * passes beside others (or only alone) is caught there.
 *
 * The files are found when the shard loads (nothing to register by hand) and split by the weights
 * below, longest first, each to the lighter shard.
 * @module
 */

const TESTS = new URL("../", import.meta.url);

/** What `deno test` picks up in a folder: `test.ts`, `*_test.ts`, `*.test.ts` (and js/tsx/…). */
export const TEST_FILE = /^(?:.*[._])?test\.(?:ts|tsx|mts|js|mjs|jsx)$/;

/** Folders under `tests/` that `deno task test:unit` leaves to `deno task test`. */
export const EXCLUDED = ["e2e"];

/**
 * Milliseconds a file's tests take, as `TEST_SCOPE=unit deno test --no-check FILE…` reports them
 * (loading excluded), measured on 2026-11-28 at a load average of 4–6; files not listed count
 * {@link DEFAULT_WEIGHT}. Only the balance depends on them: a stale figure makes one shard finish
 * later, never drops a test.
 */
export const WEIGHTS: Readonly<Record<string, number>> = {
  "serving/batch_route_test.ts": 4300,
  "serving/audit_test.ts": 3500,
  "serving/audit_hardening_test.ts": 3500,
  "serving/fuzz_test.ts": 3400,
  "serving/serve_test.ts": 2300,
  "forest/explain_test.ts": 2300,
  "serving/dashboard_test.ts": 2100,
  "model/evaluate_test.ts": 1600,
  "model/train_profile_test.ts": 1500,
  "export/onnx_proto_test.ts": 1500,
  "cli/score_test.ts": 1400,
  "model/reasons_test.ts": 1300,
  "report/charts_test.ts": 1200,
  "monitoring/drift_test.ts": 1200,
  "serving/batch_stream_test.ts": 1100,
  "forest/forest_test.ts": 1000,
  "model/nested_test.ts": 1000,
  "serving/flows_test.ts": 1000,
  "cli/sign_test.ts": 900,
  "serving/model_holder_test.ts": 700,
  "model/calibration_test.ts": 700,
  "serving/batch_fast_test.ts": 700,
  "serving/monitoring_test.ts": 600,
  "tune/tune_test.ts": 500,
  "serving/paths_test.ts": 500,
  "data/csv_test.ts": 400,
  "data/etl_test.ts": 400,
  "export/stages_test.ts": 400,
  "model/fair_lending_test.ts": 400,
  "report/jupyter_test.ts": 400,
  "serving/batch_json_test.ts": 300,
  "features/encoder_test.ts": 300,
  "data/schema_test.ts": 800,
};

/** Weight of a file missing from {@link WEIGHTS}. */
export const DEFAULT_WEIGHT = 100;

/** The unit test files under `tests/`, as paths relative to it, sorted. */
export async function unitTestFiles(root: URL = TESTS): Promise<string[]> {
  const files: string[] = [];
  const visit = async (relative: string) => {
    for await (const entry of Deno.readDir(new URL(relative || ".", root))) {
      const path = relative + entry.name;
      if (entry.isDirectory) {
        if (!(relative === "" && EXCLUDED.includes(entry.name))) await visit(`${path}/`);
      } else if (entry.isFile && TEST_FILE.test(entry.name)) files.push(path);
    }
  };
  await visit("");
  return files.sort();
}

/**
 * Splits `files` into `count` shards: heaviest first, each to the shard with the least weight so far
 * (ties to the lower index), so the split depends only on the list and the weights.
 */
export function partition(
  files: readonly string[],
  count: number,
  weight: (file: string) => number = (file) => WEIGHTS[file] ?? DEFAULT_WEIGHT,
): string[][] {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`count must be a positive integer, got ${count}`);
  }
  const shards = Array.from({ length: count }, () => ({ files: [] as string[], total: 0 }));
  const ordered = [...files].sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : a > b ? 1 : 0));
  for (const file of ordered) {
    const lightest = shards.reduce((best, shard) => shard.total < best.total ? shard : best);
    lightest.files.push(file);
    lightest.total += weight(file);
  }
  return shards.map((shard) => shard.files.sort());
}

/** Imports shard `index` (1-based) of `count`, registering its files' tests in this isolate. */
export async function importShard(index: number, count: number): Promise<void> {
  const shard = partition(await unitTestFiles(), count)[index - 1];
  if (shard === undefined) throw new RangeError(`no shard ${index} of ${count}`);
  for (const file of shard) await import(new URL(file, TESTS).href);
}
