/**
 * The deploy step against a real server (`serve.ts` spawned on a loopback port, reading the same
 * models folder): with a wrong token the reload is refused (403, not retried: it would be refused
 * again) and the flow fails at deploy naming the cause; run again with the right token it resumes at deploy (the promotion is not
 * made twice), reloads the server, and `/model` then shows the new version and its sha256.
 */
import assert from "node:assert/strict";
import { normaliseConfig } from "../../pipeline/flow/config.ts";
import { codeVersion } from "../../pipeline/flow/key.ts";
import { runFlow } from "../../pipeline/flow/retrain.ts";
import { readRegistry, sha256File } from "../../pipeline/tracking/mod.ts";
import { withTempDir } from "../temp.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DATA = `${ROOT}data/german.data`;
const TOKEN = "flow-deploy-test-token-0123";
const TOKEN_ENV = "FLOW_DEPLOY_TEST_TOKEN";

function serveProcess(modelsDir: string) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      `${ROOT}serve.ts`,
    ],
    env: {
      HOST: "127.0.0.1",
      PORT: "0",
      MODELS_DIR: modelsDir,
      ADMIN_TOKEN: TOKEN,
      AUDIT: "off",
      BATCH_WORKERS: "0",
      LOG_LEVEL: "info",
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "null",
    cwd: "/",
  }).spawn();
}

async function listeningUrl(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server stopped before listening: ${buffered}`);
    buffered += value;
    for (const line of buffered.split("\n")) {
      if (!line.trim().startsWith("{")) continue;
      const entry = JSON.parse(line);
      if (entry.msg === "listening") {
        // Keep draining so the server never blocks on a full pipe.
        (async () => {
          while (!(await reader.read()).done) { /* drain */ }
        })();
        return entry.url;
      }
    }
  }
}

Deno.test("deploy reloads a real server; a refused reload fails the step, and the flow resumes at deploy", async () => {
  await withTempDir("flow-deploy-", async (modelsDir) => {
    const config = normaliseConfig({
      train: { trials: 3, folds: 3, search_repeats: 1, search_trees: 20, trees: 40 },
      compare: { repeats: 1, folds: 3, inner_folds: 2 },
      deploy: { token_env: TOKEN_ENV, confirm_timeout_ms: 5_000 },
      steps: { deploy: { retries: 2, backoff_ms: 10 } },
    });
    const code = await codeVersion();
    // The champion, served.
    await runFlow({ dataPath: DATA, config, modelsDir, codeVersion: code });
    const server = serveProcess(modelsDir);
    try {
      const url = await listeningUrl(server);
      const before = await (await fetch(new URL("/model", url))).json();
      assert.equal(before.model_version, 1);

      const deploying = normaliseConfig({ ...config, deploy: { ...config.deploy, servers: [url] } });
      Deno.env.set(TOKEN_ENV, "a-wrong-token-of-enough-length");
      await assert.rejects(
        () => runFlow({ dataPath: DATA, config: deploying, modelsDir, codeVersion: code }),
        /step deploy failed \(not retried: retrying cannot fix it\): POST http:\/\/127\.0\.0\.1:\d+\/admin\/reload answered 403/,
      );
      assert.equal((await (await fetch(new URL("/model", url))).json()).model_version, 1);
      const registry = await readRegistry(modelsDir);
      assert.equal(registry.models.find((m) => m.stage === "production")?.version, 2);

      Deno.env.set(TOKEN_ENV, TOKEN);
      const resumed = await runFlow({ dataPath: DATA, config: deploying, modelsDir, codeVersion: code });
      assert.equal(resumed.mode, "resumed");
      const deploy = resumed.record.steps.find((s) => s.name === "deploy")!;
      assert.deepEqual(deploy.attempts.map((a) => a.error === null), [false, true]);
      assert.equal(resumed.record.steps.find((s) => s.name === "gate")!.attempts.length, 1);

      const sha256 = await sha256File(
        `${modelsDir}/runs/${resumed.record.outcome!.challenger!.run_id}/model.json`,
      );
      assert.deepEqual(resumed.record.outcome?.deployed, [{ url, model_version: 2, sha256 }]);
      const served = await (await fetch(new URL("/model", url))).json();
      assert.equal(served.model_version, 2);
      assert.equal(served.sha256, sha256);
      assert.equal(served.run_id, resumed.record.outcome!.challenger!.run_id);
    } finally {
      Deno.env.delete(TOKEN_ENV);
      server.kill("SIGTERM");
      await server.status;
    }
  });
});
