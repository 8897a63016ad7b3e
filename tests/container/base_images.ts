/**
 * Local stand-ins for the Dockerfile's base images, for a machine that cannot pull from Docker Hub:
 * `debian:bookworm-slim` is `debootstrap --variant=minbase` (what Debian's official images are built
 * from) with the same documentation and locale files left out; `denoland/deno:debian-X` is that plus
 * the `deno` binary at `/usr/bin/deno`, the `deno` user (uid 1993) and `DENO_DIR=/deno-dir/`, as the
 * official image has them.
 *
 * The binary is the one this test runs on (installed by `npm install -g deno@X` in CI) when it is
 * version X, else `npm install deno@X` into the cache. No node, npm or network is needed inside the
 * chroot, and the image holds exactly the Deno the test suite ran with.
 *
 * Each root filesystem is cached as a tarball under the cache folder, named by a hash of what it is
 * built from; a change of recipe, suite, mirror or binary makes a new one and drops the old.
 * @module
 */

import { dirname, join } from "node:path";
import { writeJsonAtomic } from "../../pipeline/tracking/atomic.ts";
import { type Log, run, sha256File, sha256Text } from "./process.ts";

/** Bump when the recipe below changes, so cached tarballs built the old way are not reused. */
export const RECIPE_VERSION = 1;

/** What debuerreotype's "slim" variant leaves out (docs but copyrights, man pages, locales). */
const SLIM_DPKG_EXCLUDES = `path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
`;

const PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** `DENO_DIR` of the Deno stand-in, as in the official image. */
export const STAND_IN_DENO_DIR = "/deno-dir";

/** A base image stand-in: its tarball in the cache and the image settings `podman import` gives it. */
export interface BaseImage {
  /** What it stands in for, e.g. `debian:bookworm-slim`. */
  official: string;
  tar: string;
  key: string;
  /** `podman import --change` instructions: what the official image's config sets. */
  changes: string[];
  /** False when it came from the cache. */
  built: boolean;
  seconds: number;
}

/** The first apt source serving `suite`'s main component from Debian's archive (not its security one). */
export function aptMirror(sources: string, suite: string): string | null {
  // deb822 stanzas (*.sources) first, then one-line entries (sources.list).
  for (const stanza of sources.split(/\n\s*\n/)) {
    const field = (name: string) =>
      stanza.match(new RegExp(`^${name}:\\s*(.+)$`, "mi"))?.[1].trim().split(/\s+/);
    const uris = field("URIs"), suites = field("Suites"), components = field("Components");
    if (uris && suites?.includes(suite) && components?.includes("main") && !/security/.test(uris[0])) {
      return uris[0];
    }
  }
  for (const line of sources.split("\n")) {
    const match = line.match(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/);
    if (match && match[2] === suite && match[3].split(/\s+/).includes("main") && !/security/.test(match[1])) {
      return match[1];
    }
  }
  return null;
}

/** The Debian mirror apt already uses on this machine (`/etc/apt/sources.list*`). */
export async function hostDebianMirror(suite: string): Promise<string> {
  const files = ["/etc/apt/sources.list"];
  try {
    for await (const entry of Deno.readDir("/etc/apt/sources.list.d")) {
      if (/\.(list|sources)$/.test(entry.name)) files.push(`/etc/apt/sources.list.d/${entry.name}`);
    }
  } catch { /* no folder */ }
  const texts = await Promise.all(files.sort().map((f) => Deno.readTextFile(f).catch(() => "")));
  const mirror = aptMirror(texts.join("\n\n"), suite);
  if (!mirror) throw new Error(`no apt source for Debian ${suite} main in ${files.join(", ")}`);
  return mirror;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes cached tarballs named `prefix…` but not `keep…`: older recipes, suites or versions. */
async function dropStale(cacheDir: string, prefix: string, keep: string): Promise<void> {
  for await (const entry of Deno.readDir(cacheDir)) {
    if (entry.name.startsWith(prefix) && !entry.name.startsWith(keep)) {
      await Deno.remove(join(cacheDir, entry.name), { recursive: true });
    }
  }
}

/** Tars `dir` into `tar` through a temporary name, so a killed run never leaves half a tarball cached. */
async function tarInto(dir: string, tar: string, log: Log): Promise<void> {
  const tmp = `${tar}.${crypto.randomUUID()}.tmp`;
  try {
    await run("tar", ["--numeric-owner", "-C", dir, "-cf", tmp, "."], { log });
    await Deno.rename(tmp, tar);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}

/** The `debian:<suite>-slim` stand-in, from the cache or built with debootstrap (about a minute). */
export async function debianSlim(
  cacheDir: string,
  suite: string,
  work: string,
  log: Log,
): Promise<BaseImage> {
  const started = performance.now();
  const mirror = await hostDebianMirror(suite);
  const arch = { x86_64: "amd64", aarch64: "arm64" }[Deno.build.arch];
  const recipe = { RECIPE_VERSION, variant: "minbase", suite, mirror, arch, SLIM_DPKG_EXCLUDES };
  const key = (await sha256Text(JSON.stringify(recipe))).slice(0, 16);
  const name = `debian-${suite}-slim-`;
  const tar = join(cacheDir, `${name}${key}.tar`);
  const image = { official: `debian:${suite}-slim`, tar, key, changes: [`ENV=${PATH}`, 'CMD=["bash"]'] };
  if (await exists(tar)) return { ...image, built: false, seconds: (performance.now() - started) / 1000 };

  log(`building debian:${suite}-slim stand-in: debootstrap --variant=minbase ${suite} from ${mirror}`);
  const rootfs = join(work, `debian-${suite}`);
  await run("debootstrap", ["--variant=minbase", suite, rootfs, mirror], { log, quiet: true });
  await Deno.mkdir(join(rootfs, "etc/dpkg/dpkg.cfg.d"), { recursive: true });
  await Deno.writeTextFile(join(rootfs, "etc/dpkg/dpkg.cfg.d/docker"), SLIM_DPKG_EXCLUDES);
  await slim(rootfs);
  await tarInto(rootfs, tar, log);
  await writeJsonAtomic(`${tar}.json`, { ...recipe, built_at: new Date().toISOString() });
  await Deno.remove(rootfs, { recursive: true });
  await dropStale(cacheDir, "debian-", `${name}${key}`);
  return { ...image, built: true, seconds: (performance.now() - started) / 1000 };
}

/** Deletes what the slim excludes name, apt's lists and caches, and the host's name and resolver. */
async function slim(rootfs: string): Promise<void> {
  const clear = async (dir: string, keep: (path: string) => boolean = () => false) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(join(rootfs, dir)));
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (keep(path)) continue;
      if (dir === "usr/share/doc" && entry.isDirectory) {
        await clear(path, (p) => p.endsWith("/copyright"));
      } else {
        await Deno.remove(join(rootfs, path), { recursive: true });
      }
    }
  };
  for (const dir of ["usr/share/doc", "usr/share/groff", "usr/share/info", "usr/share/linda"]) {
    await clear(dir);
  }
  for (const dir of ["usr/share/lintian/overrides", "usr/share/locale", "usr/share/man"]) await clear(dir);
  await clear("var/lib/apt/lists", (p) => p.endsWith("/partial"));
  await clear("var/cache/apt", (p) => p.endsWith("/archives"));
  await clear("var/cache/apt/archives", (p) => p.endsWith("/partial") || p.endsWith("/lock"));
  for (const file of ["etc/hostname", "etc/resolv.conf"]) await Deno.writeTextFile(join(rootfs, file), "");
}

/** The path of a `deno` binary of `version`: the running one, or one npm installs into the cache. */
export async function denoBinary(version: string, cacheDir: string, log: Log): Promise<string> {
  if (Deno.version.deno === version) return Deno.execPath();
  const prefix = join(cacheDir, `npm-deno-${version}`);
  const candidates = [
    `${prefix}/node_modules/deno/deno`,
    `${prefix}/node_modules/@deno/linux-x64-glibc/deno`,
  ];
  for (const path of candidates) if (await exists(path)) return path;
  log(`this test runs on Deno ${Deno.version.deno}; installing deno@${version} from npm for the image`);
  await run("npm", ["install", "--no-save", "--prefix", prefix, `deno@${version}`], { log, quiet: true });
  for (const path of candidates) if (await exists(path)) return path;
  throw new Error(`npm installed deno@${version} but no binary is at ${candidates.join(" or ")}`);
}

/** The `denoland/deno:debian-<version>` stand-in: the Debian stand-in plus the binary, as the official image. */
export async function denoDebian(
  cacheDir: string,
  debian: BaseImage,
  binary: string,
  version: string,
  work: string,
  log: Log,
): Promise<BaseImage> {
  const started = performance.now();
  const recipe = { RECIPE_VERSION, debian: debian.key, version, binary: await sha256File(binary) };
  const key = (await sha256Text(JSON.stringify(recipe))).slice(0, 16);
  const name = `deno-debian-${version}-`;
  const tar = join(cacheDir, `${name}${key}.tar`);
  const changes = [
    `ENV=${PATH}`,
    `ENV=DENO_DIR=${STAND_IN_DENO_DIR}/`,
    "ENV=DENO_INSTALL_ROOT=/usr/local",
    'CMD=["deno"]',
  ];
  const image = { official: `denoland/deno:debian-${version}`, tar, key, changes };
  if (await exists(tar)) return { ...image, built: false, seconds: (performance.now() - started) / 1000 };

  log(`building denoland/deno:debian-${version} stand-in: the Debian stand-in + ${binary}`);
  const rootfs = join(work, `deno-debian-${version}`);
  await Deno.mkdir(rootfs);
  await run("tar", ["--numeric-owner", "-C", rootfs, "-xf", debian.tar], { log });
  await Deno.copyFile(binary, join(rootfs, "usr/bin/deno"));
  await Deno.chmod(join(rootfs, "usr/bin/deno"), 0o755);
  await run("chroot", [rootfs, "useradd", "--uid", "1993", "--user-group", "deno"], { log });
  await Deno.mkdir(join(rootfs, STAND_IN_DENO_DIR));
  await Deno.chown(join(rootfs, STAND_IN_DENO_DIR), 1993, 1993);
  const reported = await run("chroot", [rootfs, "deno", "--version"], { log });
  if (!reported.includes(`deno ${version} `)) throw new Error(`the stand-in's deno says: ${reported}`);
  await tarInto(rootfs, tar, log);
  await writeJsonAtomic(`${tar}.json`, { ...recipe, source: binary, built_at: new Date().toISOString() });
  await Deno.remove(rootfs, { recursive: true });
  await dropStale(cacheDir, "deno-debian-", `${name}${key}`);
  return { ...image, built: true, seconds: (performance.now() - started) / 1000 };
}

/**
 * Fills `denoDir`'s npm cache with the locked packages, on the host (same Deno, same cache layout as in
 * the build). A failure is only logged: the build then downloads them itself.
 */
export async function prefetchNpm(root: string, denoDir: string, dir: string, log: Log): Promise<void> {
  await Deno.mkdir(join(denoDir, "npm"), { recursive: true });
  // The configuration deno install reads: the root's, the lockfile and each workspace member's.
  const members: string[] = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)).workspace ?? [];
  for (const file of ["deno.json", "deno.lock", ...members.map((m) => `${m}/deno.json`)]) {
    await Deno.mkdir(dirname(join(dir, file)), { recursive: true });
    await Deno.copyFile(`${root}/${file}`, join(dir, file));
  }
  const started = performance.now();
  try {
    await run("deno", ["install", "--frozen", "--node-modules-dir=none", "--quiet"], {
      cwd: dir,
      env: { DENO_DIR: denoDir, NO_COLOR: "1" },
    });
    log(
      `npm packages of deno.lock cached in ${denoDir}/npm (${
        ((performance.now() - started) / 1000).toFixed(1)
      } s)`,
    );
  } catch (error) {
    log(`could not prefetch the npm packages (the build will download them): ${(error as Error).message}`);
  }
}
