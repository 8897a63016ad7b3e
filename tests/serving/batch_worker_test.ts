import assert from "node:assert/strict";
import { ENGINEERED_FEATURES } from "../../pipeline/features/encoder.ts";
import { ENGINEERED_RECORDS } from "../../pipeline/features/engineered.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier: string } }[];
}

Deno.test("a batch worker's module graph loads neither polars nor zod at run time", async () => {
  // Each worker pays for its graph at start (polars: ~0.1 s of CPU and ~15 MB per worker); a
  // value import of encoder.ts, etl.ts or schema.ts anywhere below batch_worker.ts brings them back.
  const root = new URL("../../pipeline/serving/batch_worker.ts", import.meta.url).href;
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success);
  const modules = new Map<string, InfoModule>(
    (JSON.parse(new TextDecoder().decode(stdout)).modules as InfoModule[]).map((m) => [m.specifier, m]),
  );
  // Only imports that survive type erasure (`code`) are followed.
  const loaded = new Set<string>();
  const visit = (specifier: string) => {
    if (loaded.has(specifier)) return;
    loaded.add(specifier);
    for (const d of modules.get(specifier)?.dependencies ?? []) if (d.code) visit(d.code.specifier);
  };
  visit(root);
  const heavy = [...loaded].filter((s) => /polars|zod|encoder\.ts|etl\.ts|schema\.ts/.test(s));
  assert.deepEqual(heavy, []);
  assert.ok([...loaded].some((s) => s.endsWith("packed_predictor.ts")), "the walk follows imports");
});

Deno.test("the encoder's engineered features are the workers' record formulas, in order", () => {
  assert.deepEqual(ENGINEERED_FEATURES.map((f) => f.name), ENGINEERED_RECORDS.map((f) => f.name));
  for (const [k, f] of ENGINEERED_FEATURES.entries()) {
    assert.equal(f.record, ENGINEERED_RECORDS[k].record);
    assert.equal(typeof f.expression, "function", f.name);
  }
});
