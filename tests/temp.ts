/**
 * Temporary folders for tests that are removed even when a test fails: {@link withTempDir} for one
 * test (try/finally), {@link moduleTempDir} for a folder kept until the module's last test is done
 * (removed by a `Deno.test.afterAll` hook, so no assertion-free "cleanup" test is needed).
 * @module
 */

/** Removes a folder and everything in it; an already absent folder is fine. */
export async function removeTree(dir: string): Promise<void> {
  try {
    await Deno.remove(dir, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

/** Runs `work` in a fresh temporary folder and removes the folder afterwards, whatever happens. */
export async function withTempDir<T>(prefix: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await work(dir);
  } finally {
    await removeTree(dir);
  }
}

// Registered when this module loads, once per isolate (per test module under `deno task test`, per
// shard under `deno task test:unit`): a hook registered from inside a running test would never run.
const teardowns: (() => unknown)[] = [];
Deno.test.afterAll(async () => {
  for (const teardown of teardowns.splice(0).reverse()) await teardown();
});

/** A temporary folder removed after the test module's last test, pass or fail; callable anywhere. */
export async function moduleTempDir(prefix: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  afterAllTests(() => removeTree(dir));
  return dir;
}

/** Runs `teardown` once after the test module's last test, pass or fail (last registered, first run). */
export function afterAllTests(teardown: () => unknown): void {
  teardowns.push(teardown);
}
