/**
 * Request bodies: the media type is checked before anything is read (415), a declared length over
 * the limit is refused without reading (413), and a body without a declared length is read only
 * up to the limit.
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";
import type { ServeBindings } from "./context.ts";

/** The media type of a Content-Type header value, lower case without parameters, or "" when absent. */
export function mediaTypeOf(header: string | null | undefined): string {
  return header ? header.split(";", 1)[0].trim().toLowerCase() : "";
}

/** The media type of the request's Content-Type header (see {@link mediaTypeOf}). */
export function mediaType(c: Context): string {
  return mediaTypeOf(c.req.header("content-type"));
}

/** A Content-Length header value as a number, or null when absent or not a decimal number. */
export function declaredLength(header: string | null | undefined): number | null {
  return header != null && /^\d+$/.test(header) ? Number(header) : null;
}

/** Whether a Content-Length header value declares a length of at most `limit` (absent: no). */
export function declaredWithin(header: string | null | undefined, limit: number): boolean {
  const length = declaredLength(header);
  return length !== null && length <= limit;
}

/** Throws 415 unless the request's media type is one of `accepted`. */
export function requireMediaType(c: Context, accepted: readonly string[]): string {
  const type = mediaType(c);
  if (!accepted.includes(type)) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      `expected Content-Type ${accepted.join(" or ")}, got ${type === "" ? "none" : type}`,
    );
  }
  return type;
}

/** Throws 413 when the declared Content-Length exceeds `limit`. */
function checkDeclaredLength(c: Context, limit: number): boolean {
  const header = c.req.header("content-length");
  if (header === undefined) return false;
  const declared = declaredLength(header);
  if (declared === null) throw new ApiError(400, "bad_request", "Content-Length is not a number");
  if (declared > limit) throw tooLarge(limit);
  return true;
}

/** The body as text, at most `limit` bytes (413 beyond). */
export async function readText(c: Context, limit: number): Promise<string> {
  if (checkDeclaredLength(c, limit) || c.req.raw.body === null) return await c.req.text();
  const reader = c.req.raw.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return UTF8.decode(concatChunks(chunks, size));
}

/** One decoder for every body: `decode` without `stream` keeps no state between calls. */
export const UTF8: TextDecoder = new TextDecoder();

/** `chunks` (`size` bytes in all) as one array; a lone chunk is returned as it is, not copied. */
export function concatChunks(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length <= 1) return chunks[0] ?? new Uint8Array(0);
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * The body as a byte stream that errors with 413 once more than `limit` bytes have come (a
 * declared length over the limit is refused before anything is read).
 */
export function limitedBody(c: Context, limit: number): ReadableStream<Uint8Array> {
  checkDeclaredLength(c, limit);
  const body = c.req.raw.body;
  if (body === null) return new ReadableStream({ start: (controller) => controller.close() });
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(bytes, controller) {
        size += bytes.byteLength;
        if (size > limit) controller.error(tooLarge(limit));
        else controller.enqueue(bytes);
      },
    }),
  );
}

/**
 * Route middleware for a JSON body validated downstream by zod-openapi: checks the media type and
 * the size, and hands the text on through Hono's body cache so it is read once.
 */
export function jsonBody(limit: () => number): MiddlewareHandler {
  return async (c, next) => {
    requireMediaType(c, ["application/json"]);
    const declared = checkDeclaredLength(c, limit());
    // Read already by the server, under its body deadline (server.ts).
    const read = (c.env as ServeBindings | undefined)?.bodyText;
    if (read !== undefined) (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(read);
    else if (!declared) {
      const text = await readText(c, limit());
      // Hono keeps promises in its body cache (its type says string).
      (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
    }
    await next();
  };
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, "payload_too_large", `the request body exceeds the limit of ${limit} bytes`, {
    limit_bytes: limit,
  });
}
