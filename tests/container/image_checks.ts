/**
 * The checks of the running image: its entrypoint started under chroot as the image's user, then
 * `/health`, `/ready`, a `POST /predict` against the training run's record, the `HEALTHCHECK` command,
 * a clean SIGTERM, the audit row in the volume, an unchanged filesystem, and who may write where.
 * @module
 */

import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { assert, type Checks, type Cleanup, freePort, seconds, testSplitApplicant } from "./harness.ts";
import { type Log, status } from "./process.ts";
import { type ImageConfig, type Rootfs, snapshot, snapshotDiff, type UserIds } from "./rootfs.ts";

/** What the checks of the running image need. */
export interface RunningImage {
  root: string;
  work: string;
  runId: string;
  rootfs: Rootfs;
  config: ImageConfig;
  user: UserIds;
  /** Host folder of each volume, by its path in the image. */
  volumes: Map<string, string>;
  auditDir: string;
  checks: Checks;
  cleanup: Cleanup;
  log: Log;
}

/** One process the image runs: chroot's arguments and the process once spawned. */
interface InImage {
  args: string[];
  child?: Deno.ChildProcess;
}

/** Where the server's output goes, for the report of a failed run. */
export const SERVER_OUTPUT = ["server.stdout", "server.stderr"];

/** Starts the image's entrypoint and runs the checks on it (see the module doc). */
export async function checkRunningImage(image: RunningImage): Promise<void> {
  const { root, work, runId, rootfs, config, user, volumes, auditDir, checks, cleanup, log } = image;
  const untouched = ["proc", "dev", ...config.volumes.map((v) => v.slice(1))];
  const before = await snapshot(rootfs.dir, untouched);
  const port = freePort();
  // What `docker run -e PORT=… -e HOST=127.0.0.1` would set: here the host's network is the image's.
  const env = [...config.env.filter((e) => !/^(PORT|HOST)=/.test(e)), `PORT=${port}`, "HOST=127.0.0.1"];
  const inImage = (argv: string[]): InImage => ({ args: rootfs.command(user, config.workdir, env, argv) });
  const healthcheckArgv = config.healthcheck!.test[0] === "CMD-SHELL"
    ? ["/bin/sh", "-c", config.healthcheck!.test[1]]
    : config.healthcheck!.test.slice(1);
  const healthcheck = async () => {
    const t = performance.now();
    const child = new Deno.Command("chroot", {
      args: inImage(healthcheckArgv).args,
      stdout: "null",
      stderr: "piped",
    })
      .spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), config.healthcheck!.timeoutMs);
    const { code } = await child.output();
    clearTimeout(timer);
    return { code, ms: performance.now() - t };
  };

  // The server: the image's entrypoint, as its user, in its working directory.
  const server = inImage([...config.entrypoint, ...config.cmd]);
  log(`$ chroot ${server.args.join(" ")}`);
  const spawned = performance.now();
  server.child = new Deno.Command("chroot", { args: server.args, stdout: "piped", stderr: "piped" })
    .spawn();
  const output = Promise.all([
    server.child.stdout.pipeTo((await Deno.create(join(work, SERVER_OUTPUT[0]))).writable),
    server.child.stderr.pipeTo((await Deno.create(join(work, SERVER_OUTPUT[1]))).writable),
  ]);
  cleanup.push("the server process", async () => {
    try {
      server.child!.kill("SIGKILL");
    } catch { /* already gone */ }
    await server.child!.status;
  });
  const url = `http://127.0.0.1:${port}`;
  const serving = await checks.check("GET /health", async () => {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const response = await fetch(`${url}/health`).catch(() => null);
      if (response?.ok) {
        const body = await response.json();
        assert(body.status === "ok", JSON.stringify(body));
        return `200 ${JSON.stringify(body)}, ${
          seconds(performance.now() - spawned)
        } after the entrypoint started`;
      }
      await response?.body?.cancel();
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error("no 200 from /health within 60 s");
  });
  let requestId = "";
  if (serving) {
    await checks.check("GET /ready", async () => {
      const response = await fetch(`${url}/ready`);
      await response.body?.cancel();
      assert(response.status === 200, `status ${response.status}`);
      return "200: the production model is loaded";
    });
    await checks.check("POST /predict, with its reasons", async () => {
      const { applicant, recorded } = await testSplitApplicant(root);
      const response = await fetch(`${url}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(applicant),
      });
      const body = await response.json();
      assert(response.status === 200, `status ${response.status}: ${JSON.stringify(body)}`);
      // The oracle: the probability the training run recorded for this test-split row.
      assert(
        Math.abs(body.probability_bad - recorded) < 1e-9,
        `P(bad) ${body.probability_bad} ≠ ${recorded}`,
      );
      const expected = body.probability_bad >= body.threshold ? "decline" : "approve";
      assert(body.decision === expected, `decision ${body.decision} at P(bad) ${body.probability_bad}`);
      assert(Array.isArray(body.reasons) && body.reasons.length > 0, "no reasons");
      for (const reason of body.reasons) {
        assert(
          reason.sentence?.en && reason.sentence?.es,
          `reason without sentences: ${JSON.stringify(reason)}`,
        );
        assert(
          (reason.contribution > 0) === (reason.direction === "raises"),
          `direction ${reason.direction} for contribution ${reason.contribution}`,
        );
      }
      requestId = body.request_id;
      return `P(bad) ${body.probability_bad.toFixed(4)} as recorded at training, ${body.decision}, ` +
        `${body.reasons.length} reasons, first: "${body.reasons[0].sentence.en}"`;
    });
    await checks.check("the HEALTHCHECK command while serving", async () => {
      const { code, ms } = await healthcheck();
      assert(code === 0, `exit ${code}`);
      return `exit 0 in ${seconds(ms)} (timeout ${seconds(config.healthcheck!.timeoutMs)}): ${
        healthcheckArgv.join(" ")
      }`;
    });
  }
  await checks.check("SIGTERM stops the server cleanly", async () => {
    server.child!.kill("SIGTERM");
    const { code } = await server.child!.status;
    await output;
    assert(code === 0, `exit ${code}`);
    return "exit 0";
  });
  await checks.check("the HEALTHCHECK command once stopped", async () => {
    const { code } = await healthcheck();
    assert(code !== 0, "exit 0 with no server");
    return `exit ${code}`;
  });
  await checks.check("the decision is in the audit volume", () => {
    const db = new DatabaseSync(join(volumes.get(auditDir)!, "audit.sqlite"), { readOnly: true });
    try {
      const rows = db.prepare("SELECT request_id FROM decisions").all() as { request_id: string }[];
      assert(rows.length === 1 && rows[0].request_id === requestId, `rows ${JSON.stringify(rows)}`);
    } finally {
      db.close();
    }
    return `1 row, request ${requestId}, in the host folder mounted at ${auditDir}`;
  });
  await checks.check("the server wrote nothing outside its audit volume", async () => {
    const changes = snapshotDiff(before, await snapshot(rootfs.dir, untouched));
    assert(changes.length === 0, changes.slice(0, 20).join(", "));
    return `${before.size} paths unchanged`;
  });

  // Who may write where: the entrypoint's own flags, then all writes granted by Deno (the OS alone).
  const probe = `/tmp/write-probe-${runId}.ts`;
  await Deno.copyFile(`${root}/tests/container/probe.ts`, rootfs.path(probe));
  const targets = [
    ...config.volumes.map((v) => `${v}/probe-${runId}`),
    ...["", "/models", "/node_modules", "/pipeline", "/static"].map((d) =>
      `${config.workdir}${d}/probe-${runId}`
    ),
    ...[
      "/tmp",
      config.env.find((e) => e.startsWith("DENO_DIR="))?.slice(9) ?? "/deno-dir",
      "/etc",
      "/usr/bin",
      "/",
    ]
      .map((d) => `${d.replace(/\/$/, "")}/probe-${runId}`),
  ];
  const probeWith = async (argv: string[]) => {
    const script = argv.findIndex((a, i) => i > argv.indexOf("run") && !a.startsWith("-"));
    const args = inImage([...argv.slice(0, script), probe, JSON.stringify(targets)]).args;
    const result = await status("chroot", args);
    assert(result.code === 0, `the probe failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, string>;
  };
  const volumeTargets = new Set(targets.slice(0, config.volumes.length));
  await checks.check("with the entrypoint's permissions, only the audit volume is writable", async () => {
    const outcomes = await probeWith([...config.entrypoint]);
    const wrong = targets.filter((t) => (outcomes[t] === "written") !== volumeTargets.has(t));
    assert(wrong.length === 0, wrong.map((t) => `${t}: ${outcomes[t]}`).join(", "));
    const byDeno = targets.filter((t) => outcomes[t] === "deno").length;
    return `written: ${[...volumeTargets].join(", ")}; refused: ${targets.length - volumeTargets.size} ` +
      `other paths (${byDeno} by Deno's --allow-write, ${
        targets.length - volumeTargets.size - byDeno
      } by the OS)`;
  });
  await checks.check(
    "as the image's user, the OS alone lets it write only the volume and /tmp",
    async () => {
      const widened = config.entrypoint.map((a) => a.startsWith("--allow-write") ? "--allow-write" : a);
      const outcomes = await probeWith(widened);
      const writable = targets.filter((t) => outcomes[t] === "written");
      const expected = [...volumeTargets, `/tmp/probe-${runId}`];
      assert(
        JSON.stringify(writable.sort()) === JSON.stringify(expected.sort()),
        `writable: ${writable.join(", ")}; ${JSON.stringify(outcomes)}`,
      );
      return `uid ${user.uid} may write ${writable.join(", ")}; the app, models, node_modules, ` +
        `DENO_DIR, /etc, /usr/bin and / are refused (EACCES)`;
    },
  );
  await Deno.remove(rootfs.path(probe));
}
