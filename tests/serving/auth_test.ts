/**
 * Bearer tokens on POST /admin/reload: a wrong token is refused however much of it, or of its
 * digest, matches the right one. The near misses are searched here: tokens whose SHA-256 shares the
 * right token's first or last byte, a prefix of the token, and the token with one more character.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { moduleTempDir } from "../temp.ts";

const TOKEN = "auth-test-admin-token-0123456789";
const empty = await moduleTempDir("auth-test-");
const app = createApp({
  holder: await ModelHolder.open({ modelsDir: empty }, { allowEmpty: true }),
  logger: new Logger("off"),
  config: { adminToken: TOKEN },
});

const reload = (authorization?: string) =>
  app.request("/admin/reload", { method: "POST", headers: authorization ? { authorization } : {} });

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** The first token `wrong-<k>` whose digest agrees with `TOKEN`'s at byte `at`. */
async function digestTwin(at: number): Promise<string> {
  const target = (await digest(TOKEN))[at];
  for (let k = 0;; k++) if ((await digest(`wrong-${k}`))[at] === target) return `wrong-${k}`;
}

Deno.test("near-miss tokens are 403: same digest byte first or last, a prefix, one character more", async () => {
  const nearMisses = [
    await digestTwin(0),
    await digestTwin(31),
    TOKEN.slice(0, -1),
    `${TOKEN}x`,
    TOKEN.toUpperCase(),
  ];
  for (const token of nearMisses) {
    const response = await reload(`Bearer ${token}`);
    assert.equal(response.status, 403, token);
    assert.equal((await response.json()).error, "forbidden");
  }
});

Deno.test("no or malformed credentials are 401 with a Bearer challenge; the right token passes the check", async () => {
  for (const header of [undefined, TOKEN, `Basic ${TOKEN}`, "Bearer", "Bearer  "]) {
    const response = await reload(header);
    assert.equal(response.status, 401, String(header));
    assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="admin"');
    await response.body?.cancel();
  }
  for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `Bearer   ${TOKEN}  `]) {
    const response = await reload(header);
    assert.ok(![401, 403].includes(response.status), `${header}: ${response.status}`);
    await response.body?.cancel();
  }
});
