/**
 * Free disk space for batch admission: a batch writes its rows into the audit trail (and its
 * answer into a spool file) before answering, so new batches are refused while the disk under
 * those folders is low (`BATCH_MIN_FREE_BYTES`), before they fill it and take `/predict` down too.
 *
 * Free space is read with `statfs(2)` through `node:fs/promises` (Deno 2 implements it; it needs
 * `--allow-sys`, which `deno task serve` grants). The bytes available to an unprivileged user
 * (`bavail`) count, not the root reserve. The reader is a parameter so tests inject their own.
 * @module
 */

import { statfs } from "node:fs/promises";
import { ApiError } from "./errors.ts";

/** Bytes free for this process under `path` (a folder that exists). */
export type FreeSpace = (path: string) => Promise<number>;

/** Free space as `statfs(2)` reports it: blocks available to unprivileged users times the block size. */
export const statfsFreeSpace: FreeSpace = async (path) => {
  const stats = await statfs(path);
  return Number(stats.bavail) * Number(stats.bsize);
};

/**
 * Throws 503 (`disk_space_low`, Retry-After) when any of `folders` has less than `minFree` bytes
 * free. A folder that does not exist yet is checked at its nearest existing parent.
 */
export async function requireFreeSpace(
  folders: readonly string[],
  minFree: number,
  freeSpace: FreeSpace = statfsFreeSpace,
): Promise<void> {
  if (minFree <= 0) return;
  for (const folder of new Set(folders)) {
    const free = await freeSpace(await existingAncestor(folder));
    if (free < minFree) {
      throw new ApiError(
        503,
        "disk_space_low",
        `only ${megabytes(free)} MB are free on the disk under ${folder}, below BATCH_MIN_FREE_BYTES ` +
          `(${megabytes(minFree)} MB): batches are refused until space is freed`,
        { free_bytes: free, min_free_bytes: minFree },
      );
    }
  }
}

async function existingAncestor(folder: string): Promise<string> {
  let path = folder === "" ? "." : folder;
  for (;;) {
    try {
      await Deno.stat(path);
      return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      const slash = path.replace(/\/+$/, "").lastIndexOf("/");
      if (slash < 0) return ".";
      path = slash === 0 ? "/" : path.slice(0, slash);
    }
  }
}

function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(0);
}
