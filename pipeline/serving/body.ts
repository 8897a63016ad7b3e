/**
 * Request bodies: the media type is checked before anything is read (415), a declared length over
 * the limit is refused without reading (413), and a body without a declared length is read only
 * up to the limit.
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";
import type { ServeBindings } from "./context.ts";

/** The media type of a Content-Type header, lower case without parameters, or "" when absent. */
export function mediaType(c: Context): string {
  const header = c.req.header("content-type");
  return header ? header.split(";", 1)[0].trim().toLowerCase() : "";
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
  const declared = c.req.header("content-length");
  if (declared === undefined) return false;
  if (!/^\d+$/.test(declared)) throw new ApiError(400, "bad_request", "Content-Length is not a number");
  if (Number(declared) > limit) throw tooLarge(limit);
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
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
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
