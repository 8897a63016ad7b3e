/**
 * Bearer-token checks for the protected routes (`/admin/*` with `ADMIN_TOKEN`, `GET /audit` with
 * `AUDIT_TOKEN`): 401 with a `WWW-Authenticate` challenge when no token is sent, 403 when it is
 * wrong, the comparison taking the same time whatever the token.
 * @module
 */

import type { Context } from "hono";
import { ApiError } from "./errors.ts";

/**
 * Throws unless the request carries `Authorization: Bearer <token>`. `realm` names the challenge
 * and `tokenName` the setting in the 401 message (e.g. "admin", "ADMIN_TOKEN").
 */
export async function requireBearer(
  c: Context,
  token: string,
  realm: string,
  tokenName: string,
): Promise<void> {
  const match = c.req.header("authorization")?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) {
    c.header("WWW-Authenticate", `Bearer realm="${realm}"`);
    throw new ApiError(401, "unauthorized", `send Authorization: Bearer <${tokenName}>`);
  }
  if (!await sameSecret(match[1], token)) throw new ApiError(403, "forbidden", "the token is not valid");
}

/** Compares digests in constant time, so the time taken says nothing about the token. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const encode = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encode.encode(given)),
    crypto.subtle.digest("SHA-256", encode.encode(expected)),
  ]);
  const x = new Uint8Array(a), y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}
