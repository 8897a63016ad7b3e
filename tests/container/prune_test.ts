import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type DenoInfo,
  entryModules,
  fitsLibc,
  installFolder,
  prune,
  reachablePackages,
} from "../../deploy/prune_node_modules.ts";

Deno.test("reachablePackages: the graph's npm imports and their dependencies, cycles included, nothing else", () => {
  const info: DenoInfo = {
    modules: [
      { kind: "esm" },
      { kind: "npm", npmPackage: "a@1.0.0" },
      { kind: "npm", npmPackage: "a@1.0.0" },
      { kind: "npm", npmPackage: "e@1.0.0" },
    ],
    npmPackages: {
      "a@1.0.0": { name: "a", dependencies: ["b@2.0.0"] },
      "b@2.0.0": { name: "b", dependencies: ["c@3.0.0_b@2.0.0"] },
      "c@3.0.0_b@2.0.0": { name: "c", dependencies: ["a@1.0.0"] },
      "d@1.0.0": { name: "d", dependencies: ["b@2.0.0"] },
      "e@1.0.0": { name: "e", dependencies: [] },
    },
  };
  assert.deepEqual([...reachablePackages(info)].sort(), ["a@1.0.0", "b@2.0.0", "c@3.0.0_b@2.0.0", "e@1.0.0"]);
  assert.throws(
    () => reachablePackages({ modules: [{ kind: "npm", npmPackage: "x@1" }], npmPackages: {} }),
    /x@1/,
  );
});

Deno.test("fitsLibc: a package without a libc field fits both; one that names a libc fits only it", () => {
  assert.equal(fitsLibc({}, "glibc"), true);
  assert.equal(fitsLibc({ libc: ["musl"] }, "glibc"), false);
  assert.equal(fitsLibc({ libc: ["musl"] }, "musl"), true);
  assert.equal(fitsLibc({ libc: ["glibc"] }, "glibc"), true);
});

Deno.test("installFolder: the folder under node_modules/.deno, scoped packages and peer suffixes included", () => {
  assert.equal(
    installFolder("/app/node_modules/.deno/@hono+zod-openapi@1.6.3/node_modules/@hono/zod-openapi"),
    "@hono+zod-openapi@1.6.3",
  );
  assert.equal(installFolder("/app/node_modules/.deno/hono@4.13.19/node_modules/hono"), "hono@4.13.19");
  assert.throws(() => installFolder("/usr/lib/node_modules/hono"));
});

Deno.test("entryModules: .ts files of folders, tests left out, files given as they are", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "pkg/sub"), { recursive: true });
  for (const file of ["pkg/a.ts", "pkg/a_test.ts", "pkg/b.test.ts", "pkg/sub/c.ts", "pkg/d.js", "main.ts"]) {
    await Deno.writeTextFile(join(dir, file), "");
  }
  assert.deepEqual(await entryModules([join(dir, "main.ts"), join(dir, "pkg")]), [
    join(dir, "main.ts"),
    join(dir, "pkg/a.ts"),
    join(dir, "pkg/sub/c.ts"),
  ]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("prune: deletes unreachable and wrong-libc install folders and the links left dangling", async () => {
  const dir = await Deno.makeTempDir();
  const nm = join(dir, "node_modules");
  const install = async (folder: string, name: string, manifest: Record<string, unknown>, bytes: number) => {
    const path = join(nm, ".deno", folder, "node_modules", name);
    await Deno.mkdir(path, { recursive: true });
    await Deno.writeTextFile(join(path, "package.json"), JSON.stringify({ name, ...manifest }));
    await Deno.writeFile(join(path, "index.js"), new Uint8Array(bytes));
    return path;
  };
  const app = await install("app@1.0.0", "app", {}, 100);
  const dep = await install("dep@1.0.0", "dep", {}, 50);
  const gnu = await install("native-gnu@1.0.0", "native-gnu", { libc: ["glibc"] }, 10);
  const musl = await install("native-musl@1.0.0", "native-musl", { libc: ["musl"] }, 1000);
  const tool = await install("test-tool@1.0.0", "test-tool", {}, 2000);
  await Deno.mkdir(join(nm, ".bin"));
  await Deno.mkdir(join(nm, ".deno", "node_modules"));
  await Deno.symlink(app, join(nm, "app"));
  await Deno.symlink(tool, join(nm, "test-tool"));
  await Deno.symlink(join(tool, "index.js"), join(nm, ".bin", "test-tool"));
  await Deno.symlink(dep, join(nm, ".deno", "node_modules", "dep"));
  await Deno.symlink(musl, join(nm, ".deno", "node_modules", "native-musl"));
  const info: DenoInfo = {
    modules: [{ kind: "npm", npmPackage: "app@1.0.0" }],
    npmPackages: {
      "app@1.0.0": {
        name: "app",
        dependencies: ["dep@1.0.0", "native-gnu@1.0.0", "native-musl@1.0.0", "native-win@1.0.0"],
        localPath: app,
      },
      "dep@1.0.0": { name: "dep", dependencies: [], localPath: dep },
      "native-gnu@1.0.0": { name: "native-gnu", dependencies: [], localPath: gnu },
      "native-musl@1.0.0": { name: "native-musl", dependencies: [], localPath: musl },
      // Another platform's build: in the graph, never installed here.
      "native-win@1.0.0": {
        name: "native-win",
        dependencies: [],
        localPath: join(nm, ".deno/native-win@1.0.0/node_modules/native-win"),
      },
      "test-tool@1.0.0": { name: "test-tool", dependencies: [], localPath: tool },
    },
  };
  const report = await prune(info, nm, "glibc");
  assert.deepEqual(report.kept, ["app@1.0.0", "dep@1.0.0", "native-gnu@1.0.0"]);
  assert.deepEqual(report.removed, ["native-musl@1.0.0", "test-tool@1.0.0"]);
  // Each folder holds its package.json plus the bytes written above.
  const manifest = (name: string, extra = {}) => JSON.stringify({ name, ...extra }).length;
  assert.equal(
    report.removedBytes,
    1000 + manifest("native-musl", { libc: ["musl"] }) + 2000 + manifest("test-tool"),
  );
  assert.equal(
    report.keptBytes,
    160 + manifest("app") + manifest("dep") + manifest("native-gnu", { libc: ["glibc"] }),
  );
  assert.equal(report.danglingLinks, 3);
  const left = async (path: string) => await Deno.lstat(join(nm, path)).then(() => true, () => false);
  assert.deepEqual(
    await Promise.all(
      ["app", "test-tool", ".bin/test-tool", ".deno/node_modules/dep", ".deno/node_modules/native-musl"]
        .map(left),
    ),
    [true, false, false, true, false],
  );
  await Deno.remove(dir, { recursive: true });
});
