import assert from "node:assert/strict";
import { polars } from "../../pipeline/data/polars.ts";

Deno.test("polars() is the module `import` gives, loaded once", async () => {
  // Two copies would mean two addons, and frames one copy made failing the other's checks.
  const imported = (await import("nodejs-polars")).default;
  assert.equal(polars(), imported);
  assert.equal(polars(), polars());
  assert.equal(polars().DataFrame({ a: [1, 2] }).height, 2);
});

Deno.test("deno task score's module graph does not load the addon at import", async () => {
  // The addon costs 0.15–0.25 s of wall time before the first row is scored; a value import of
  // nodejs-polars anywhere under score.ts brings it back. With FFI refused, loading it would fail.
  const root = new URL("../../", import.meta.url).pathname;
  const { success, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi=/nonexistent",
      "pipeline/cli/score.ts",
      "--help",
    ],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(success, new TextDecoder().decode(stderr));
});
