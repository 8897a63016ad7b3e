/**
 * Signed models in the server (`MODEL_PUBLIC_KEY`): the reproduction — an artifact whose
 * threshold was raised and whose sha256 was recomputed in `registry.json` beside it — is served
 * without a key (the registry check catches accidents only) and refused under one, at start and on
 * `POST /admin/reload`, while the signed model keeps serving. A correctly signed model is accepted;
 * one signed with another key, or unsigned, is refused. The key never comes from `models/`.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { modelPublicKey } from "../../pipeline/serving/server.ts";
import {
  generateKeyPair,
  importPublicKey,
  importSigningKey,
  signRun,
} from "../../pipeline/model/signature.ts";
import { sha256Hex } from "../../pipeline/tracking/mod.ts";
import { germanApplicants, type ModelFixture, trainFixtureModel } from "../fixtures.ts";
import { withTempDir } from "../temp.ts";

const TOKEN = "holder-test-admin-token-0123456789";
const pair = await generateKeyPair();
const signer = await importSigningKey(pair.privatePem);
const publicKey = await importPublicKey(pair.publicBase64);
const applicant = (await germanApplicants())[0];

/** The tampering: threshold raised in the artifact, its new sha256 written into the registry. */
async function tamperAndRehash(fixture: ModelFixture): Promise<void> {
  const text = await Deno.readTextFile(fixture.artifactPath);
  const edited = text.replace(`"threshold":${fixture.artifact.threshold}`, '"threshold":0.999');
  assert.notEqual(edited, text);
  await Deno.writeTextFile(fixture.artifactPath, edited);
  const registryPath = `${fixture.modelsDir}/registry.json`;
  const registry = await Deno.readTextFile(registryPath);
  await Deno.writeTextFile(
    registryPath,
    registry.replace(fixture.version.sha256, await sha256Hex(new TextEncoder().encode(edited))),
  );
}

function appOf(holder: ModelHolder) {
  const app = createApp({ holder, logger: new Logger("off"), config: { adminToken: TOKEN } });
  return {
    reload: () =>
      app.request("/admin/reload", { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } }),
    model: async () => await (await app.request("/model")).json(),
    threshold: async () =>
      (await (await app.request("/predict?explain=false", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(applicant),
      })).json()).threshold,
  };
}

Deno.test("without a key, a re-hashed tampered model is served (the issue's finding, the old behaviour)", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 5, threshold: 0.4 });
  try {
    const server = appOf(await ModelHolder.open({ modelsDir: fixture.modelsDir }));
    await tamperAndRehash(fixture);
    const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
    assert.equal(holder.current!.verified, true);
    assert.equal(holder.current!.model.threshold, 0.999);
    assert.equal(holder.current!.signedBy, null);
    assert.equal((await server.reload()).status, 200);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test("under a key, a re-hashed tampered model is refused at start and on reload; the signed one serves on", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 5, threshold: 0.4 });
  try {
    await signRun(fixture.version.run_id, signer, fixture.modelsDir);
    const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir, publicKey });
    assert.equal(holder.current!.signedBy, publicKey.id);
    const server = appOf(holder);
    assert.equal((await server.model()).signed_by, publicKey.id);

    await tamperAndRehash(fixture);
    // The registry's check passes now, so the refusal can only come from the signature.
    await assert.rejects(
      ModelHolder.open({ modelsDir: fixture.modelsDir, publicKey }),
      /the registry lists sha256 [0-9a-f]{64}, but its signature covers [0-9a-f]{64}: refusing a modified artifact/,
    );
    // Bumping a registered version's hash changes which signed bytes the reload looks for: a fresh
    // holder (a restart) refuses, and a running one keeps its model on reload.
    const response = await server.reload();
    assert.equal(response.status, 409);
    assert.match((await response.json()).message, /signature covers/);
    assert.equal(await server.threshold(), 0.4, "the signed model still decides");
  } finally {
    await fixture.cleanup();
  }
});

Deno.test("under a key, an artifact edited without touching the registry names the signature, not the registry", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 5, threshold: 0.4 });
  try {
    await signRun(fixture.version.run_id, signer, fixture.modelsDir);
    const text = await Deno.readTextFile(fixture.artifactPath);
    await Deno.writeTextFile(fixture.artifactPath, text.replace('"threshold":0.4', '"threshold":0.999'));
    await assert.rejects(
      ModelHolder.open({ modelsDir: fixture.modelsDir, publicKey }),
      /has sha256 [0-9a-f]{64}, but its signature expects [0-9a-f]{64}: refusing a modified artifact/,
    );
  } finally {
    await fixture.cleanup();
  }
});

Deno.test("under a key, an unsigned model and one signed with another key are refused; without a key both serve", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 5 });
  try {
    await assert.rejects(
      ModelHolder.open({ modelsDir: fixture.modelsDir, publicKey }),
      /is not signed \(no .*model\.json\.sig\), and MODEL_PUBLIC_KEY requires a signature/,
    );
    const other = await importSigningKey((await generateKeyPair()).privatePem);
    await signRun(fixture.version.run_id, other, fixture.modelsDir);
    await assert.rejects(
      ModelHolder.open({ modelsDir: fixture.modelsDir, publicKey }),
      new RegExp(`does not verify under MODEL_PUBLIC_KEY \\(key ${publicKey.id}\\)`),
    );
    assert.equal((await ModelHolder.open({ modelsDir: fixture.modelsDir })).current!.signedBy, null);
  } finally {
    await fixture.cleanup();
  }
});

Deno.test("a newly promoted, signed model is swapped in on reload under the key", async () => {
  const first = await trainFixtureModel({ nEstimators: 5, threshold: 0.4 });
  try {
    await signRun(first.version.run_id, signer, first.modelsDir);
    const server = appOf(await ModelHolder.open({ modelsDir: first.modelsDir, publicKey }));
    const second = await trainFixtureModel({
      nEstimators: 5,
      seed: 2,
      threshold: 0.3,
      modelsDir: first.modelsDir,
    });
    assert.equal((await server.reload()).status, 409, "promoted but not yet signed: refused");
    assert.equal(await server.threshold(), 0.4);
    await signRun(second.version.run_id, signer, first.modelsDir);
    const answer = await (await server.reload()).json();
    assert.equal(answer.changed, true);
    assert.equal(answer.model_version, second.version.version);
    assert.equal(await server.threshold(), 0.3);
  } finally {
    await first.cleanup();
  }
});

Deno.test("the public key is read from config, and a key file inside the models folder is refused", async () => {
  await withTempDir("holder-key-", async (dir) => {
    await Deno.mkdir(`${dir}/models`);
    await Deno.writeTextFile(`${dir}/models/model.pub`, pair.publicPem);
    await Deno.writeTextFile(`${dir}/model.pub`, pair.publicPem);
    const modelsDir = `${dir}/models`;
    assert.equal(await modelPublicKey({ modelsDir }), undefined);
    assert.equal((await modelPublicKey({ modelsDir, modelPublicKey: pair.publicBase64 }))!.id, publicKey.id);
    assert.equal(
      (await modelPublicKey({ modelsDir, modelPublicKeyFile: `${dir}/model.pub` }))!.id,
      publicKey.id,
    );
    await assert.rejects(
      modelPublicKey({ modelsDir, modelPublicKeyFile: `${dir}/models/model.pub` }),
      /is inside the models folder/,
    );
    await assert.rejects(
      modelPublicKey({ modelsDir, modelPublicKey: "c2hvcnQ=" }),
      /not an Ed25519 public key/,
    );
  });
});
