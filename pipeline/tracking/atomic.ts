/**
 * Atomic, durable file writes: a temporary file in the same folder, fsynced, renamed over the
 * target, then the folder fsynced. The rename makes a reader see either the old file or the whole
 * new one; the two fsyncs make that still true after a power cut (without the first, the rename can
 * reach the disk before the data and leave an empty file; without the second, the rename itself can
 * be lost).
 * @module
 */

/** The file-system calls an atomic write makes, in order; tests swap them to check order and failures. */
export interface AtomicFs {
  /** Writes the whole temporary file. */
  write(path: string, data: string | Uint8Array | ReadableStream<Uint8Array>): Promise<void>;
  /** fsyncs a file's data and metadata to disk. */
  syncFile(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsyncs a folder, so an entry renamed into it survives a power cut. */
  syncDir(path: string): Promise<void>;
  remove(path: string): Promise<void>;
}

async function fsync(path: string): Promise<void> {
  // On Linux, fsync through any descriptor of the file (or folder) flushes it.
  using file = await Deno.open(path, { read: true });
  await file.sync();
}

/** Bytes a streamed write lets pile up before it starts flushing them to disk. */
const SYNC_BYTES = 8 << 20;

/**
 * Writes a stream's pieces in order, flushing the data written so far (`syncData`) in the
 * background every {@link SYNC_BYTES}, one flush at a time: the fsync that follows then has only
 * the tail left, instead of holding up the end of a large write (about 60 ms for 50 MB here).
 */
async function writeStream(path: string, data: ReadableStream<Uint8Array>): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  let flushing: Promise<void> = Promise.resolve();
  let unsynced = 0;
  try {
    for await (const piece of data) {
      for (let written = 0; written < piece.length;) written += await file.write(piece.subarray(written));
      unsynced += piece.length;
      if (unsynced >= SYNC_BYTES) {
        await flushing;
        flushing = file.syncData();
        unsynced = 0;
      }
    }
  } catch (error) {
    await flushing.catch(() => {}); // not left running on a file about to close; the write error wins
    throw error;
  }
  await flushing;
}

/** The real calls (each looked up on `Deno` when made). */
export const DENO_FS: AtomicFs = {
  write: (path, data) =>
    typeof data === "string"
      ? Deno.writeTextFile(path, data)
      : data instanceof Uint8Array
      ? Deno.writeFile(path, data)
      : writeStream(path, data),
  syncFile: fsync,
  rename: (from, to) => Deno.rename(from, to),
  syncDir: fsync,
  remove: (path) => Deno.remove(path),
};

/**
 * Writes `data` to `path` atomically and durably, creating the parent folder when missing; a
 * failure before the rename leaves `path` as it was and no temporary file.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | ReadableStream<Uint8Array>,
  fs: AtomicFs = DENO_FS,
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash > 0 ? path.slice(0, slash) : slash === 0 ? "/" : ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await fs.write(tmp, data);
    await fs.syncFile(tmp);
    await fs.rename(tmp, path);
  } catch (error) {
    await fs.remove(tmp).catch(() => {});
    throw error;
  }
  await fs.syncDir(dir);
}

/** Writes `value` as pretty JSON to `path` atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
