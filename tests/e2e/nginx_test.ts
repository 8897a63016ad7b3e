/**
 * deploy/nginx.conf as shipped, run by Debian's nginx on loopback in front of two replicas: its
 * upstream lines, listen ports, certificate and log paths pointed at a temporary folder (a
 * self-signed certificate made with openssl), everything else as written. Requests through it over
 * TLS are answered, spread over both replicas, and plain HTTP is redirected to HTTPS.
 */
import assert from "node:assert/strict";
import { germanApplicants, serveProcess, trainFixtureModel } from "../fixtures.ts";
import { listeningUrl } from "../serving/audit_backends.ts";

const NGINX = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
const OPENSSL = "/usr/bin/openssl";
const CONFIG = new URL("../../deploy/nginx.conf", import.meta.url);

/** A port nothing listens on. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A throwaway CA and a certificate for localhost signed by it (`tls.crt`, `tls.key`, `ca.crt`). */
async function makeCertificate(dir: string): Promise<void> {
  const run = async (args: string[]) => {
    const { code, stderr } = await new Deno.Command(OPENSSL, { args, stdout: "null", stderr: "piped" })
      .output();
    assert.equal(code, 0, `openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
  };
  await run(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=credit-risk test CA"]
      .concat(["-keyout", `${dir}/ca.key`, "-out", `${dir}/ca.crt`]),
  );
  await run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", `${dir}/tls.key`]
    .concat(["-out", `${dir}/tls.csr`]));
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n" +
      "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  await run(["x509", "-req", "-in", `${dir}/tls.csr`, "-CA", `${dir}/ca.crt`, "-CAkey", `${dir}/ca.key`]
    .concat(["-CAcreateserial", "-days", "1", "-extfile", `${dir}/leaf.ext`, "-out", `${dir}/tls.crt`]));
}

/** The shipped configuration with only the machine-specific lines replaced. */
export function localConfig(
  text: string,
  options: { prefix: string; replicas: string[]; http: number; https: number },
): string {
  const { prefix, replicas, http, https } = options;
  const upstream =
    /(# ---- the replicas: one line per replica ----\n\s*upstream credit_risk \{\n\s*least_conn;\n)((?:\s*server .*\n)+)/;
  assert.match(text, upstream, "the upstream block is where the test expects it");
  let out = text.replace(
    upstream,
    (_, head) => head + replicas.map((r) => `        server ${r} max_fails=3 fail_timeout=10s;\n`).join(""),
  );
  const replace = (from: string | RegExp, to: string) => {
    const before = out;
    out = out.replace(from, to);
    assert.notEqual(out, before, `expected ${from} in deploy/nginx.conf`);
  };
  replace("listen 80;", `listen 127.0.0.1:${http};`);
  replace("listen 443 ssl http2;", `listen 127.0.0.1:${https} ssl http2;`);
  replace("/etc/nginx/tls/credit-risk.crt", `${prefix}/tls.crt`);
  replace("/etc/nginx/tls/credit-risk.key", `${prefix}/tls.key`);
  out = out.replaceAll("/var/log/nginx/", `${prefix}/`);
  // Temporary files under the prefix rather than the packaged /var/lib/nginx.
  replace(
    "http {\n",
    "http {\n" +
      ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((k) => `    ${k}_temp_path ${prefix}/${k};\n`)
        .join(""),
  );
  return out;
}

Deno.test({
  name:
    "deploy/nginx.conf in front of 2 replicas: TLS at the proxy, requests answered and spread, HTTP redirected",
  ignore: !NGINX,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const fixture = await trainFixtureModel({ nEstimators: 10 });
    const applicants = await germanApplicants();
    const prefix = await Deno.makeTempDir({ prefix: "credit-nginx-" });
    const replicas = [0, 1].map(() => serveProcess({ MODELS_DIR: fixture.modelsDir, AUDIT: "off" }, prefix));
    let nginx: Deno.ChildProcess | undefined;
    try {
      const urls = await Promise.all(replicas.map(listeningUrl));
      await makeCertificate(prefix);
      const http = freePort(), https = freePort();
      const config = localConfig(await Deno.readTextFile(CONFIG), {
        prefix,
        replicas: urls.map((u) => `127.0.0.1:${u.port}`),
        http,
        https,
      });
      await Deno.writeTextFile(`${prefix}/nginx.conf`, config);
      const base = ["-p", prefix, "-c", `${prefix}/nginx.conf`, "-e", `${prefix}/error.log`];
      const globals = ["-g", `daemon off; master_process off; pid ${prefix}/nginx.pid;`];
      const check = await new Deno.Command(NGINX!, { args: [...base, ...globals, "-t"], stderr: "piped" })
        .output();
      assert.equal(check.code, 0, new TextDecoder().decode(check.stderr));
      nginx = new Deno.Command(NGINX!, { args: [...base, ...globals], stdout: "null", stderr: "piped" })
        .spawn();

      const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(`${prefix}/ca.crt`)] });
      const front = new URL(`https://localhost:${https}/`);
      for (let i = 0; i < 100; i++) {
        try {
          await (await fetch(new URL("/health", front), { client })).body?.cancel();
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      const N = 40;
      const answers = await Promise.all(Array.from({ length: N }, async (_, i) => {
        const response = await fetch(new URL("/predict?explain=false", front), {
          client,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(applicants[i]),
        });
        return { status: response.status, body: await response.json() };
      }));
      assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200));
      assert.ok(answers.every((a) => typeof a.body.probability_bad === "number"));
      assert.equal(new Set(answers.map((a) => a.body.request_id)).size, N);

      const redirect = await fetch(`http://127.0.0.1:${http}/predict`, { redirect: "manual" });
      await redirect.body?.cancel();
      assert.equal(redirect.status, 301);
      assert.match(redirect.headers.get("location")!, /^https:\/\//);
      client.close();

      // The access log names the replica behind each answer: both took a share.
      const log = await Deno.readTextFile(`${prefix}/credit-risk.access.log`);
      const byReplica = new Map<string, number>();
      for (const m of log.matchAll(/"POST \/predict\?explain=false [^"]*" 200 .*upstream=(\S+)/g)) {
        byReplica.set(m[1], (byReplica.get(m[1]) ?? 0) + 1);
      }
      assert.deepEqual([...byReplica.keys()].sort(), urls.map((u) => `127.0.0.1:${u.port}`).sort());
      assert.equal([...byReplica.values()].reduce((a, b) => a + b, 0), N);
      assert.ok([...byReplica.values()].every((n) => n >= 5), `spread: ${JSON.stringify([...byReplica])}`);
      console.log(
        `    ${N} requests through nginx over TLS: ${JSON.stringify(Object.fromEntries(byReplica))}`,
      );
    } finally {
      if (nginx) {
        nginx.kill("SIGQUIT");
        await nginx.status;
        await nginx.stderr.cancel().catch(() => {});
      }
      for (const r of replicas) {
        try {
          r.kill("SIGTERM");
        } catch { /* gone */ }
        await r.status;
        await r.stderr.cancel().catch(() => {});
      }
      await Deno.remove(prefix, { recursive: true });
      await fixture.cleanup();
    }
  },
});
