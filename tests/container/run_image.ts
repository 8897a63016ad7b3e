/**
 * `deno task test:container`: builds the Dockerfile's image with podman and runs it for real on this
 * machine, then checks what a user of `docker run` relies on.
 *
 * `podman run` cannot start containers here (crun cannot set RLIMIT_NOFILE/NPROC), so the image's
 * exported filesystem runs under chroot(8): its entrypoint, user, working directory, environment,
 * volumes and HEALTHCHECK all come from `podman inspect`, but there are no namespaces or cgroups.
 *
 * Steps: the local stand-ins for the base images (cached, see base_images.ts) → `podman build
 * --isolation chroot` → `podman export` → run the entrypoint under chroot as the image's user →
 * checks → clean-up of images, containers, mounts and files, on failure and on Ctrl-C too. Podman uses
 * a storage of its own under a temporary folder, so a run leaves no image or layer behind.
 * Needs root (debootstrap, chroot, mount). `CREDIT_RISK_CI_CACHE` overrides the cache folder.
 * @module
 */

import { join } from "node:path";
import { DEFAULT_CONFIG } from "../../pipeline/serving/config.ts";
import { debianSlim, denoBinary, denoDebian, prefetchNpm, STAND_IN_DENO_DIR } from "./base_images.ts";
import {
  assert,
  Checks,
  Cleanup,
  dockerfileArg,
  flagDifferences,
  IMAGE_ONLY_FLAGS,
  megabytes,
  seconds,
} from "./harness.ts";
import { checkRunningImage, SERVER_OUTPUT } from "./image_checks.ts";
import { CommandError, type Log, run, stopRunning } from "./process.ts";
import { imageConfig, mountsUnder, resolveUser, Rootfs, sizeOf, umount } from "./rootfs.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Room for podman's storage (the build's four stages) and the exported filesystem: about 1.5 GB is used. */
const WORK_TMPFS_SIZE = "6g";

const NOTICE = `test:container — NOTE: this runs the image's FILESYSTEM and ENTRYPOINT under chroot(8), as the
image's user; it is NOT a namespaced container. \`podman run\` cannot start containers on this machine
(crun: setrlimit RLIMIT_NOFILE/NPROC: Operation not permitted), so the image is built with
\`podman build --isolation chroot\`, exported, and its entrypoint, USER, WORKDIR, ENV, VOLUME and
HEALTHCHECK are read from \`podman inspect\` and applied by hand. There is no network, PID or mount
namespace and no cgroup: the server listens on the host's loopback.`;

async function main(): Promise<number> {
  const started = performance.now();
  const log: Log = (line) => console.log(`[${seconds(performance.now() - started).padStart(7)}] ${line}`);
  console.log(NOTICE);
  if (Deno.uid() !== 0) {
    console.error("test:container: needs root (debootstrap, chroot, mount); CI runs as root");
    return 1;
  }
  const checks = new Checks(log);
  const timings: string[] = [];
  const cleanup = new Cleanup(log);
  const runId = crypto.randomUUID().slice(0, 8);
  // Short: podman refuses a run root longer than 50 characters.
  const work = await Deno.makeTempDir({ prefix: "ctr-test-" });
  // Everything of the run (podman's storage, the exported filesystem) lives in a tmpfs of its own: writes
  // stay off the disk and the clean-up is one unmount instead of deleting tens of thousands of files.
  const inMemory = await run("mount", [
    "-t",
    "tmpfs",
    "-o",
    `size=${WORK_TMPFS_SIZE},mode=0700`,
    "ctr-test",
    work,
  ], {
    log,
    allowFailure: true,
  }).then(async () => (await mountsUnder(work)).includes(work));
  cleanup.push(`the work folder ${work}${inMemory ? " (a tmpfs)" : ""}`, async () => {
    // An interrupted build leaves its overlay mounts behind: deepest first, then the tmpfs itself.
    const mounts = (await mountsUnder(work)).sort((a, b) => b.length - a.length);
    for (const target of mounts) {
      await umount(target, log);
    }
    const left = await mountsUnder(work);
    if (left.length > 0) throw new Error(`not deleting ${work}: still mounted: ${left.join(", ")}`);
    await Deno.remove(work, { recursive: true });
  });
  // A storage of this run's own: removing it removes every image, layer and container the run made.
  const storage = ["--root", join(work, "storage"), "--runroot", join(work, "run")];
  const podman = (args: string[], options: { quiet?: boolean; allowFailure?: boolean } = {}) =>
    run("podman", [...storage, ...args], { log, ...options });
  // Then the work folder goes, and the images and layers in it (faster than `podman rmi`, one by one).
  cleanup.push("podman's containers of this run, the build's included", async () => {
    const ids = (await podman(["ps", "--all", "--external", "--quiet", "--no-trunc"], { quiet: true }))
      .split("\n").filter(Boolean);
    if (ids.length > 0) await podman(["rm", "--force", ...ids]);
  });
  const onSignal = async () => {
    log("interrupted: stopping the running commands, then cleaning up");
    log(`stopped ${await stopRunning()} commands`);
    await cleanup.run();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);

  try {
    // 1. The base images' stand-ins.
    const dockerfile = await Deno.readTextFile(`${ROOT}/Dockerfile`);
    const version = dockerfileArg(dockerfile, "DENO_VERSION");
    const runtimeImage = dockerfileArg(dockerfile, "RUNTIME_IMAGE");
    const suite = runtimeImage.match(/^debian:(\w+)-slim$/)?.[1];
    assert(suite, `RUNTIME_IMAGE ${runtimeImage} is not a debian:<suite>-slim image`);
    const home = Deno.env.get("XDG_CACHE_HOME") || `${Deno.env.get("HOME") ?? "/root"}/.cache`;
    const cacheDir = Deno.env.get("CREDIT_RISK_CI_CACHE") || `${home}/credit-risk-ci`;
    await Deno.mkdir(cacheDir, { recursive: true });
    log(`base images: stand-ins cached in ${cacheDir}`);
    // The npm packages deno install downloads in the build, kept between runs (as a BuildKit cache mount
    // would) and fetched on the host while the base images build.
    const npmDenoDir = join(cacheDir, "deno-dir");
    const prefetch = prefetchNpm(ROOT, npmDenoDir, join(work, "npm-prefetch"), log);
    const debian = await debianSlim(cacheDir, suite, work, log);
    const deno = await denoDebian(
      cacheDir,
      debian,
      await denoBinary(version, cacheDir, log),
      version,
      work,
      log,
    );
    const tags: Record<string, string> = {};
    await Promise.all([debian, deno].map(async (base) => {
      const tag = `localhost/credit-risk-ci/${base.official.replace(/^.*\//, "")}`;
      await podman(["import", ...base.changes.flatMap((c) => ["--change", c]), base.tar, tag], {
        quiet: true,
      });
      tags[base.official] = tag;
      log(
        `${base.official} stand-in: ${base.built ? "built" : "from the cache"} in ${
          base.seconds.toFixed(1)
        } s ` +
          `(${base.tar}), imported as ${tag}`,
      );
    }));
    await prefetch;
    timings.push(
      `base images ${seconds(performance.now() - started)} (${
        debian.built || deno.built ? "built" : "cached"
      })`,
    );

    // 2. The build.
    const image = "localhost/credit-risk-ci/credit-risk:test";
    const buildArgs = [
      "build",
      "--isolation",
      "chroot",
      "--format",
      "docker", // HEALTHCHECK is Docker's: the OCI format drops it
      "--pull=never",
      "--build-arg",
      `DENO_IMAGE=${tags[deno.official]}`,
      "--build-arg",
      `RUNTIME_IMAGE=${tags[debian.official]}`,
    ];
    buildArgs.push("--volume", `${join(npmDenoDir, "npm")}:${STAND_IN_DENO_DIR}/npm`);
    const ca = Deno.env.get("DENO_CERT") || Deno.env.get("SSL_CERT_FILE");
    if (ca && (await Deno.stat(ca).catch(() => null))) {
      // Behind a TLS-intercepting proxy, deno install inside the build needs the host's CA bundle.
      buildArgs.push("--volume", `${ca}:/run/build-ca.pem:ro`, "--build-arg", "DENO_CERT=/run/build-ca.pem");
    }
    buildArgs.push("--tag", image, ROOT);
    const buildStarted = performance.now();
    await run("podman", [...storage, ...buildArgs], {
      log,
      onLine: (line) => {
        // Progress: each Dockerfile step, and what the prune kept.
        if (/^\[\d+\/\d+\] STEP \d+\/\d+: (FROM|RUN|COPY)/.test(line)) log(`  ${line.slice(0, 110)}`);
        if (line.startsWith("prune_node_modules:")) log(`  ${line.replace(/: [^:]*$/, "")}`);
      },
    });
    log(`built ${image} in ${seconds(performance.now() - buildStarted)}`);
    timings.push(`podman build ${seconds(performance.now() - buildStarted)}`);
    const checksStarted = performance.now();

    // 3. What a runtime reads from the image.
    const config = imageConfig(JSON.parse(await podman(["image", "inspect", image], { quiet: true })));
    const history = JSON.parse(await podman(["history", "--format", "json", image], { quiet: true })) as {
      size: number;
      createdBy?: string;
      CreatedBy?: string;
    }[];
    log("the image's layers, base first:");
    for (const layer of history.filter((l) => l.size > 0).reverse()) {
      const step = (layer.createdBy ?? layer.CreatedBy ?? "").replace("/bin/sh -c #(nop) ", "").replace(
        /\s+/g,
        " ",
      );
      log(`  ${megabytes(layer.size).padStart(9)}  ${step.slice(0, 100)}`);
    }
    const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks as Record<string, string>;
    const auditDir = `${config.workdir}/${DEFAULT_CONFIG.auditPath!.replace(/\/[^/]+$/, "")}`;
    const portEnv = config.env.find((e) => e.startsWith("PORT="))?.slice(5);
    await checks.check("the image's settings", () => {
      assert(config.user && config.user !== "root" && config.user !== "0", `USER is ${config.user}`);
      assert(
        config.exposedPorts.includes(`${portEnv}/tcp`),
        `EXPOSE ${config.exposedPorts} but PORT=${portEnv}`,
      );
      assert(
        config.volumes.includes(auditDir),
        `VOLUME ${config.volumes} lacks the audit trail's ${auditDir}`,
      );
      assert(config.healthcheck, "no HEALTHCHECK");
      const argv = [...config.entrypoint, ...config.cmd];
      assert(argv.slice(0, 2).join(" ") === "deno run", `ENTRYPOINT ${argv.join(" ")}`);
      const differences = flagDifferences(argv, tasks.serve);
      assert(differences.length === 0, `ENTRYPOINT against the serve task: ${differences.join(", ")}`);
      return `USER ${config.user}, WORKDIR ${config.workdir}, EXPOSE ${config.exposedPorts}, ` +
        `VOLUME ${config.volumes}, the serve task's flags + ${IMAGE_ONLY_FLAGS.join(" ")}`;
    });

    // 4. The filesystem, with /proc, /dev and the volumes a runtime would provide.
    const rootfs = await Rootfs.export(["podman", ...storage], image, join(work, "rootfs"), log);
    cleanup.push("the exported filesystem's mounts", () => rootfs.unmountAll());
    const parts = ["/usr/bin/deno", `${config.workdir}/node_modules`, "/deno-dir", config.workdir];
    const sizes = new Map<string, number>();
    for (const part of parts) sizes.set(part, await sizeOf(rootfs.path(part)).catch(() => 0));
    sizes.set(config.workdir, sizes.get(config.workdir)! - sizes.get(`${config.workdir}/node_modules`)!);
    const base = config.size - [...sizes.values()].reduce((a, b) => a + b, 0);
    log(
      `image size ${megabytes(config.size)}: ${
        [...sizes].map(([p, b]) => `${p} ${megabytes(b)}`).join(", ")
      } ` +
        `(${config.workdir} without node_modules), the base image ${megabytes(base)}`,
    );
    await rootfs.prepareSystem();
    const user = resolveUser(
      config.user,
      await Deno.readTextFile(rootfs.path("etc/passwd")),
      await Deno.readTextFile(rootfs.path("etc/group")),
    );
    const volumes = new Map<string, string>();
    for (const [index, inside] of config.volumes.entries()) {
      // Like a new named volume: a fresh folder with the owner and mode the image gives that path.
      const host = join(work, "volumes", String(index));
      await Deno.mkdir(host, { recursive: true });
      const info = await Deno.stat(rootfs.path(inside));
      await Deno.chown(host, info.uid, info.gid);
      await Deno.chmod(host, info.mode! & 0o7777);
      await rootfs.bindVolume(host, inside);
      volumes.set(inside, host);
    }
    await checks.check("no browser, test tools or sources of tests in the image", async () => {
      const found: string[] = [];
      for (
        const path of [
          "usr/bin/chromium",
          "usr/lib/chromium",
          `${config.workdir}/tests`,
          `${config.workdir}/bench`,
          `${config.workdir}/notebooks`,
          `${config.workdir}/node_modules/.deno/puppeteer-core@25.16.0`,
          `${config.workdir}/node_modules/puppeteer-core`,
          `${config.workdir}/node_modules/fast-check`,
          `${config.workdir}/node_modules/onnxruntime-node`,
          `${config.workdir}/node_modules/.deno/nodejs-polars-linux-x64-musl@0.25.2`,
        ]
      ) if (await Deno.lstat(rootfs.path(path)).catch(() => null)) found.push(path);
      assert(found.length === 0, `found ${found.join(", ")}`);
      return "no chromium, puppeteer-core, fast-check, onnxruntime-node, tests/, bench/, notebooks/ or musl polars";
    });

    await checkRunningImage({
      root: ROOT,
      work,
      runId,
      rootfs,
      config,
      user,
      volumes,
      auditDir,
      checks,
      cleanup,
      log,
    });
    timings.push(`export, run and checks ${seconds(performance.now() - checksStarted)}`);
  } catch (error) {
    checks.failed.push("setup");
    log(`FAIL ${error instanceof CommandError ? error.message : (error as Error).stack}`);
  } finally {
    if (checks.failed.length > 0) {
      for (const name of SERVER_OUTPUT) {
        const text = await Deno.readTextFile(join(work, name)).catch(() => "");
        if (!text) continue;
        console.log(
          `--- the server's ${name.slice(7)}, last lines:\n${text.split("\n").slice(-30).join("\n")}`,
        );
      }
    }
    const left = await cleanup.run();
    if (left.length > 0) checks.failed.push(...left.map((l) => `clean-up: ${l}`));
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  const total = seconds(performance.now() - started);
  if (timings.length > 0) console.log(`test:container timings: ${timings.join(", ")}`);
  console.log(
    `test:container: ${checks.passed} passed, ${checks.failed.length} failed in ${total} ` +
      `(the image's filesystem and entrypoint under chroot, not a namespaced container)` +
      (checks.failed.length ? `\nfailed: ${checks.failed.join("; ")}` : ""),
  );
  return checks.failed.length === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
