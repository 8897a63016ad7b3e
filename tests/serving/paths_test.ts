/**
 * Path traversal: `/runs/:id` (and the dashboard's run routes), `/docs` and static serving must not
 * read anything outside their folders, whatever the encoding of the path: `..`, percent-encoded and
 * double-encoded dots and slashes, backslashes, NUL, overlong UTF-8, symbolic links, hidden files, a
 * sibling folder sharing the root's name as a prefix. `fetch` and `app.request` normalise `..`
 * before sending, so the same paths also go over raw TCP to a real server, unnormalised.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { startServer } from "../../pipeline/serving/server.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { resolveStaticPath } from "../../pipeline/serving/static_files.ts";
import { trainFixtureModel } from "../fixtures.ts";

const quiet = new Logger("off");
const root = await Deno.makeTempDir({ prefix: "credit-paths-" });
const fixture = await trainFixtureModel({ nEstimators: 5, modelsDir: `${root}/models` });
const runId = fixture.artifact.run_id;
const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });

/** Markers planted outside the served folders; no answer may contain one. */
const SECRETS = ["OUTSIDE-SECRET-7f3a", "PRIVATE-SECRET-91bc", "MODELS-SECRET-52de", "HIDDEN-SECRET-0c4e"];
await Deno.writeTextFile(`${root}/secret.txt`, SECRETS[0]);
await Deno.mkdir(`${root}/static-private`);
await Deno.writeTextFile(`${root}/static-private/secret.txt`, SECRETS[1]);
await Deno.writeTextFile(
  `${fixture.modelsDir}/run.json`,
  JSON.stringify({ run_id: "x", secret: SECRETS[2] }),
);
await Deno.writeTextFile(`${fixture.modelsDir}/runs/secret.txt`, SECRETS[2]);
await Deno.mkdir(`${root}/static/sub`, { recursive: true });
await Deno.writeTextFile(`${root}/static/index.html`, "<!DOCTYPE html><title>STATIC-INDEX</title>");
await Deno.writeTextFile(`${root}/static/sub/page.html`, "<!DOCTYPE html><title>SUB</title>");
await Deno.writeTextFile(`${root}/static/.hidden`, SECRETS[3]);
await Deno.symlink(`${root}/secret.txt`, `${root}/static/leak.txt`);
await Deno.symlink(`${root}/static-private`, `${root}/static/leakdir`);
const staticRoot = new URL(`file://${root}/static/`);

const PREFIXES = [
  "/",
  "/sub/",
  "/runs/",
  `/runs/${runId}/`,
  `/runs/${runId}/artifacts/`,
  `/runs/${runId}/charts/`,
  "/docs/",
];
const PAYLOADS = [
  "../secret.txt",
  "../../secret.txt",
  "../../../secret.txt",
  "../../../../../../../../etc/passwd",
  "%2e%2e/secret.txt",
  "%2E%2E/%2E%2E/secret.txt",
  "%2e%2e%2fsecret.txt",
  "..%2fsecret.txt",
  "..%2f..%2fsecret.txt",
  "..%2f..%2f..%2fsecret.txt",
  "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "%252e%252e%252fsecret.txt",
  "..%252fsecret.txt",
  "%252e%252e/%252e%252e/secret.txt",
  "%25252e%25252e%25252fsecret.txt",
  "..\\secret.txt",
  "..\\..\\secret.txt",
  "..%5csecret.txt",
  "%5c..%5c..%5csecret.txt",
  "..%255csecret.txt",
  "secret.txt%00",
  "..%00/secret.txt",
  "index.html%00.txt",
  "%00",
  "%c0%ae%c0%ae/secret.txt",
  "%c0%ae%c0%ae%c0%afsecret.txt",
  "%e0%80%ae%e0%80%ae/secret.txt",
  "./../secret.txt",
  ".../secret.txt",
  "....//....//secret.txt",
  "..;/secret.txt",
  "..%3b/secret.txt",
  "%2fetc%2fpasswd",
  "/etc/passwd",
  "//etc/passwd",
  "../static-private/secret.txt",
  "..%2fstatic-private%2fsecret.txt",
  "leak.txt",
  "leakdir/secret.txt",
  ".hidden",
  "%2ehidden",
  "%252ehidden",
  "sub/..%2f..%2fsecret.txt",
  "..",
  "%2e%2e",
  "%2e%2e%2f",
  "..%2f",
  "run.json",
  "..%2frun.json",
  "..%2fsecret.txt%23",
  "%3f/../secret.txt",
];

function leaked(text: string): string | undefined {
  return [...SECRETS, "root:x:0:0"].find((s) => text.includes(s));
}

Deno.test("resolveStaticPath: every traversal form is refused or stays inside the folder", () => {
  for (const payload of PAYLOADS) {
    const url = resolveStaticPath(staticRoot, "/" + payload);
    if (url) assert.ok(url.href.startsWith(staticRoot.href), `${payload} → ${url.href}`);
  }
  for (
    const bad of [
      "/..%2fsecret.txt",
      "/%2e%2e/secret.txt",
      "/.hidden",
      "/deno.json",
      "/sub/deno.jsonc",
      "/..%5csecret.txt",
      "/x%00",
      "/%E0%A4%A",
    ]
  ) {
    assert.equal(resolveStaticPath(staticRoot, bad), null, bad);
  }
  assert.equal(resolveStaticPath(staticRoot, "/sub/page.html")?.href, `${staticRoot.href}sub/page.html`);
});

Deno.test("in-process: no traversal payload under any prefix reads outside its folder", async () => {
  const app = createApp({ holder, logger: quiet, staticRoot });
  let tried = 0;
  for (const prefix of PREFIXES) {
    for (const payload of PAYLOADS) {
      const response = await app.request(`http://localhost${prefix}${payload}`);
      const text = await response.text();
      tried++;
      assert.notEqual(response.status, 500, `${prefix}${payload}: ${text}`);
      assert.equal(leaked(text), undefined, `${prefix}${payload} leaked: ${text.slice(0, 200)}`);
    }
  }
  // The legitimate files are served.
  assert.match(await (await app.request("/")).text(), /STATIC-INDEX/);
  assert.equal((await app.request(`/runs/${runId}`)).status, 200);
  assert.ok(tried >= 300);
});

/** One raw HTTP/1.1 request with an unnormalised target; the whole answer, bounded in time and size. */
async function rawRequest(port: number, target: string): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 5_000);
  try {
    await conn.write(
      new TextEncoder().encode(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
    );
    const chunks: Uint8Array[] = [];
    let size = 0;
    const buffer = new Uint8Array(65_536);
    for (;;) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      size += n;
      if (size > 4 * 1024 * 1024) throw new Error(`${target}: answer over 4 MB`);
    }
    const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
    const status = Number(text.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0);
    return { status, text };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer or the server */ }
  }
}

Deno.test("a real server over raw TCP: unnormalised traversal targets never leak, never fail", async () => {
  const running = startServer({
    holder,
    logger: quiet,
    staticRoot,
    config: { port: 0, hostname: "127.0.0.1", batchWorkers: 0 },
  });
  try {
    const port = Number(running.url.port);
    const statuses = new Map<number, number>();
    const targets = [
      ...PREFIXES.flatMap((prefix) => PAYLOADS.map((payload) => `${prefix}${payload}`)),
      ...PAYLOADS.map((payload) => `http://127.0.0.1:${port}/${payload}`), // absolute form
      "/runs/../../secret.txt",
      "/runs/%2e%2e/%2e%2e/secret.txt",
      "/static/../secret.txt",
    ];
    for (const target of targets) {
      const { status, text } = await rawRequest(port, target);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      assert.notEqual(status, 500, `${target}: ${text.slice(0, 300)}`);
      assert.ok(status > 0, `${target}: no HTTP answer`);
      assert.equal(leaked(text), undefined, `${target} leaked: ${text.slice(0, 300)}`);
      if (/%2f|%5c|%00|\\/i.test(target) && !target.startsWith("/docs/")) {
        assert.ok([400, 404].includes(status), `${target} answered ${status}`);
      }
    }
    // fetch normalises the dots itself; the encoded forms reach the server as they are.
    for (const payload of PAYLOADS.filter((p) => p.includes("%"))) {
      const response = await fetch(`http://127.0.0.1:${port}/runs/${payload}`);
      const text = await response.text();
      assert.notEqual(response.status, 500);
      assert.equal(leaked(text), undefined, `fetch /runs/${payload} leaked`);
    }
    const sane = await rawRequest(port, "/sub/page.html");
    assert.equal(sane.status, 200);
    console.log(`    ${targets.length} raw targets: ${JSON.stringify(Object.fromEntries(statuses))}`);
  } finally {
    await running.shutdown();
  }
});

// Teardown, not a test: the temporary folder.
Deno.test.afterAll(async () => {
  await Deno.remove(root, { recursive: true });
});
