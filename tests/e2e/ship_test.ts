import assert from "node:assert/strict";
import { moduleTempDir } from "../temp.ts";
import { DEFAULT_CONFIG } from "../../pipeline/serving/config.ts";
import { BINARY_PERMISSIONS, compileArgs, embeddedPaths } from "../../pipeline/cli/compile.ts";

const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const denoJson = JSON.parse(await Deno.readTextFile(`${root}/deno.json`));
const tasks: Record<string, string> = denoJson.tasks;
const dockerfile = await Deno.readTextFile(`${root}/Dockerfile`);
const ciRun = await Deno.readTextFile(`${root}/.ci/run`);
const readme = await Deno.readTextFile(`${root}/README.md`);

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function waitForHealth(url: string, child: Deno.ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/health`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`no /health answer from ${url} within ${timeoutMs} ms`);
}

const applicant = {
  checking_status: "A14",
  duration: 12,
  credit_history: "A32",
  purpose: "A43",
  credit_amount: 2000,
  savings_status: "A61",
  employment: "A73",
  installment_commitment: 2,
  personal_status: "A93",
  other_parties: "A101",
  residence_since: 2,
  property_magnitude: "A121",
  age: 35,
  other_payment_plans: "A143",
  housing: "A152",
  existing_credits: 1,
  job: "A173",
  num_dependents: 1,
  own_telephone: "A191",
  foreign_worker: "A201",
};

Deno.test("every task runs with scoped permissions, never -A", () => {
  for (const [name, command] of Object.entries(tasks)) {
    assert.doesNotMatch(command, /(^|\s)(-A|--allow-all)(\s|$)/, `task ${name}`);
  }
  assert.match(tasks.serve, /--allow-net/);
  for (const name of ["etl", "train", "evaluate", "runs", "eda"]) {
    assert.doesNotMatch(tasks[name], /--allow-net/, `task ${name} must not reach the network`);
  }
});

Deno.test("the Dockerfile mirrors the deno tasks and the pinned Deno version", () => {
  // The image is built from a tree CI has tested (.ci/run runs deno task test first): no test stage.
  const taskRuns = [...dockerfile.matchAll(/deno task ([\w:-]+)/g)].map((m) => m[1]);
  assert.ok(taskRuns.length >= 2);
  for (const name of taskRuns) {
    assert.ok(name in tasks, `Dockerfile runs deno task ${name}, which deno.json lacks`);
  }
  assert.deepEqual([...new Set(taskRuns)].sort(), ["compile", "train"]);
  const pinned = ciRun.match(/deno@(\d+\.\d+\.\d+)/)![1];
  assert.match(dockerfile, new RegExp(`ARG DENO_VERSION=${pinned.replaceAll(".", "\\.")}`));
  // The base images are build arguments defaulting to the official images.
  assert.match(dockerfile, /\nARG DENO_IMAGE=denoland\/deno:debian-\$\{DENO_VERSION\}\n/);
  assert.match(dockerfile, /\nARG RUNTIME_IMAGE=debian:bookworm-slim\n/);
  assert.match(dockerfile, /\nFROM \$\{DENO_IMAGE\} AS deps\n/);
  assert.match(dockerfile, /RUN deno install --frozen/);
  // deno install reads the workspace members' configurations too: the deps stage copies each of them.
  const deps = dockerfile.slice(dockerfile.indexOf("AS deps\n"), dockerfile.indexOf("RUN deno install"));
  for (const member of (denoJson.workspace ?? []) as string[]) {
    const path = member.replace(/^\.\//, "");
    assert.match(
      deps,
      new RegExp(`^COPY ${path}/deno\\.json ${path}/$`, "m"),
      `the deps stage copies ${path}/deno.json`,
    );
  }
  assert.match(dockerfile, new RegExp(`EXPOSE ${DEFAULT_CONFIG.port}\\n`));
  assert.match(dockerfile, /HEALTHCHECK[\s\S]*--healthcheck/);
  assert.match(dockerfile, /\nUSER credit\n/);
  assert.doesNotMatch(dockerfile, /TOKEN|SECRET|PASSWORD/);
  const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => m[2]);
  assert.deepEqual(stages, ["deps", "source", "app", "compile", "binary", "runtime"]);
  // The runtime stage, the default target: the serve task's permissions, no download, its audit volume.
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  assert.match(runtime, /^FROM \$\{RUNTIME_IMAGE\} AS runtime$/m);
  const entrypoint: string[] = JSON.parse(
    runtime.match(/^ENTRYPOINT (\[[^\]]*\])/m)![1].replace(/\\\n/g, ""),
  );
  const flags = (argv: string[]) => argv.filter((a) => a.startsWith("-"));
  const imageOnly = ["--cached-only", "--node-modules-dir=manual"];
  assert.deepEqual(flags(entrypoint).filter((f) => !imageOnly.includes(f)), flags(tasks.serve.split(/\s+/)));
  assert.deepEqual(entrypoint.slice(0, 4), ["deno", "run", ...imageOnly]);
  assert.equal(entrypoint.at(-1), "serve.ts");
  const auditDir = DEFAULT_CONFIG.auditPath!.replace(/\/[^/]+$/, "");
  assert.match(runtime, new RegExp(`^VOLUME \\["/app/${auditDir}"\\]$`, "m"));
  assert.match(runtime, /^WORKDIR \/app$/m);
  assert.doesNotMatch(runtime, /chromium|apt-get|deno task test/);
});

Deno.test("deno task compile embeds static/ and the production model, and runs no processes", async () => {
  const args = await compileArgs("dist/credit-risk");
  for (const flag of BINARY_PERMISSIONS) assert.ok(args.includes(flag), flag);
  assert.ok(!args.some((a) => a.startsWith("--allow-run")), "the binary starts no processes");
  const included = args.flatMap((a, i) => (args[i - 1] === "--include" ? [a] : []));
  assert.deepEqual(included, await embeddedPaths());
  assert.ok(included.includes("static"));
  for (const path of included) await Deno.stat(`${root}/${path}`);
  assert.equal(args.at(-1), "serve.ts");
  assert.match(tasks.compile, /pipeline\/cli\/compile\.ts/);
});

Deno.test("the server runs the way the binary would: from another folder, reading only embedded paths, writing only its audit trail", async () => {
  const port = freePort();
  const elsewhere = await moduleTempDir("ship-elsewhere-");
  // The binary embeds the worker entry points compile.ts includes, with their whole module graphs
  // (explanations and the audit writer run on workers), so the library folder stands in for them.
  const readable = [`${root}/static`, `${root}/models`, `${root}/node_modules`, `${root}/pipeline`].join(",");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      `--allow-read=${readable},${elsewhere}`,
      `--allow-write=${elsewhere}`,
      "--allow-ffi",
      "--allow-sys",
      `${root}/serve.ts`,
      "--port",
      String(port),
    ],
    cwd: elsewhere,
    // The audit trail is the one thing it writes, into the folder it runs from.
    env: { LOG: "off", HOST: "127.0.0.1", MODELS_DIR: "", AUDIT_DB: `${elsewhere}/audit/audit.sqlite` },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, child, 30_000);
    const ready = await fetch(`${url}/ready`);
    await ready.body?.cancel();
    assert.equal(ready.status, 200);
    const prediction = await fetch(`${url}/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(applicant),
    });
    const body = await prediction.json();
    assert.equal(prediction.status, 200, JSON.stringify(body));
    assert.ok(body.probability_bad >= 0 && body.probability_bad <= 1);
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const healthcheck = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        "--allow-env",
        `--allow-read=${readable}`,
        "--allow-ffi",
        "--allow-sys",
        `${root}/serve.ts`,
        "--healthcheck",
        "--port",
        String(port),
      ],
      cwd: elsewhere,
    }).output();
    assert.equal(healthcheck.code, 0);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 0, "a SIGTERM shuts the server down cleanly");
  }
});

Deno.test("the README's quick start is exactly the two commands, and deno task start works on a fresh copy", async () => {
  const quickStart = readme.match(/## Quick start[\s\S]*?```sh\n([\s\S]*?)```/)?.[1];
  assert.ok(quickStart, "README has a Quick start code block");
  const commands = quickStart.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean);
  assert.deepEqual(commands, ["deno task start", "deno task test"]);
  assert.match(ciRun, /deno task test/);

  // A fresh copy with no trained model: the first run trains, then serves.
  const copy = await moduleTempDir("fresh_clone_");
  const files = new TextDecoder().decode(
    (await new Deno.Command("git", {
      args: ["ls-files", "--cached", "--others", "--exclude-standard"],
      cwd: root,
    }).output()).stdout,
  ).trim().split("\n").filter((f) => !f.startsWith("models/") && !f.startsWith("notebooks/"));
  for (const file of files) {
    const target = `${copy}/${file}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(`${root}/${file}`, target).catch(() => {});
  }
  await Deno.symlink(`${root}/node_modules`, `${copy}/node_modules`);
  const port = freePort();
  const child = new Deno.Command("deno", {
    args: ["task", "start", "--port", String(port)],
    cwd: copy,
    env: { LOG: "off", HOST: "127.0.0.1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    await waitForHealth(`http://127.0.0.1:${port}`, child, 120_000);
    const model = await (await fetch(`http://127.0.0.1:${port}/model`)).json();
    assert.equal(model.model_version ?? model.version, 1);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    const out = new TextDecoder().decode((await new Response(child.stdout).arrayBuffer()) as ArrayBuffer);
    await child.stderr.cancel();
    assert.match(out, /No production model in .* yet: training one now/);
    assert.match(out, /Serving on http:\/\/localhost:\d+\//);
  }
  const registry = JSON.parse(await Deno.readTextFile(`${copy}/models/registry.json`));
  assert.equal(registry.models[0].stage, "production");
  await Deno.remove(copy, { recursive: true });
});
