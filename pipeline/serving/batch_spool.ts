/**
 * Where a streamed batch's answer waits while its rows are scored and committed to the audit
 * trail: a decision is answered only once its row is durable, and an error found late (a bad row
 * under `strict=true`, the row cap, the body limit) must still be answerable with its own status,
 * so nothing is sent before the batch is complete. Memory holds one piece; the disk holds the
 * answer (about 50 bytes a row).
 *
 * The file is created 0600 and unlinked at once (Linux keeps it while open), so no copy of the
 * answer outlives the request, even if the process is killed.
 * @module
 */

const encoder = new TextEncoder();

/** An unlinked temporary file written piece by piece, then read back once. */
export class Spool {
  readonly #file: Deno.FsFile;
  #bytes = 0;
  #closed = false;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /** Creates a spool file in `folder` (made if missing). */
  static async create(folder: string): Promise<Spool> {
    await Deno.mkdir(folder, { recursive: true });
    const path = `${folder}/.batch-${crypto.randomUUID()}.spool`;
    const file = await Deno.open(path, { read: true, write: true, createNew: true, mode: 0o600 });
    try {
      await Deno.remove(path);
    } catch (error) {
      file.close();
      throw error;
    }
    return new Spool(file);
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Appends text (UTF-8). */
  write(text: string): Promise<void> {
    return this.writeBytes(encoder.encode(text));
  }

  /** Appends bytes. */
  async writeBytes(bytes: Uint8Array): Promise<void> {
    for (let written = 0; written < bytes.length;) {
      written += await this.#file.write(bytes.subarray(written));
    }
    this.#bytes += bytes.length;
  }

  /** The content from the start; the file is closed when the stream ends or is cancelled. */
  async readable(): Promise<ReadableStream<Uint8Array>> {
    await this.#file.seek(0, Deno.SeekMode.Start);
    this.#closed = true; // the stream owns the file now
    return this.#file.readable;
  }

  /** Closes the file (its space is freed); safe to call more than once. */
  discard(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }
}
