/**
 * Atomic file writes: a temporary file in the same folder, then a rename, so a reader sees
 * either the old file or the whole new one, never half of it.
 * @module
 */

/**
 * Writes `data` to `path` atomically, creating the parent folder when missing; a stream that fails
 * leaves `path` as it was.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | ReadableStream<Uint8Array>,
): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) : ".";
  await Deno.mkdir(dir, { recursive: true });
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** Writes `value` as pretty JSON to `path` atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
