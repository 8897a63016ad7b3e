/**
 * An image's exported filesystem on the host, run under chroot(8) the way a container runtime would
 * run the image: its user, working directory, environment and volumes come from `podman inspect`;
 * /proc is mounted, /dev holds the usual device nodes, and each volume is a host folder bind-mounted
 * at its path. There is no namespace: the process shares the host's network, PIDs and kernel limits.
 * @module
 */

import { join } from "node:path";
import { type Log, run } from "./process.ts";

/** The parts of an image's configuration a runtime acts on. */
export interface ImageConfig {
  id: string;
  size: number;
  user: string;
  workdir: string;
  env: string[];
  entrypoint: string[];
  cmd: string[];
  volumes: string[];
  exposedPorts: string[];
  /** `["CMD", …]` or `["CMD-SHELL", "…"]`; null without a HEALTHCHECK. */
  healthcheck: { test: string[]; timeoutMs: number } | null;
}

/** Reads an image's configuration from `podman image inspect` output. */
export function imageConfig(inspect: unknown): ImageConfig {
  // deno-lint-ignore no-explicit-any
  const image = (Array.isArray(inspect) ? inspect[0] : inspect) as any;
  const config = image.Config ?? {};
  const health = image.Healthcheck ?? config.Healthcheck ?? null;
  return {
    id: image.Id,
    size: image.Size,
    user: config.User || "root",
    workdir: config.WorkingDir || "/",
    env: config.Env ?? [],
    entrypoint: config.Entrypoint ?? [],
    cmd: config.Cmd ?? [],
    volumes: Object.keys(config.Volumes ?? {}).sort(),
    exposedPorts: Object.keys(config.ExposedPorts ?? {}).sort(),
    healthcheck: health?.Test && health.Test[0] !== "NONE"
      ? { test: health.Test, timeoutMs: (health.Timeout || 30e9) / 1e6 }
      : null,
  };
}

/** A user as a runtime resolves `USER`: ids from the image's own passwd and group files. */
export interface UserIds {
  uid: number;
  gid: number;
  /** Supplementary groups, the primary one first. */
  groups: number[];
}

/** Resolves `name`, `uid`, `name:group` or `uid:gid` against the image's /etc/passwd and /etc/group. */
export function resolveUser(spec: string, passwd: string, group: string): UserIds {
  const [userPart, groupPart] = spec.split(":");
  const users = passwd.split("\n").filter(Boolean).map((line) => line.split(":"));
  const groups = group.split("\n").filter(Boolean).map((line) => line.split(":"));
  const user = users.find((u) => u[0] === userPart || u[2] === userPart);
  const uid = user ? Number(user[2]) : Number(userPart);
  if (!Number.isInteger(uid)) throw new Error(`USER ${spec}: no user ${userPart} in the image's /etc/passwd`);
  let gid = user ? Number(user[3]) : uid;
  if (groupPart !== undefined) {
    const named = groups.find((g) => g[0] === groupPart || g[2] === groupPart);
    gid = named ? Number(named[2]) : Number(groupPart);
    if (!Number.isInteger(gid)) {
      throw new Error(`USER ${spec}: no group ${groupPart} in the image's /etc/group`);
    }
  }
  const name = user?.[0];
  const extra = name
    ? groups.filter((g) => (g[3] ?? "").split(",").includes(name)).map((g) => Number(g[2]))
    : [];
  return { uid, gid, groups: [gid, ...extra.filter((g) => g !== gid)] };
}

/** The mount points under `dir`, as findmnt(8) lists them (Deno only lets -A read /proc/self). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const table = await run("findmnt", ["--list", "--noheadings", "--output", "TARGET"]);
  return table.split("\n")
    .map((point) => point.replace(/\\x([0-9a-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))))
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
}

/** Unmounts `target`; lazily when it is still busy, so that it is gone from the tree at least. */
export async function umount(target: string, log: Log): Promise<void> {
  try {
    await run("umount", [target], { log });
  } catch {
    await run("umount", ["--lazy", target], { log });
  }
}

/** Device nodes a container runtime creates in /dev: [name, major, minor]. */
const DEVICES: [string, number, number][] = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
  ["tty", 5, 0],
];

/** An exported image's filesystem and what is mounted in it. */
export class Rootfs {
  readonly #mounted: string[] = [];

  constructor(readonly dir: string, readonly log: Log) {}

  /** Extracts `podman export` of a container of `image` (the container is removed again). */
  static async export(podman: readonly string[], image: string, dir: string, log: Log): Promise<Rootfs> {
    const [program, ...options] = podman;
    const container = (await run(program, [...options, "create", image], { log })).trim();
    try {
      await Deno.mkdir(dir, { recursive: true });
      log(`$ podman export ${container.slice(0, 12)} | tar --numeric-owner -C ${dir} -x`);
      const exporter = new Deno.Command(program, {
        args: [...options, "export", container],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const tar = new Deno.Command("tar", {
        args: ["--numeric-owner", "-C", dir, "-x"],
        stdin: "piped",
        stderr: "piped",
      }).spawn();
      await exporter.stdout.pipeTo(tar.stdin);
      const [exported, extracted] = await Promise.all([exporter.output(), tar.output()]);
      if (!exported.success || !extracted.success) {
        const decoder = new TextDecoder();
        throw new Error(
          `podman export | tar failed: ${decoder.decode(exported.stderr)}${decoder.decode(extracted.stderr)}`,
        );
      }
    } finally {
      // podman warns that it cannot reach systemd to drop the health-check timer it never started.
      await run(program, [...options, "rm", container], { log, allowFailure: true });
    }
    return new Rootfs(dir, log);
  }

  /** A path inside the filesystem. */
  path(inside: string): string {
    return join(this.dir, inside);
  }

  /** Creates /dev's device nodes and links, and mounts /proc. */
  async prepareSystem(): Promise<void> {
    const dev = this.path("dev");
    await Deno.mkdir(dev, { recursive: true });
    const missing = async (name: string) => !(await Deno.lstat(join(dev, name)).catch(() => null));
    for (const [name, major, minor] of DEVICES) {
      if (await missing(name)) {
        await run("mknod", ["-m", "666", join(dev, name), "c", String(major), String(minor)]);
      }
    }
    const links = {
      fd: "/proc/self/fd",
      stdin: "/proc/self/fd/0",
      stdout: "/proc/self/fd/1",
      stderr: "/proc/self/fd/2",
    };
    for (const [name, target] of Object.entries(links)) {
      if (await missing(name)) await Deno.symlink(target, join(dev, name));
    }
    await this.#mount(["-t", "proc", "proc"], "proc");
  }

  /** Bind-mounts a host folder at `inside`, as a volume. */
  async bindVolume(hostDir: string, inside: string): Promise<void> {
    await this.#mount(["--bind", hostDir], inside);
  }

  async #mount(args: string[], inside: string): Promise<void> {
    const target = this.path(inside);
    await Deno.mkdir(target, { recursive: true });
    await run("mount", [...args, target], { log: this.log });
    this.#mounted.push(target);
  }

  /** chroot's arguments running `argv` as `user` in `workdir` with exactly `env`. */
  command(user: UserIds, workdir: string, env: string[], argv: string[]): string[] {
    // chroot leaves the process in /; the image's own env(1) moves it to the working directory.
    return [
      `--userspec=${user.uid}:${user.gid}`,
      `--groups=${user.groups.join(",")}`,
      this.dir,
      "/usr/bin/env",
      "-i",
      `--chdir=${workdir}`,
      ...env,
      ...argv,
    ];
  }

  /** Unmounts everything mounted here, most recent first. */
  async unmountAll(): Promise<void> {
    while (this.#mounted.length > 0) {
      await umount(this.#mounted.at(-1)!, this.log);
      this.#mounted.pop();
    }
  }
}

/** Bytes of the files under `path` (or of the file itself), symbolic links not followed. */
export async function sizeOf(path: string): Promise<number> {
  const info = await Deno.lstat(path);
  if (!info.isDirectory) return info.size;
  let bytes = 0;
  for await (const entry of Deno.readDir(path)) bytes += await sizeOf(join(path, entry.name));
  return bytes;
}

/** A file's identity for {@link snapshot}: type, mode, owner, size and modification time. */
export type Snapshot = Map<string, string>;

/** Every path under `dir` but the excluded ones, with what a write would change. */
export async function snapshot(dir: string, exclude: readonly string[]): Promise<Snapshot> {
  const seen: Snapshot = new Map();
  const skip = new Set(exclude.map((e) => join(dir, e)));
  const walk = async (path: string): Promise<void> => {
    for await (const entry of Deno.readDir(path)) {
      const child = join(path, entry.name);
      if (skip.has(child)) continue;
      const info = await Deno.lstat(child);
      seen.set(
        child.slice(dir.length),
        `${entry.isDirectory ? "d" : entry.isSymlink ? "l" : "f"} ${
          info.mode?.toString(8)
        } ${info.uid}:${info.gid} ` +
          `${info.size} ${info.mtime?.getTime()}`,
      );
      if (entry.isDirectory) await walk(child);
    }
  };
  await walk(dir);
  return seen;
}

/** Paths added, changed or removed between two snapshots. */
export function snapshotDiff(before: Snapshot, after: Snapshot): string[] {
  const changes: string[] = [];
  for (const [path, identity] of after) {
    const previous = before.get(path);
    if (previous === undefined) changes.push(`+ ${path}`);
    else if (previous !== identity) changes.push(`~ ${path}`);
  }
  for (const path of before.keys()) if (!after.has(path)) changes.push(`- ${path}`);
  return changes.sort();
}
