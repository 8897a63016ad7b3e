/**
 * Drift: the PSI arithmetic and bands, decile bins from training quantiles, the reference stored in
 * the artifact (and the data-file fallback for older ones), the rolling window behind
 * `/monitoring`, the route's JSON, and `deno task drift INPUT.csv`.
 */
import assert from "node:assert/strict";
import { createApp } from "../../pipeline/serving/app.ts";
import {
  buildReference,
  DriftCounter,
  type DriftReference,
  driftReferenceSchema,
  formatDriftTable,
  NUMERIC_BINS,
  psi,
  psiBand,
  referenceFor,
  storedReference,
} from "../../pipeline/monitoring/mod.ts";
import { binIndex, quantileEdges } from "../../pipeline/stats.ts";
import { ServedWindow } from "../../pipeline/serving/drift_window.ts";
import { runDrift } from "../../pipeline/cli/drift.ts";
import { CreditModel } from "../../pipeline/model/artifact.ts";
import { type Applicant, ATTRIBUTES } from "../../pipeline/data/schema.ts";
import { AuditLog } from "../../pipeline/serving/audit/log.ts";
import { Logger } from "../../pipeline/serving/log.ts";
import { ModelHolder } from "../../pipeline/serving/model_holder.ts";
import { germanApplicants, germanCsv, trainFixtureModel } from "../fixtures.ts";
import { slow } from "../scope.ts";

const quiet = new Logger("off");
const applicants = await germanApplicants();
const fixture = await trainFixtureModel({ nEstimators: 20 });
const reference = buildReference(
  applicants,
  fixture.model.probabilities(
    fixture.model.encoder.transformRecords(applicants),
  ),
  { source: "german.data" },
);

Deno.test("PSI: zero for equal distributions, the textbook sum otherwise, floored empty bins, bands", () => {
  assert.equal(psi([0.25, 0.25, 0.5], [25, 25, 50]), 0);
  const expected = [0.2, 0.3, 0.5];
  const counts = [30, 30, 40];
  const byHand = (0.3 - 0.2) * Math.log(0.3 / 0.2) + 0 + (0.4 - 0.5) * Math.log(0.4 / 0.5);
  assert.ok(Math.abs(psi(expected, counts)! - byHand) < 1e-12);
  assert.equal(psi(expected, [0, 0, 0]), null);
  const empty = psi([0.5, 0.5, 0], [50, 40, 10])!;
  assert.ok(Number.isFinite(empty) && empty > 0.25, `an unseen bin counts: ${empty}`);
  assert.equal(psiBand(0), "stable");
  assert.equal(psiBand(0.0999), "stable");
  assert.equal(psiBand(0.1), "watch");
  assert.equal(psiBand(0.25), "watch");
  assert.equal(psiBand(0.2501), "act");
});

Deno.test("decile edges: nearest rank, no repeats, no edge at the maximum; bins by edge", () => {
  assert.deepEqual(quantileEdges([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], NUMERIC_BINS), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(quantileEdges([1, 1, 1, 1, 1, 1, 1, 1, 2, 2], NUMERIC_BINS), [1]);
  assert.deepEqual(quantileEdges([3, 3, 3], NUMERIC_BINS), []);
  assert.deepEqual(quantileEdges([], NUMERIC_BINS), []);
  assert.equal(binIndex([10, 20], 5), 0);
  assert.equal(binIndex([10, 20], 10), 0);
  assert.equal(binIndex([10, 20], 11), 1);
  assert.equal(binIndex([10, 20], 21), 2);
  assert.equal(binIndex([], 99), 0);
});

Deno.test("bins by edge: the shared binary search agrees with the linear scan drift used before, on every kind of value", () => {
  // The scan `drift.ts` had before the bins moved to stats.ts: the first edge not below the value.
  const linearScan = (edges: readonly number[], value: number) => {
    let k = 0;
    while (k < edges.length && value > edges[k]) k++;
    return k;
  };
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 500; trial++) {
    const grid = Array.from({ length: 1 + Math.floor(next() * 15) }, () => Math.floor(next() * 20));
    const edges = [...new Set(grid)].sort((a, b) => a - b);
    for (const value of [...edges, ...edges.map((e) => e + 0.5), -1, 25, NaN, Infinity, -Infinity]) {
      assert.equal(binIndex(edges, value), linearScan(edges, value), `${value} in [${edges}]`);
    }
  }
});

Deno.test("a reference: every attribute in schema order, proportions summing to 1, codes from the schema", () => {
  assert.deepEqual(Object.keys(reference.attributes), ATTRIBUTES.map((a) => a.name));
  for (const [name, bins] of Object.entries(reference.attributes)) {
    const sum = bins.proportions.reduce((s, p) => s + p, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9, `${name} sums to ${sum}`);
    const a = ATTRIBUTES.find((x) => x.name === name)!;
    if (a.kind === "numeric") assert.equal(bins.kind, "numeric");
    else assert.deepEqual((bins as { codes: string[] }).codes, a.codes.map((c) => c.code));
  }
  assert.equal(reference.score!.rows, applicants.length);
  assert.ok(driftReferenceSchema.safeParse(reference).success);
  assert.throws(() => buildReference([], null, { source: "nothing" }), RangeError);
});

Deno.test("the training rows against themselves are stable; a shifted population is flagged where it moved", () => {
  const same = new DriftCounter(reference);
  for (const a of applicants) same.add(a);
  const report = same.report();
  assert.equal(report.rows, applicants.length);
  for (const d of report.attributes) assert.ok(d.psi! < 1e-9, `${d.name} ${d.psi}`);

  const shifted = new DriftCounter(reference);
  for (const a of applicants.slice(0, 500)) {
    shifted.add({ ...a, duration: Math.min(120, a.duration * 3), checking_status: "A11" });
  }
  const moved = shifted.report();
  const band = (name: string) => moved.attributes.find((d) => d.name === name)!.band;
  assert.equal(band("duration"), "act");
  assert.equal(band("checking_status"), "act");
  assert.equal(band("housing"), "stable");
  assert.ok(["duration", "checking_status"].includes(moved.worst!.name));
  const table = formatDriftTable(moved);
  assert.match(table, /duration\s+numeric\s+\d+\.\d{4}\s+act/);
  assert.match(table, /housing\s+categorical\s+\d+\.\d{4}\s+stable/);
});

Deno.test("the window: a ring of the latest decisions; the score counts only the current model's", () => {
  const window = new ServedWindow(100);
  assert.equal(window.size, 0);
  assert.deepEqual(window.span(), { from: null, to: null });
  const counter = new DriftCounter(reference);
  for (let i = 0; i < 250; i++) {
    window.add(applicants[i], 0.3, i % 2 ? "model-a" : "model-b", 1_000 + i);
    if (i >= 150) counter.add(applicants[i]);
  }
  assert.equal(window.size, 100);
  assert.deepEqual(window.span(), { from: 1_150, to: 1_249 });
  const report = window.report(reference, "model-a");
  assert.deepEqual(report.attributes, counter.report().attributes);
  assert.equal(report.score!.rows, 50);
  assert.equal(window.report(reference, "unknown").score!.rows, 0);
  assert.throws(() => new ServedWindow(0), RangeError);
});

Deno.test("the stored reference is used when valid; an older artifact falls back to the data file", async () => {
  assert.equal(storedReference(fixture.model), null);
  const fallback = await referenceFor(
    fixture.model,
    new URL("../../data/german.data", import.meta.url).pathname,
  );
  assert.equal(fallback.origin, "data");
  assert.equal(fallback.reference.rows, 1000);
  const withReference = CreditModel.fromArtifact({ ...fixture.artifact, reference });
  assert.deepEqual(storedReference(withReference), reference);
  assert.equal((await referenceFor(withReference)).origin, "artifact");
  const malformed = CreditModel.fromArtifact({
    ...fixture.artifact,
    reference: { ...reference, rows: -1 } as DriftReference,
  });
  assert.equal(storedReference(malformed), null);
});

Deno.test(
  "GET /monitoring: documented JSON, the window filled by /predict and batches, seeded from the trail",
  slow,
  async () => {
    const holder = await ModelHolder.open({ modelsDir: fixture.modelsDir });
    const dir = await Deno.makeTempDir({ prefix: "credit-monitor-" });
    const audit = await AuditLog.open(`${dir}/audit.sqlite`);
    const token = "drift-test-monitoring-token";
    let now = 0;
    const config = { driftWindow: 500, monitoringToken: token };
    const monitoring = async (app: ReturnType<typeof createApp>) => {
      now += 60_000; // a new refresh period
      return await app.request("/monitoring", { headers: { authorization: `Bearer ${token}` } });
    };
    try {
      const app = createApp({ holder, logger: quiet, audit, config, clock: () => now });
      const empty = await (await monitoring(app)).json();
      assert.equal(empty.published_at, null);
      assert.equal(empty.window, null);
      assert.deepEqual(empty.attributes, []);

      for (let i = 0; i < 150; i++) {
        await app.request("/predict", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(applicants[i]),
        });
      }
      const batch = await app.request("/predict/batch", {
        method: "POST",
        headers: { "content-type": "text/csv" },
        body: await germanCsv({ rows: 200 }),
      });
      assert.equal(batch.status, 200);
      const response = await monitoring(app);
      assert.equal(response.status, 200);
      const body = await response.json();
      assert.deepEqual(Object.keys(body).sort(), [
        "attributes",
        "bands",
        "model_version",
        "privacy",
        "published_at",
        "reference",
        "run_id",
        "score",
        "window",
        "worst",
      ]);
      assert.deepEqual(body.bands, { stable: "psi < 0.1", watch: "0.1 ≤ psi ≤ 0.25", act: "psi > 0.25" });
      assert.deepEqual(body.privacy, { min_bin: 20, refresh_seconds: 60 });
      assert.equal(body.published_at, new Date(now).toISOString());
      assert.equal(body.model_version, 1);
      assert.equal(body.reference.origin, "data");
      assert.equal(body.window.rows, 350);
      assert.equal(body.window.score_rows, 350);
      assert.equal(body.window.capacity, 500);
      assert.equal(body.window.enough_data, true);
      assert.ok(Date.parse(body.window.from) <= Date.parse(body.window.to));
      assert.deepEqual(body.attributes.map((d: { name: string }) => d.name), ATTRIBUTES.map((a) => a.name));
      for (const d of [...body.attributes, body.score]) {
        assert.ok(["stable", "watch", "act"].includes(d.band), `${d.name} ${d.band}`);
        if (d.suppressed) assert.deepEqual(d.bins, []);
        else assert.equal(d.bins.reduce((s: number, b: { count: number }) => s + b.count, 0), d.rows);
      }
      // Drawn from the reference's own rows: the attributes are stable.
      assert.ok(body.attributes.every((d: { band: string }) => d.band === "stable"));

      // A restarted server sees the same window, read back from the trail.
      const restarted = createApp({ holder, logger: quiet, audit, config, clock: () => now });
      const again = await (await monitoring(restarted)).json();
      assert.equal(again.window.rows, 350);
      assert.deepEqual(again.attributes, body.attributes);
    } finally {
      await audit.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

/** 300 applicants with `checking_status` all "A14", as a CSV file for the drift command. */
async function writeShiftedInput(path: string): Promise<void> {
  const shiftedRows = applicants.slice(0, 300).map((a): Applicant => ({ ...a, checking_status: "A14" }));
  const header = ATTRIBUTES.map((a) => a.name).join(",");
  const csv = [header, ...shiftedRows.map((a) => ATTRIBUTES.map((x) => a[x.name]).join(","))].join("\n");
  await Deno.writeTextFile(path, csv + "\n");
}

Deno.test("deno task drift INPUT.csv prints a table (exit 0); --json; 1 for unreadable input, 2 for usage", async () => {
  const dir = await Deno.makeTempDir({ prefix: "credit-drift-" });
  try {
    await writeShiftedInput(`${dir}/input.csv`);
    const out: string[] = [];
    const err: string[] = [];
    const run = (args: string[]) => {
      out.length = err.length = 0;
      return runDrift(args, (t) => out.push(t), (t) => err.push(t));
    };
    const args = [`${dir}/input.csv`, "--models-dir", fixture.modelsDir];
    assert.equal(await run(args), 0);
    const text = out.join("\n");
    for (const a of ATTRIBUTES) assert.match(text, new RegExp(`^${a.name}\\s`, "m"));
    assert.match(text, /^checking_status\s+categorical\s+\d+\.\d{4}\s+act$/m);
    assert.match(text, /^score\s+numeric/m);
    assert.match(text, /300 rows against 1000 reference rows/);

    assert.equal(await run([...args, "--json"]), 0);
    const json = JSON.parse(out.join(""));
    assert.equal(json.origin, "data");
    assert.equal(json.rows, 300);
    assert.equal(json.attributes.find((d: { name: string }) => d.name === "checking_status").band, "act");

    assert.equal(await run([`${dir}/missing.csv`, "--models-dir", fixture.modelsDir]), 1);
    assert.match(err.join(""), /missing\.csv/);
    assert.equal(await run([]), 2);
    assert.equal(await run(["a.csv", "b.csv"]), 2);
    assert.equal(await run(["--bogus"]), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  "pipeline/cli/drift.ts as a process: the task's own permissions are enough (no write, no network)",
  slow,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "credit-drift-" });
    try {
      await writeShiftedInput(`${dir}/input.csv`);
      const args = [`${dir}/input.csv`, "--models-dir", fixture.modelsDir];
      const task = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-ffi",
          "--allow-env",
          "--allow-sys",
          new URL("../../pipeline/cli/drift.ts", import.meta.url).pathname,
          ...args,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(task.code, 0, new TextDecoder().decode(task.stderr));
      assert.match(new TextDecoder().decode(task.stdout), /checking_status\s+categorical/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

// Teardown, not a test: the fixture's models folder.
Deno.test.afterAll(async () => {
  await fixture.cleanup();
});
