/**
 * The server's settings (config.ts): the default prediction pool of each replica. The other
 * settings are checked beside the features they configure (audit_test.ts, monitoring_test.ts).
 */
import assert from "node:assert/strict";
import { configFromEnv, defaultBatchWorkers } from "../../pipeline/serving/config.ts";

const env = (vars: Record<string, string | undefined>) => configFromEnv((n) => vars[n]);

// Catches the pool not being split among replicas (4 pool threads behind WORKERS=2 on 2 cores), a
// share rounded up past the cores, a share of 0 (no pool: every request scored on the HTTP thread),
// and a lost cap of 4 on large machines. Expected values are min(4, cores) / workers by hand, floored, ≥ 1.
Deno.test("defaultBatchWorkers: min(4, cores) shared among the replicas, at least one each", () => {
  const cases: [cores: number, workers: number, expected: number][] = [
    [2, 2, 1],
    [8, 2, 2],
    [1, 3, 1],
    [16, 1, 4],
    [2, 1, 2],
    [4, 3, 1],
    [6, 1, 4],
  ];
  for (const [cores, workers, expected] of cases) {
    assert.equal(defaultBatchWorkers(cores, workers), expected, `cores ${cores}, workers ${workers}`);
  }
});

// Catches configFromEnv keeping the one-replica default whatever WORKERS says, and a default that
// overrides an explicit BATCH_WORKERS (0 included: scoring on the HTTP thread must stay possible).
Deno.test("BATCH_WORKERS: the default follows WORKERS; an explicit value is kept per replica", () => {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  assert.equal(env({}).batchWorkers, Math.min(4, cores));
  // 64 replicas share at most 4 threads: one each, whatever this machine has.
  assert.equal(env({ WORKERS: "64" }).batchWorkers, 1);
  assert.equal(env({ WORKERS: "2", BATCH_WORKERS: "3" }).batchWorkers, 3);
  assert.equal(env({ WORKERS: "2", BATCH_WORKERS: "0" }).batchWorkers, 0);
  assert.equal(env({ WORKERS: "64", BATCH_WORKERS: "4" }).batchWorkers, 4);
  assert.equal(env({ WORKERS: "", BATCH_WORKERS: "" }).batchWorkers, Math.min(4, cores));
  assert.throws(() => env({ WORKERS: "2", BATCH_WORKERS: "-1" }), {
    name: "ConfigError",
    message: /^BATCH_WORKERS must be a whole number from 0 to 64/,
  });
  assert.throws(() => env({ WORKERS: "0", BATCH_WORKERS: "2" }), {
    name: "ConfigError",
    message: /^WORKERS must be a whole number from 1 to 64/,
  });
});
