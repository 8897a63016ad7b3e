// The pure parts of the container test (deno task test:container), checked without podman or root.
import assert from "node:assert/strict";
import { aptMirror } from "./base_images.ts";
import { imageConfig, resolveUser, snapshotDiff } from "./rootfs.ts";
import { dockerfileArg, flagDifferences } from "./harness.ts";
import { shellLine } from "./process.ts";

Deno.test("aptMirror: the first Debian source of the suite's main component, security sources skipped", () => {
  const deb822 = `Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main contrib
`;
  assert.equal(aptMirror(deb822, "bookworm"), "http://mirror.example/debian");
  assert.equal(aptMirror(deb822, "trixie"), null);
  const list = `# deb http://old.example/debian bookworm main
deb http://security.debian.org/debian-security bookworm main
deb [arch=amd64 signed-by=/k.gpg] https://ftp.example/debian bookworm main non-free
`;
  assert.equal(aptMirror(list, "bookworm"), "https://ftp.example/debian");
  assert.equal(aptMirror("deb http://x.example/debian bookworm contrib\n", "bookworm"), null);
});

Deno.test("resolveUser: names and ids from the image's own passwd and group files", () => {
  const passwd = "root:x:0:0:root:/root:/bin/bash\ncredit:x:10001:10001::/app:/usr/sbin/nologin\n";
  const group = "root:x:0:\nstaff:x:50:credit\ncredit:x:10001:\n";
  assert.deepEqual(resolveUser("credit", passwd, group), { uid: 10001, gid: 10001, groups: [10001, 50] });
  assert.deepEqual(resolveUser("10001", passwd, group), { uid: 10001, gid: 10001, groups: [10001, 50] });
  assert.deepEqual(resolveUser("credit:staff", passwd, group), { uid: 10001, gid: 50, groups: [50] });
  assert.deepEqual(resolveUser("4242:4343", passwd, group), { uid: 4242, gid: 4343, groups: [4343] });
  assert.throws(() => resolveUser("nobody", passwd, group), /no user nobody/);
  assert.throws(() => resolveUser("credit:wheel", passwd, group), /no group wheel/);
});

Deno.test("imageConfig: what podman inspect reports of a Docker-format image", () => {
  const config = imageConfig([{
    Id: "abc",
    Size: 345,
    Config: {
      User: "credit",
      WorkingDir: "/app",
      Env: ["PORT=8000"],
      Entrypoint: ["deno", "run", "serve.ts"],
      Volumes: { "/b": {}, "/a": {} },
      ExposedPorts: { "8000/tcp": {} },
    },
    Healthcheck: { Test: ["CMD", "x"], Timeout: 5_000_000_000 },
  }]);
  assert.deepEqual(config, {
    id: "abc",
    size: 345,
    user: "credit",
    workdir: "/app",
    env: ["PORT=8000"],
    entrypoint: ["deno", "run", "serve.ts"],
    cmd: [],
    volumes: ["/a", "/b"],
    exposedPorts: ["8000/tcp"],
    healthcheck: { test: ["CMD", "x"], timeoutMs: 5000 },
  });
  const bare = imageConfig({ Id: "x", Size: 1, Config: {}, Healthcheck: { Test: ["NONE"] } });
  assert.equal(bare.user, "root");
  assert.equal(bare.workdir, "/");
  assert.equal(bare.healthcheck, null);
});

Deno.test("snapshotDiff: added, changed and removed paths", () => {
  const before = new Map([["/a", "f 644 0:0 1 1"], ["/b", "f 644 0:0 1 1"], ["/c", "d 755 0:0 0 1"]]);
  const after = new Map([["/a", "f 644 0:0 1 1"], ["/b", "f 644 0:0 2 2"], ["/d", "f 600 1:1 0 3"]]);
  assert.deepEqual(snapshotDiff(before, after), ["+ /d", "- /c", "~ /b"]);
  assert.deepEqual(snapshotDiff(before, before), []);
});

Deno.test("dockerfileArg reads an ARG's default", () => {
  assert.equal(dockerfileArg("ARG A=1\nARG B=two:3\n", "B"), "two:3");
  assert.throws(() => dockerfileArg("ARG A\n", "A"), /no ARG A/);
});

Deno.test("flagDifferences: the serve task's flags exactly, plus --cached-only and --node-modules-dir=manual", () => {
  const serve = "deno run --unstable-net --allow-net --allow-read=. serve.ts";
  const image = [
    "deno",
    "run",
    "--cached-only",
    "--node-modules-dir=manual",
    "--unstable-net",
    "--allow-net",
  ];
  assert.deepEqual(flagDifferences([...image, "--allow-read=.", "serve.ts"], serve), []);
  assert.deepEqual(flagDifferences([...image, "--allow-read", "serve.ts"], serve), [
    "missing --allow-read=.",
    "extra --allow-read",
  ]);
  assert.deepEqual(
    flagDifferences(["deno", "run", "--unstable-net", "--allow-net", "--allow-read=.", "x.ts"], serve),
    [
      "missing --cached-only",
      "missing --node-modules-dir=manual",
    ],
  );
});

Deno.test("shellLine quotes what a shell would split or expand", () => {
  assert.equal(shellLine("podman", ["build", "--tag", "a/b:c", "."]), "podman build --tag a/b:c .");
  assert.equal(shellLine("sh", ["-c", "echo '$HOME'"]), `sh -c 'echo '\\''$HOME'\\'''`);
});
