/**
 * Model integrity on a real server process: an artifact whose sha256 differs from the registry's
 * (edited, truncated, or a registry pointing at other bytes) is refused at start with exit 1 and a
 * message naming the mismatch; the same on `POST /admin/reload` answers 409 while the previous good
 * model keeps serving every request, and the audit trail shows which model decided each one.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { germanApplicants, serveProcess, trainFixtureModel } from "../fixtures.ts";
import { generateKeyPair, importSigningKey, signRun } from "../../pipeline/model/signature.ts";
import { sha256Hex } from "../../pipeline/tracking/mod.ts";

const TOKEN = "integrity-test-token-0123456789";
const applicants = await germanApplicants();

Deno.test("a tampered artifact is refused at start: exit 1, the mismatch named, nothing served", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 5 });
  const original = await Deno.readFile(fixture.artifactPath);
  const registryPath = `${fixture.modelsDir}/registry.json`;
  const registry = await Deno.readTextFile(registryPath);
  const cases: [string, () => Promise<void>, RegExp][] = [
    [
      "a threshold edited",
      () =>
        Deno.writeTextFile(
          fixture.artifactPath,
          new TextDecoder().decode(original).replace('"threshold":0.5', '"threshold":0.1'),
        ),
      /has sha256 [0-9a-f]{64}, but the registry expects [0-9a-f]{64}: refusing a modified artifact/,
    ],
    [
      "one byte flipped in a tree",
      () => {
        const bytes = original.slice();
        const at = bytes.length >> 1;
        bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
        return Deno.writeFile(fixture.artifactPath, bytes);
      },
      /refusing a modified artifact/,
    ],
    [
      "truncated",
      () => Deno.writeFile(fixture.artifactPath, original.slice(0, 1000)),
      /refusing a modified artifact/,
    ],
    [
      "the registry's sha256 changed",
      () => Deno.writeTextFile(registryPath, registry.replace(fixture.version.sha256, "0".repeat(64))),
      /but the registry expects 0{64}: refusing a modified artifact/,
    ],
    ["deleted", () => Deno.remove(fixture.artifactPath), /cannot read model .*model\.json/],
  ];
  try {
    for (const [name, tamper, message] of cases) {
      await tamper();
      const child = serveProcess({ MODELS_DIR: fixture.modelsDir, AUDIT: "off" }, fixture.modelsDir);
      const { code, stderr, stdout } = await child.output();
      const text = new TextDecoder().decode(stderr);
      assert.equal(code, 1, `${name}: ${text}`);
      assert.match(text, message, `${name}: ${text}`);
      assert.doesNotMatch(new TextDecoder().decode(stdout), /"listening"/, name);
      await Deno.writeFile(fixture.artifactPath, original);
      await Deno.writeTextFile(registryPath, registry);
    }
  } finally {
    await fixture.cleanup();
  }
});

Deno.test("a tampered artifact is refused on reload (409); the previous model serves on, no request fails", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 10, seed: 3 });
  const auditDb = `${fixture.modelsDir}/audit.sqlite`;
  const child = serveProcess(
    { MODELS_DIR: fixture.modelsDir, ADMIN_TOKEN: TOKEN, AUDIT_DB: auditDb },
    fixture.modelsDir,
  );
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let stop = false;
  let clients: Promise<void>[] = [];
  try {
    let buffered = "";
    let base: URL | undefined;
    while (!base) {
      const { value, done } = await reader.read();
      if (done) {
        const errors = await new Response(child.stderr).text();
        throw new Error(`the server did not start: ${buffered}\n${errors}`);
      }
      buffered += value;
      const line = buffered.split("\n").find((l) => l.includes('"listening"'));
      if (line) base = new URL(JSON.parse(line).url);
    }
    (async () => {
      while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain the log */ }
    })();

    const failures: string[] = [];
    const versions: number[] = [];
    let served = 0;
    // Each client runs until told to stop: the test waits for answers, never for a fixed time, so a
    // slow machine makes it slower, not red.
    const client = async (k: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const response = await fetch(new URL("/predict", base), {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(applicants[(k * 37 + i) % applicants.length]),
          });
          const body = await response.json();
          if (response.status !== 200) failures.push(`${response.status} ${JSON.stringify(body)}`);
          else versions.push(body.model_version);
        } catch (error) {
          failures.push(`request failed: ${(error as Error).message}`);
          return;
        }
        served++;
      }
    };
    /** Waits until `count` more answers have come back (at most 60 s). */
    const answers = async (count: number, what: string) => {
      const target = served + count;
      const deadline = Date.now() + 60_000;
      while (served < target) {
        assert.ok(Date.now() < deadline, `${what}: ${served} of ${target} answers after 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const reload = async () => {
      const response = await fetch(new URL("/admin/reload", base), {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return { status: response.status, body: await response.json() };
    };
    const model = async () => await (await fetch(new URL("/model", base))).json();
    clients = Array.from({ length: 4 }, (_, k) => client(k));

    const second = await trainFixtureModel({ modelsDir: fixture.modelsDir, nEstimators: 10, seed: 4 });
    const good = await Deno.readTextFile(second.artifactPath);
    await Deno.writeTextFile(second.artifactPath, good.replace('"threshold":0.5', '"threshold":0.01'));
    const refused = await reload();
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, "reload_failed");
    assert.match(refused.body.message, /sha256 .* but the registry expects .*refusing a modified artifact/);
    assert.equal(refused.body.model_version, 1);
    const still = await model();
    assert.equal(still.model_version, 1);
    assert.equal(still.sha256, fixture.version.sha256);
    // Again, with traffic flowing: still refused, still serving.
    await answers(40, "requests served while a reload is refused");
    assert.equal((await reload()).status, 409);

    await Deno.writeTextFile(second.artifactPath, good);
    const answeredBeforeSwap = versions.length;
    const swapped = await reload();
    assert.equal(swapped.status, 200);
    assert.equal(swapped.body.model_version, 2);
    assert.equal((await model()).sha256, second.version.sha256);
    await answers(40, "requests served after the good reload");
    stop = true;
    await Promise.all(clients);

    assert.deepEqual(failures, []);
    assert.ok(versions.includes(2), "model 2 served after the good reload");
    assert.ok(
      answeredBeforeSwap > 0 && versions.slice(0, answeredBeforeSwap).every((v) => v === 1),
      "only model 1 served before the good reload",
    );

    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    const db = new DatabaseSync(auditDb, { readOnly: true });
    const byVersion = db.prepare(
      "SELECT model_version AS v, count(*) AS n FROM decisions GROUP BY v ORDER BY v",
    )
      .all() as { v: number; n: number }[];
    db.close();
    assert.deepEqual(byVersion.map((r) => Number(r.v)), [1, 2]);
    assert.equal(byVersion.reduce((s, r) => s + Number(r.n), 0), served);
  } finally {
    stop = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already stopped */ }
    await Promise.allSettled(clients);
    await child.stderr.cancel().catch(() => {});
    await fixture.cleanup();
  }
});

Deno.test("under MODEL_PUBLIC_KEY, a re-hashed tampered model is refused at start: exit 1, the signature named", async () => {
  const fixture = await trainFixtureModel({ nEstimators: 5 });
  try {
    const pair = await generateKeyPair();
    await signRun(fixture.version.run_id, await importSigningKey(pair.privatePem), fixture.modelsDir);
    const edited = (await Deno.readTextFile(fixture.artifactPath)).replace(
      '"threshold":0.5',
      '"threshold":0.999',
    );
    await Deno.writeTextFile(fixture.artifactPath, edited);
    const registryPath = `${fixture.modelsDir}/registry.json`;
    await Deno.writeTextFile(
      registryPath,
      (await Deno.readTextFile(registryPath)).replace(
        fixture.version.sha256,
        await sha256Hex(new TextEncoder().encode(edited)),
      ),
    );
    const env = { MODELS_DIR: fixture.modelsDir, AUDIT: "off", MODEL_PUBLIC_KEY: pair.publicBase64 };
    const { code, stderr } = await serveProcess(env, fixture.modelsDir).output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 1, text);
    assert.match(text, /but its signature covers [0-9a-f]{64}: refusing a modified artifact/);
    const badKey = await serveProcess({ ...env, MODEL_PUBLIC_KEY: "bm90IGEga2V5" }, fixture.modelsDir)
      .output();
    assert.equal(badKey.code, 2);
    assert.match(new TextDecoder().decode(badKey.stderr), /MODEL_PUBLIC_KEY is not an Ed25519 public key/);
  } finally {
    await fixture.cleanup();
  }
});
