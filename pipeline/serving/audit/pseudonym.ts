/**
 * Pseudonyms for the identifiers a client sends with batch rows (the `id` column): the trail keeps
 * HMAC-SHA-256(key, id) instead of the id, so a lender holding `AUDIT_PSEUDONYM_KEY` can find a
 * customer's decisions (by computing the same pseudonym) while the trail alone names no one.
 * @module
 */

import { createHmac, randomBytes } from "node:crypto";

/** The prefix that marks a stored pseudonym. */
export const PSEUDONYM_PREFIX = "hmac-sha256:";

/** Keyed pseudonyms: the first 128 bits of HMAC-SHA-256, hex, prefixed. */
export class Pseudonymiser {
  readonly #key: Uint8Array;
  /** Whether the key was generated at start (no `AUDIT_PSEUDONYM_KEY`): pseudonyms link nothing across restarts. */
  readonly ephemeral: boolean;

  /** With no key, a random one for this process only. */
  constructor(key?: string) {
    this.ephemeral = !key;
    this.#key = key ? new TextEncoder().encode(key) : new Uint8Array(randomBytes(32));
  }

  /** The pseudonym of one identifier. */
  pseudonym = (id: string): string =>
    PSEUDONYM_PREFIX + createHmac("sha256", this.#key).update(id, "utf8").digest("hex").slice(0, 32);
}
