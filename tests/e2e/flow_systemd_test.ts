/**
 * The shipped schedule (`deploy/systemd/`): `systemd-analyze verify` accepts both units without a
 * warning, the timer's calendar parses, and the service's ExecStart — expanded with its
 * Environment= the way systemd does — runs as written in a working folder laid out like the
 * deployment (its own models/), records a flow, and a second start (the next night, same data)
 * answers from the record.
 */
import assert from "node:assert/strict";
import { listFlows } from "../../pipeline/flow/record.ts";
import { withTempDir } from "../temp.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const UNITS = `${ROOT}deploy/systemd`;

/** The `Key=value` lines of a unit's section (repeated keys kept in order). */
function unitSection(text: string, section: string): [string, string][] {
  const entries: [string, string][] = [];
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) current = header[1];
    else if (current === section) {
      const at = line.indexOf("=");
      entries.push([line.slice(0, at), line.slice(at + 1)]);
    }
  }
  return entries;
}

const hasSystemdAnalyze = await Deno.stat("/usr/bin/systemd-analyze").then(() => true, () => false);

Deno.test({
  name: "systemd-analyze accepts the units and the timer's calendar",
  ignore: !hasSystemdAnalyze,
  fn: async () => {
    const verify = await new Deno.Command("systemd-analyze", {
      args: ["verify", `${UNITS}/credit-risk-flow.service`, `${UNITS}/credit-risk-flow.timer`],
    }).output();
    assert.equal(verify.code, 0);
    assert.equal(new TextDecoder().decode(verify.stderr), "");
    const timer = await Deno.readTextFile(`${UNITS}/credit-risk-flow.timer`);
    const calendar = unitSection(timer, "Timer").find(([k]) => k === "OnCalendar")![1];
    const parsed = await new Deno.Command("systemd-analyze", { args: ["calendar", calendar] }).output();
    assert.equal(parsed.code, 0);
    assert.match(new TextDecoder().decode(parsed.stdout), /Next elapse: .* 02:15:00 UTC/);
  },
});

Deno.test("the service's ExecStart, expanded as systemd does, runs the flow and a second start is cached", async () => {
  const service = await Deno.readTextFile(`${UNITS}/credit-risk-flow.service`);
  const entries = unitSection(service, "Service");
  const exec = entries.find(([k]) => k === "ExecStart")![1];
  assert.match(exec, /^\/usr\/bin\/deno task flow --data \$\{FLOW_DATA\} --config \$\{FLOW_CONFIG\}/);
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  assert.match(tasks.flow, /pipeline\/cli\/flow\.ts$/);

  await withTempDir("flow-systemd-", async (work) => {
    // The deployment's layout: the code, and a models/ folder of its own.
    for (const name of ["deno.json", "deno.lock", "pipeline", "static", "serve.ts"]) {
      await Deno.symlink(`${ROOT}${name}`, `${work}/${name}`);
    }
    // node_modules must really sit in the folder: Deno checks the scoped --allow-ffi against the
    // addon's resolved path, as it would find it in a deployment. Hard links copy it in a second.
    const linked = await new Deno.Command("cp", {
      args: ["-al", `${ROOT}node_modules`, `${work}/node_modules`],
    })
      .output();
    assert.equal(linked.code, 0, new TextDecoder().decode(linked.stderr));
    await Deno.mkdir(`${work}/models`);
    await Deno.mkdir(`${work}/data/incoming`, { recursive: true });
    await Deno.copyFile(`${ROOT}data/german.data`, `${work}/data/incoming/german.data`);
    await Deno.writeTextFile(
      `${work}/flow.json`,
      JSON.stringify({
        train: { trials: 2, folds: 3, search_repeats: 1, search_trees: 20, trees: 30 },
        compare: { repeats: 1, folds: 3, inner_folds: 2 },
      }),
    );
    // The unit's Environment=, with the two paths pointed into the working folder.
    const env: Record<string, string> = Object.fromEntries(
      entries.filter(([k]) => k === "Environment").map(([, v]) => v.split("=", 2) as [string, string]),
    );
    assert.deepEqual(Object.keys(env).sort(), ["FLOW_CONFIG", "FLOW_DATA"]);
    env.FLOW_DATA = `${work}/data/incoming/german.data`;
    env.FLOW_CONFIG = `${work}/flow.json`;
    const argv = exec.split(" ").map((word) => word.replace(/\$\{(\w+)\}/g, (_, name) => env[name]));
    const start = () =>
      new Deno.Command(argv[0], { args: argv.slice(1), cwd: work, env: { NO_COLOR: "1" } }).output();
    const first = await start();
    assert.equal(first.code, 0, new TextDecoder().decode(first.stderr));
    const { flows } = await listFlows(`${work}/models`);
    assert.equal(flows.length, 1);
    assert.equal(flows[0].outcome?.decision, "promoted");
    assert.equal(new TextDecoder().decode(first.stdout).trim(), `${flows[0].flow_id} new promoted`);
    const second = await start();
    assert.equal(second.code, 0);
    assert.equal(new TextDecoder().decode(second.stdout).trim(), `${flows[0].flow_id} cached promoted`);
  });
});
