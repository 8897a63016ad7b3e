/**
 * `deno task export` end to end on the registered production model (a copy of `models/`): the
 * opset-5 graph run by onnxruntime must match the project on all 1,000 rows of data/german.data and
 * on generated valid applicants (max |Δ| ≤ 1e-12 on both outputs, no decision changed); the opset-3
 * fallback must pass Debian's python3-onnx checker and change no decision. The full 100,000
 * generated applicants run in `deno task bench:onnx`; this test takes the first 20,000 of them.
 */

import assert from "node:assert/strict";
import { cliExitCode } from "../../pipeline/cli/run_cli.ts";
import { exportMain, USAGE } from "../../pipeline/cli/export.ts";
import { CreditModel } from "../../pipeline/model/artifact.ts";
import { ATTRIBUTES, isCategorical } from "../../pipeline/data/schema.ts";
import { productionModel, readRegistry } from "../../pipeline/tracking/mod.ts";
import { compareScores, projectScores, sampleApplicants } from "../../pipeline/export/mod.ts";
import { germanApplicants } from "../fixtures.ts";
import { onnxCheck, openSession, python, runScores } from "../export/runtime.ts";

/** Generated applicants checked here (the benchmark checks 100,000 from the same seed). */
const GENERATED_ROWS = 20_000;
/** The seed the benchmark uses too. */
const SAMPLE_SEED = 16;

async function copyModels(): Promise<{ dir: string; runId: string; threshold: number }> {
  const production = productionModel(await readRegistry("models"));
  assert.ok(production, "the repository has a registered production model");
  const dir = await Deno.makeTempDir({ prefix: "onnx-export-" });
  await Deno.mkdir(`${dir}/runs/${production.run_id}`, { recursive: true });
  await Deno.copyFile("models/registry.json", `${dir}/registry.json`);
  await Deno.copyFile(`models/${production.artifact}`, `${dir}/${production.artifact}`);
  const { model } = await CreditModel.load(`${dir}/${production.artifact}`, production.sha256);
  return { dir, runId: production.run_id, threshold: model.threshold };
}

async function exportCode(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await cliExitCode("export", (a) => exportMain(a, (l) => lines.push(l)), args, {
    print: (l) => lines.push(l),
    usage: USAGE,
  });
  return { code, lines };
}

Deno.test("deno task export: the opset-5 graph matches the project on every row, and the fallback passes the checker", async (t) => {
  const { dir, runId, threshold } = await copyModels();
  try {
    const runDir = `${dir}/runs/${runId}`;
    const { model } = await CreditModel.load(`${runDir}/model.json`);
    const german = await germanApplicants();
    const generated = sampleApplicants(GENERATED_ROWS, SAMPLE_SEED);

    await t.step(
      "writes model.onnx and MLmodel into the production run, byte for byte the same twice",
      async () => {
        const first = await exportCode(["--format", "onnx", "--models-dir", dir]);
        assert.equal(first.code, 0, first.lines.join("\n"));
        assert.match(first.lines[0], /model\.onnx .* and .*MLmodel/);
        const bytes = await Deno.readFile(`${runDir}/model.onnx`);
        assert.equal((await exportCode(["--models-dir", dir, "--run", runId])).code, 0);
        assert.deepEqual(await Deno.readFile(`${runDir}/model.onnx`), bytes);
        const leftovers = [...Deno.readDirSync(runDir)].filter((e) => e.name.endsWith(".tmp"));
        assert.deepEqual(leftovers, []);
      },
    );

    await t.step(
      "the graph contract: 20 named [N, 1] inputs, two [N] double outputs, the threshold in metadata",
      async () => {
        const read = await python(
          `
import json, sys, onnx
m = onnx.load(sys.argv[1])
def info(v):
    t = v.type.tensor_type
    return [v.name, t.elem_type, [d.dim_param or d.dim_value for d in t.shape.dim]]
print(json.dumps({
    "inputs": [info(v) for v in m.graph.input], "outputs": [info(v) for v in m.graph.output],
    "opsets": sorted([o.domain, o.version] for o in m.opset_import), "ir": m.ir_version,
    "metadata": {p.key: p.value for p in m.metadata_props},
    "ops": sorted({n.op_type for n in m.graph.node}),
}))
`,
          `${runDir}/model.onnx`,
        ) as Record<string, unknown>;
        assert.deepEqual(read.inputs, ATTRIBUTES.map((a) => [a.name, isCategorical(a) ? 8 : 11, ["N", 1]]));
        assert.deepEqual(read.outputs, [["probability_bad", 11, ["N"]], ["pd", 11, ["N"]]]);
        assert.deepEqual(read.opsets, [["", 21], ["ai.onnx.ml", 5]]);
        assert.equal(read.ir, 10);
        const metadata = read.metadata as Record<string, string>;
        assert.equal(Number(metadata.threshold), threshold);
        assert.equal(metadata.run_id, runId);
        assert.ok((read.ops as string[]).includes("TreeEnsemble"));
      },
    );

    const session = await openSession(await Deno.readFile(`${runDir}/model.onnx`));
    for (const [name, rows] of [["data/german.data", german], ["generated applicants", generated]] as const) {
      await t.step(
        `opset 5 on ${rows.length} rows of ${name}: max |Δ| ≤ 1e-12, no decision changed`,
        async () => {
          const theirs = await runScores(session, rows);
          assert.deepEqual(theirs.dims, [[rows.length], [rows.length]]);
          const agreement = compareScores(model, projectScores(model, rows), theirs);
          assert.ok(agreement.maxAbsDiffProbability <= 1e-12, JSON.stringify(agreement));
          assert.ok(agreement.maxAbsDiffPd <= 1e-12, JSON.stringify(agreement));
          assert.equal(agreement.decisionsChanged, 0);
        },
      );
    }

    await t.step(
      "opset 5 one row at a time (onnxruntime then splits the trees, not the rows, across threads)",
      async () => {
        const rows = german.slice(0, 50);
        const ours = projectScores(model, rows);
        const probability = new Float64Array(rows.length), pd = new Float64Array(rows.length);
        for (let i = 0; i < rows.length; i++) {
          const one = await runScores(session, [rows[i]]);
          assert.deepEqual(one.dims, [[1], [1]]);
          probability[i] = one.probability[0];
          pd[i] = one.pd[0];
        }
        const agreement = compareScores(model, ours, { probability, pd });
        assert.ok(
          agreement.maxAbsDiffProbability <= 1e-12 && agreement.maxAbsDiffPd <= 1e-12,
          JSON.stringify(agreement),
        );
        assert.equal(agreement.decisionsChanged, 0);
      },
    );

    await t.step(
      "opset 3: passes the checker; float output (|Δ| ≤ 2^-25, carried by Platt's slope), no decision changed",
      async () => {
        assert.equal((await exportCode(["--models-dir", dir, "--opset", "3"])).code, 0);
        const path = `${runDir}/onnx-opset3/model.onnx`;
        assert.equal(await onnxCheck(path), null);
        const fallback = await openSession(await Deno.readFile(path));
        for (const rows of [german, generated]) {
          const ours = projectScores(model, rows);
          const agreement = compareScores(model, ours, await runScores(fallback, rows));
          // Only the operator's float output rounds: half an ulp of a float below 1 is 2^-25 ≈ 3e-8.
          assert.ok(agreement.maxAbsDiffProbability <= 2 ** -25, JSON.stringify(agreement));
          // The PD carries that error through Platt's slope, dPD/dp = a·PD(1 − PD) / (p(1 − p)), plus its
          // own rounding: a bound from the model's calibrator rather than one fixed for one model.
          const { a } = model.calibrator;
          let slope = 0;
          ours.probability.forEach((p, i) => {
            slope = Math.max(slope, Math.abs(a) * ours.pd[i] * (1 - ours.pd[i]) / (p * (1 - p)));
          });
          assert.ok(agreement.maxAbsDiffPd <= 2 ** -25 * (1 + slope), JSON.stringify({ agreement, slope }));
          assert.equal(agreement.decisionsChanged, 0);
        }
      },
    );

    await t.step(
      "opset 3 with float thresholds: passes the checker; some trees route differently, no decision changed",
      async () => {
        assert.equal((await exportCode(["--models-dir", dir, "--opset", "3", "--float-thresholds"])).code, 0);
        const path = `${runDir}/onnx-opset3-float/model.onnx`;
        assert.equal(await onnxCheck(path), null);
        const fallback = await openSession(await Deno.readFile(path));
        const agreement = compareScores(
          model,
          projectScores(model, german),
          await runScores(fallback, german),
        );
        assert.equal(agreement.decisionsChanged, 0);
        // At most a few trees of 600 take the other branch for a row: well under 0.01.
        assert.ok(agreement.maxAbsDiffProbability < 0.01, JSON.stringify(agreement));
      },
    );

    await t.step(
      "MLmodel: onnx and python_function flavours, a tensor signature of the contract",
      async () => {
        const read = await python(
          `
import json, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
d["signature"] = {k: json.loads(v) if isinstance(v, str) else v for k, v in d["signature"].items()}
print(json.dumps(d))
`,
          `${runDir}/MLmodel`,
        ) as Record<string, Record<string, unknown>>;
        assert.deepEqual(read.flavors.onnx, {
          code: null,
          data: "model.onnx",
          onnx_version: "1.16.0",
          providers: ["CPUExecutionProvider"],
        });
        assert.deepEqual(read.flavors.python_function, { data: "model.onnx", loader_module: "mlflow.onnx" });
        assert.deepEqual(
          read.signature.inputs,
          ATTRIBUTES.map((a) => ({
            type: "tensor",
            "tensor-spec": { dtype: isCategorical(a) ? "object" : "float64", shape: [-1, 1] },
            name: a.name,
          })),
        );
        assert.deepEqual(
          (read.signature.outputs as { name: string }[]).map((o) => o.name),
          ["probability_bad", "pd"],
        );
        assert.equal(read.run_id, runId);
        assert.equal(Number(read.metadata.threshold), threshold);
        assert.equal(read.model_size_bytes, (await Deno.stat(`${runDir}/model.onnx`)).size);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task export refuses what it cannot do: exit 2 for usage, 1 for a missing or modified model", async () => {
  const { dir, runId } = await copyModels();
  try {
    for (const args of [["--format", "pmml"], ["--opset", "4"], ["--float-thresholds"], ["--bogus"]]) {
      const { code, lines } = await exportCode(["--models-dir", dir, ...args]);
      assert.equal(code, 2, `${args.join(" ")}: ${lines.join("\n")}`);
      assert.match(lines.join("\n"), /usage: deno task export/);
    }
    const missing = await exportCode(["--models-dir", dir, "--run", "20990101-000000-abcdef"]);
    assert.equal(missing.code, 1);
    assert.match(missing.lines[0], /^export: run 20990101-000000-abcdef has no model/);
    assert.equal((await exportCode(["--models-dir", dir, "--run", "../../etc"])).code, 1);

    const empty = await Deno.makeTempDir({ prefix: "onnx-export-empty-" });
    const none = await exportCode(["--models-dir", empty]);
    await Deno.remove(empty, { recursive: true });
    assert.equal(none.code, 1);
    assert.match(none.lines[0], /no production model/);

    const artifact = `${dir}/runs/${runId}/model.json`;
    const text = await Deno.readTextFile(artifact);
    await Deno.writeTextFile(artifact, text.replace('"threshold":', '"threshold": '));
    const tampered = await exportCode(["--models-dir", dir]);
    assert.equal(tampered.code, 1);
    assert.match(tampered.lines[0], /sha256 .* but the registry expects/);
    assert.equal(tampered.lines.length, 1, "a user error prints no stack");
    const written = [...Deno.readDirSync(`${dir}/runs/${runId}`)].map((e) => e.name);
    assert.ok(!written.includes("model.onnx"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
