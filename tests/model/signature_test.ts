/**
 * Model signatures (`pipeline/model/signature.ts`): what a signature vouches for, and every way a
 * signature file can fail to vouch for an artifact. The key files are checked against openssl, an
 * implementation independent of WebCrypto: it reads our private key and derives the same public key.
 */
import assert from "node:assert/strict";
import {
  checkStatement,
  generateKeyPair,
  importPublicKey,
  importSigningKey,
  readSigningKey,
  SignatureError,
  signaturePath,
  SigningKeyError,
  verifySignatureFile,
  writeSignature,
} from "../../pipeline/model/signature.ts";
import { withTempDir } from "../temp.ts";

const pair = await generateKeyPair();
const signer = await importSigningKey(pair.privatePem);
const verifier = await importPublicKey(pair.publicPem);
const statement = {
  artifact_sha256: "a".repeat(64),
  run_id: "20261128-120000-abcdef",
  model_version: 3,
  threshold: 0.37,
  schema_version: "1",
};

Deno.test("a signature verifies under its public key, given as PEM or as bare base64", async () => {
  await withTempDir("sig-", async (dir) => {
    const artifact = `${dir}/model.json`;
    assert.equal(await writeSignature(artifact, statement, signer), `${artifact}.sig`);
    for (const key of [verifier, await importPublicKey(pair.publicBase64)]) {
      const signed = await verifySignatureFile(artifact, key);
      assert.deepEqual({ ...signed, signed_at: undefined, purpose: undefined }, {
        ...statement,
        signed_at: undefined,
        purpose: undefined,
      });
    }
    assert.equal(signer.id, verifier.id, "the private key's id is its public half's");
  });
});

Deno.test("a signature made with another key is refused, naming both keys", async () => {
  await withTempDir("sig-", async (dir) => {
    const other = await importSigningKey((await generateKeyPair()).privatePem);
    await writeSignature(`${dir}/model.json`, statement, other);
    const error = await verifySignatureFile(`${dir}/model.json`, verifier).catch((e) => e);
    assert.ok(error instanceof SignatureError);
    assert.match(
      error.message,
      new RegExp(`does not verify under MODEL_PUBLIC_KEY \\(key ${verifier.id}\\)`),
    );
    assert.match(error.message, new RegExp(`names key ${other.id}`));
  });
});

Deno.test("an edited statement, a missing file or a malformed file is refused", async () => {
  await withTempDir("sig-", async (dir) => {
    const artifact = `${dir}/model.json`;
    assert.match(
      String(await verifySignatureFile(artifact, verifier).catch((e) => e)),
      /is not signed \(no .*model\.json\.sig\).*deno task sign/,
    );
    await writeSignature(artifact, statement, signer);
    const file = JSON.parse(await Deno.readTextFile(signaturePath(artifact)));
    // Raising the threshold inside the signed text: the bytes no longer match the signature.
    file.statement = file.statement.replace('"threshold":0.37', '"threshold":0.999');
    await Deno.writeTextFile(signaturePath(artifact), JSON.stringify(file));
    assert.match(String(await verifySignatureFile(artifact, verifier).catch((e) => e)), /does not verify/);
    await Deno.writeTextFile(signaturePath(artifact), "{}");
    assert.match(String(await verifySignatureFile(artifact, verifier).catch((e) => e)), /is malformed/);
  });
});

Deno.test("checkStatement names every field in which the artifact differs from what was signed", () => {
  const signed = {
    ...statement,
    purpose: "credit-risk model artifact" as const,
    signed_at: "2026-11-28T00:00:00Z",
  };
  const actual = {
    sha256: statement.artifact_sha256,
    runId: statement.run_id,
    threshold: 0.37,
    schemaVersion: "1",
  };
  checkStatement("m.json", signed, { ...actual, version: 3 });
  assert.throws(
    () =>
      checkStatement("m.json", signed, { ...actual, sha256: "b".repeat(64), threshold: 0.999, version: 4 }),
    /sha256 b{64}, signed a{64}; threshold 0\.999, signed 0\.37; registry version 4, signed 3/,
  );
  // An artifact signed before registration vouches for no version.
  checkStatement("m.json", { ...signed, model_version: null }, { ...actual, version: 9 });
});

Deno.test("a private key file others can read is refused; a non-key is named", async () => {
  await withTempDir("sig-", async (dir) => {
    const path = `${dir}/signing.key`;
    await Deno.writeTextFile(path, pair.privatePem, { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    await assert.rejects(readSigningKey(path), /can be read by others \(mode 644\); chmod 600/);
    await Deno.chmod(path, 0o600);
    assert.equal((await readSigningKey(path)).id, verifier.id);
    await assert.rejects(importPublicKey(pair.privatePem), SigningKeyError);
    await assert.rejects(importPublicKey("not a key!"), /neither PEM nor base64/);
  });
});

Deno.test({
  name: "openssl reads the generated private key and derives the same public key",
  ignore: !(await Deno.stat("/usr/bin/openssl").then(() => true, () => false)),
  fn: async () => {
    await withTempDir("sig-openssl-", async (dir) => {
      await Deno.writeTextFile(`${dir}/k.pem`, pair.privatePem);
      const out = await new Deno.Command("/usr/bin/openssl", {
        args: ["pkey", "-in", `${dir}/k.pem`, "-pubout"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      assert.equal(new TextDecoder().decode(out.stdout), pair.publicPem);
    });
  },
});
