/**
 * Free disk space for batch admission: `statfs` through node:fs agrees with `df`, and the check
 * refuses below the minimum, asks a missing folder's nearest existing parent, and names the
 * setting. (The route's 503 is tested in batch_route_test.ts through the injected reader.)
 */
import assert from "node:assert/strict";
import { requireFreeSpace, statfsFreeSpace } from "../../pipeline/serving/batch_disk.ts";
import { ApiError } from "../../pipeline/serving/errors.ts";
import { withTempDir } from "../temp.ts";

Deno.test("statfs free space agrees with df's available bytes", async () => {
  await withTempDir("credit-disk-", async (dir) => {
    const df = async () => {
      const { stdout } = await new Deno.Command("df", { args: ["-B1", "--output=avail", dir] }).output();
      return Number(new TextDecoder().decode(stdout).trim().split("\n")[1]);
    };
    const before = await df();
    const free = await statfsFreeSpace(dir);
    const after = await df();
    // Other processes write meanwhile: within 64 MiB of df's readings taken around it.
    const slack = 64 * 1024 * 1024;
    assert.ok(
      free >= Math.min(before, after) - slack && free <= Math.max(before, after) + slack,
      `${free} vs ${before}/${after}`,
    );
  });
});

Deno.test("requireFreeSpace refuses below the minimum, at the nearest existing parent of a missing folder", async () => {
  await withTempDir("credit-disk-", async (dir) => {
    const asked: string[] = [];
    const reader = (free: number) => (path: string) => {
      asked.push(path);
      return Promise.resolve(free);
    };
    await requireFreeSpace([`${dir}/audit/deeper`, dir], 1_000, reader(1_000));
    assert.deepEqual(asked, [dir, dir]);
    await assert.rejects(
      () => requireFreeSpace([dir], 1_000, reader(999)),
      (error: ApiError) =>
        error.status === 503 && error.code === "disk_space_low" && /BATCH_MIN_FREE_BYTES/.test(error.message),
    );
    // 0 turns the check off: the reader is not even asked.
    asked.length = 0;
    await requireFreeSpace([dir], 0, reader(0));
    assert.deepEqual(asked, []);
  });
});
