/**
 * Signed models: an Ed25519 signature (WebCrypto) of an artifact's sha256 and identity, kept beside
 * it as `<artifact>.sig`. The registry's sha256 only catches accidents (whoever can edit the
 * artifact can edit `registry.json` beside it); a signature can only be made with the private key,
 * which never sits in `models/`, and is checked with the public key the deployment configures
 * (`MODEL_PUBLIC_KEY`), never one read from `models/`.
 *
 * This module owns the `.sig` format and the key files (PKCS#8 and SPKI PEM, as `openssl pkey`
 * reads and writes them). The signature file (JSON):
 *
 * | field | meaning |
 * | --- | --- |
 * | `format_version` | 1 |
 * | `algorithm` | `"Ed25519"` |
 * | `key_id` | first 16 hex digits of the sha256 of the public key's SPKI bytes |
 * | `statement` | the signed text: JSON of {@link SignedStatement}, verified byte for byte |
 * | `signature` | base64 of the 64-byte Ed25519 signature of `statement`'s UTF-8 bytes |
 * @module
 */

import { z } from "zod";
import { writeFileAtomic } from "../tracking/atomic.ts";
import { readRegistry, sha256Hex } from "../tracking/registry.ts";
import { DEFAULT_MODELS_DIR, isRunId, runFilePath } from "../tracking/run_files.ts";
import { UserError } from "../errors.ts";
import { CreditModel, ModelLoadError } from "./artifact.ts";

/** What a signature vouches for: the artifact's bytes (by hash) and the identity it is served under. */
export interface SignedStatement {
  purpose: "credit-risk model artifact";
  artifact_sha256: string;
  run_id: string;
  /** Registry version at signing, or null for an artifact signed before (or without) registration. */
  model_version: number | null;
  threshold: number;
  schema_version: string;
  signed_at: string;
}

/** A public key ready to verify, with its short id. */
export interface ModelPublicKey {
  readonly key: CryptoKey;
  readonly id: string;
}

/** A private key ready to sign, with the id of its public half. */
export interface ModelSigningKey {
  readonly key: CryptoKey;
  readonly id: string;
}

/** A key that cannot be read or used. */
export class SigningKeyError extends UserError {
  override name = "SigningKeyError";
}

/** A model refused for its signature (missing, malformed, another key's, or not covering this artifact). */
export class SignatureError extends ModelLoadError {
  constructor(message: string) {
    super(message);
    this.name = "SignatureError";
  }
}

const ALGORITHM = "Ed25519";

const signatureFileSchema = z.object({
  format_version: z.literal(1),
  algorithm: z.literal(ALGORITHM),
  key_id: z.string().regex(/^[0-9a-f]{16}$/),
  statement: z.string().max(4096),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/),
});

const statementSchema = z.object({
  purpose: z.literal("credit-risk model artifact"),
  artifact_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  run_id: z.string(),
  model_version: z.number().int().positive().nullable(),
  threshold: z.number(),
  schema_version: z.string(),
  signed_at: z.string(),
});

/** The signature file of an artifact: `<artifact>.sig` beside it. */
export function signaturePath(artifactPath: string): string {
  return `${artifactPath}.sig`;
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function pem(label: string, der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g)!.join("\n");
  return `-----BEGIN ${label}-----\n${lines}\n-----END ${label}-----\n`;
}

/** The DER bytes of a PEM block with `label`, or of bare base64 text. */
function derOf(text: string, label: string, what: string): Uint8Array {
  const trimmed = text.trim();
  const block = trimmed.match(/^-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----$/);
  if (block && block[1] !== label) {
    throw new SigningKeyError(`${what} is a PEM "${block[1]}", expected "${label}"`);
  }
  const body = (block ? block[2] : trimmed).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+=*$/.test(body)) throw new SigningKeyError(`${what} is neither PEM nor base64`);
  return fromBase64(body);
}

async function keyIdOf(spki: Uint8Array): Promise<string> {
  return (await sha256Hex(spki)).slice(0, 16);
}

/** Parses a public key: SPKI as PEM (`-----BEGIN PUBLIC KEY-----`) or as bare base64. */
export async function importPublicKey(text: string, what = "the public key"): Promise<ModelPublicKey> {
  const spki = derOf(text, "PUBLIC KEY", what);
  try {
    const key = await crypto.subtle.importKey("spki", spki as Uint8Array<ArrayBuffer>, ALGORITHM, true, [
      "verify",
    ]);
    return { key, id: await keyIdOf(spki) };
  } catch (error) {
    throw new SigningKeyError(`${what} is not an Ed25519 public key: ${(error as Error).message}`);
  }
}

/** Parses a private key: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as {@link generateKeyPair} writes. */
export async function importSigningKey(text: string, what = "the private key"): Promise<ModelSigningKey> {
  const pkcs8 = derOf(text, "PRIVATE KEY", what);
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("pkcs8", pkcs8 as Uint8Array<ArrayBuffer>, ALGORITHM, true, ["sign"]);
  } catch (error) {
    throw new SigningKeyError(`${what} is not an Ed25519 private key: ${(error as Error).message}`);
  }
  // WebCrypto cannot derive the public half of a private key; the JWK export carries it (x).
  const jwk = await crypto.subtle.exportKey("jwk", key);
  const publicKey = await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", x: jwk.x },
    ALGORITHM,
    true,
    [
      "verify",
    ],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  return { key, id: await keyIdOf(spki) };
}

/** Reads a private key file; refuses one that others can read. */
export async function readSigningKey(path: string): Promise<ModelSigningKey> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      throw new SigningKeyError(
        `${path} can be read by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 ${path}`,
      );
    }
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof SigningKeyError) throw error;
    throw new SigningKeyError(`cannot read the private key ${path}: ${(error as Error).message}`);
  }
  return await importSigningKey(text, path);
}

/** A new key pair as PEM text: the private key (PKCS#8) and the public key (SPKI), with its base64 and id. */
export async function generateKeyPair(): Promise<
  { privatePem: string; publicPem: string; publicBase64: string; id: string }
> {
  const pair = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return {
    privatePem: pem("PRIVATE KEY", pkcs8),
    publicPem: pem("PUBLIC KEY", spki),
    publicBase64: toBase64(spki),
    id: await keyIdOf(spki),
  };
}

/** Signs `statement` and writes `<artifact>.sig` (atomically); returns the file's path. */
export async function writeSignature(
  artifactPath: string,
  statement: Omit<SignedStatement, "purpose" | "signed_at"> & { signed_at?: string },
  signer: ModelSigningKey,
): Promise<string> {
  // Key order is fixed here, and the verifier checks the exact bytes, so no canonical form is needed.
  const text = JSON.stringify(
    {
      purpose: "credit-risk model artifact",
      artifact_sha256: statement.artifact_sha256,
      run_id: statement.run_id,
      model_version: statement.model_version,
      threshold: statement.threshold,
      schema_version: statement.schema_version,
      signed_at: statement.signed_at ?? new Date().toISOString(),
    } satisfies SignedStatement,
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign(ALGORITHM, signer.key, new TextEncoder().encode(text)),
  );
  const path = signaturePath(artifactPath);
  await writeFileAtomic(
    path,
    JSON.stringify(
      {
        format_version: 1,
        algorithm: ALGORITHM,
        key_id: signer.id,
        statement: text,
        signature: toBase64(signature),
      },
      null,
      2,
    ) + "\n",
  );
  return path;
}

/**
 * Reads `<artifact>.sig` and checks it under `publicKey`; returns the statement it vouches for.
 * Throws {@link SignatureError} when the file is missing or malformed or the signature does not
 * verify. Whether the statement matches the artifact is the caller's to check (see
 * {@link checkStatement}).
 */
export async function verifySignatureFile(
  artifactPath: string,
  publicKey: ModelPublicKey,
): Promise<SignedStatement> {
  const path = signaturePath(artifactPath);
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new SignatureError(
        `model ${artifactPath} is not signed (no ${path}), and MODEL_PUBLIC_KEY requires a signature: ` +
          `sign it with deno task sign --run <run id> --key <private key file>`,
      );
    }
    throw new SignatureError(`signature file ${path} cannot be read: ${(error as Error).message}`);
  }
  const file = signatureFileSchema.safeParse(raw);
  if (!file.success) {
    throw new SignatureError(
      `signature file ${path} is malformed: ${
        file.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")
      }`,
    );
  }
  const ok = await crypto.subtle.verify(
    ALGORITHM,
    publicKey.key,
    fromBase64(file.data.signature) as Uint8Array<ArrayBuffer>,
    new TextEncoder().encode(file.data.statement),
  );
  if (!ok) {
    const other = file.data.key_id !== publicKey.id ? ` (it names key ${file.data.key_id})` : "";
    throw new SignatureError(
      `signature of model ${artifactPath} does not verify under MODEL_PUBLIC_KEY (key ${publicKey.id})${other}: ` +
        `signed with another key, or the signature file was altered`,
    );
  }
  let statement: unknown;
  try {
    statement = JSON.parse(file.data.statement);
  } catch {
    throw new SignatureError(`signature file ${path}: its signed statement is not JSON`);
  }
  const parsed = statementSchema.safeParse(statement);
  if (!parsed.success) throw new SignatureError(`signature file ${path}: its signed statement is malformed`);
  return parsed.data;
}

/** Refuses an artifact whose bytes or identity differ from what its signature vouches for. */
export function checkStatement(
  artifactPath: string,
  statement: SignedStatement,
  actual: { sha256: string; runId: string; threshold: number; schemaVersion: string; version: number | null },
): void {
  const mismatches: string[] = [];
  if (statement.artifact_sha256 !== actual.sha256) {
    mismatches.push(`sha256 ${actual.sha256}, signed ${statement.artifact_sha256}`);
  }
  if (statement.run_id !== actual.runId) {
    mismatches.push(`run id ${actual.runId}, signed ${statement.run_id}`);
  }
  if (statement.threshold !== actual.threshold) {
    mismatches.push(`threshold ${actual.threshold}, signed ${statement.threshold}`);
  }
  if (statement.schema_version !== actual.schemaVersion) {
    mismatches.push(`schema ${actual.schemaVersion}, signed ${statement.schema_version}`);
  }
  if (statement.model_version !== null && statement.model_version !== actual.version) {
    mismatches.push(`registry version ${actual.version ?? "none"}, signed ${statement.model_version}`);
  }
  if (mismatches.length > 0) {
    throw new SignatureError(
      `model ${artifactPath} is not the one its signature vouches for (${mismatches.join("; ")}): ` +
        `refusing a modified artifact`,
    );
  }
}

/** What {@link signRun} signed. */
export interface SignedRun {
  path: string;
  statement: Omit<SignedStatement, "purpose" | "signed_at">;
  keyId: string;
}

/**
 * Signs a run's `model.json`: its sha256, run id, registry version (null when unregistered),
 * threshold and schema. A registered artifact whose bytes differ from the registry's sha256 is
 * refused rather than signed, as is one that does not load.
 */
export async function signRun(
  runId: string,
  signer: ModelSigningKey,
  modelsDir = DEFAULT_MODELS_DIR,
): Promise<SignedRun> {
  if (!isRunId(runId)) throw new UserError(`--run ${JSON.stringify(runId)} is not a run id`);
  const registry = await readRegistry(modelsDir);
  const entry = registry.models.find((m) => m.run_id === runId);
  const path = entry
    ? (entry.artifact.startsWith("/") ? entry.artifact : `${modelsDir}/${entry.artifact}`)
    : runFilePath(runId, "model.json", modelsDir);
  let loaded;
  try {
    loaded = await CreditModel.load(path, entry?.sha256);
  } catch (error) {
    throw new UserError(`not signing run ${runId}: ${(error as Error).message}`);
  }
  if (loaded.model.artifact.run_id !== runId) {
    throw new UserError(`not signing run ${runId}: ${path} belongs to run ${loaded.model.artifact.run_id}`);
  }
  const statement = {
    artifact_sha256: loaded.sha256,
    run_id: runId,
    model_version: entry?.version ?? null,
    threshold: loaded.model.threshold,
    schema_version: loaded.model.artifact.schema_version,
  };
  return { path: await writeSignature(path, statement, signer), statement, keyId: signer.id };
}
