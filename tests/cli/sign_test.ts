/**
 * `deno task keygen`, `deno task sign` and `deno task train --sign-key`: the key pair is written
 * with the private half 0600 and never over an existing key; a signed run is served under the
 * printed `MODEL_PUBLIC_KEY`; a run whose artifact no longer matches the registry is not signed; and
 * training with a key leaves a signature that the server accepts.
 */
import assert from "node:assert/strict";
import { main as keygen } from "../../pipeline/cli/keygen.ts";
import { main as sign } from "../../pipeline/cli/sign.ts";
import { parseTrainArgs } from "../../pipeline/cli/train.ts";
import { importPublicKey, readSigningKey } from "../../pipeline/model/signature.ts";
import { DEFAULT_TRAIN_OPTIONS, train } from "../../pipeline/model/train.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { trainFixtureModel } from "../fixtures.ts";
import { withTempDir } from "../temp.ts";

/** Runs a CLI main, returning what it printed on standard output. */
async function printed(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    return { code: await run(), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

Deno.test("keygen writes a 0600 private key and its public key, and never overwrites a key", async () => {
  await withTempDir("keygen-", async (dir) => {
    const key = `${dir}/signing.key`;
    const { code, out } = await printed(() => keygen(["--out", key]));
    assert.equal(code, 0);
    assert.equal((await Deno.stat(key)).mode! & 0o777, 0o600);
    const base64 = out.match(/^MODEL_PUBLIC_KEY=(\S+)$/m)![1];
    const fromLine = await importPublicKey(base64);
    assert.equal(fromLine.id, (await importPublicKey(await Deno.readTextFile(`${key}.pub`))).id);
    assert.equal((await readSigningKey(key)).id, fromLine.id);
    const before = await Deno.readTextFile(key);
    await assert.rejects(keygen(["--out", key]), /exists; not overwriting a key/);
    assert.equal(await Deno.readTextFile(key), before);
  });
});

Deno.test("sign signs a registered run that the server then accepts, and refuses a modified artifact", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 5 });
  try {
    await withTempDir("sign-", async (dir) => {
      const { out } = await printed(() => keygen(["--out", `${dir}/k`]));
      const publicKey = await importPublicKey(out.match(/^MODEL_PUBLIC_KEY=(\S+)$/m)![1]);
      const runId = fixture.version.run_id;
      const args = ["--run", runId, "--key", `${dir}/k`, "--models-dir", fixture.modelsDir];
      const signed = await printed(() => sign(args));
      assert.match(
        signed.out,
        new RegExp(`signed ${runId} \\(version 1, sha256 ${fixture.version.sha256}\\)`),
      );
      const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir, publicKey });
      assert.equal(holder.current!.signedBy, publicKey.id);
      // An artifact that no longer matches its registry entry is not vouched for.
      await Deno.writeTextFile(fixture.artifactPath, (await Deno.readTextFile(fixture.artifactPath)) + " ");
      await assert.rejects(sign(args), /not signing run .*refusing a modified artifact/);
      await assert.rejects(sign(["--run", "../etc", "--key", `${dir}/k`]), /is not a run id/);
    });
  } finally {
    await fixture.cleanup();
  }
});

Deno.test("train --sign-key (or MODEL_SIGNING_KEY_FILE) signs the registered model", async () => {
  assert.equal(parseTrainArgs(["--sign-key", "a.key"], () => "b.key").signKeyFile, "a.key");
  assert.equal(
    parseTrainArgs([], (n) => n === "MODEL_SIGNING_KEY_FILE" ? "b.key" : undefined).signKeyFile,
    "b.key",
  );
  assert.equal(parseTrainArgs([], () => undefined).signKeyFile, undefined);
  await withTempDir("train-sign-", async (dir) => {
    const { out } = await printed(() => keygen(["--out", `${dir}/k`]));
    const publicKey = await importPublicKey(out.match(/^MODEL_PUBLIC_KEY=(\S+)$/m)![1]);
    const result = await train({
      ...DEFAULT_TRAIN_OPTIONS,
      modelsDir: `${dir}/models`,
      trials: 2,
      folds: 2,
      searchRepeats: 1,
      searchTrees: 10,
      trees: 10,
      signingKey: await readSigningKey(`${dir}/k`),
    });
    assert.equal(result.signature, `${dir}/models/runs/${result.runId}/model.json.sig`);
    const holder = await ModelHolder.open({ modelsDir: `${dir}/models`, publicKey });
    assert.equal(holder.current!.runId, result.runId);
    assert.equal(holder.current!.version, result.modelVersion);
  });
});
