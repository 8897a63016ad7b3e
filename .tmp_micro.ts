import { loadCreditTable, toApplicants } from "./pipeline/etl.ts";
import { AttributeExplainer } from "./pipeline/explain.ts";
import { FeatureEncoder } from "./pipeline/features.ts";
import { BalancedRandomForest, TreeShapExplainer } from "./pipeline/forest/mod.ts";
const table = await loadCreditTable("data/german.data");
const applicants = toApplicants(table.frame);
const encoder = FeatureEncoder.fit(table.frame);
const X = encoder.transformFrame(table.frame);
let forest: BalancedRandomForest;
try { forest = BalancedRandomForest.fromJSON(await Deno.readTextFile("/tmp/shap/forest.json")); }
catch { forest = new BalancedRandomForest({ nEstimators: 300, seed: 1 }).fit(X, table.bad!); await Deno.writeTextFile("/tmp/shap/forest.json", JSON.stringify(forest.toJSON())); }
const col = new TreeShapExplainer(forest);
const attr = new AttributeExplainer(encoder, forest);
const phi = new Float64Array(col.nPlayers);
const N = 300;
for (const [name, f] of [["columns", (i: number) => col.shapValues(X.data.subarray(i * X.cols, (i + 1) * X.cols), phi)], ["attributes", (i: number) => attr.explain(applicants[i])]] as const) {
  for (let i = 0; i < 100; i++) f(i);
  const t0 = performance.now();
  for (let rep = 0; rep < 2; rep++) for (let i = 0; i < N; i++) f(i);
  console.log(name, ((performance.now() - t0) / (2 * N)).toFixed(2), "ms");
}
let worst = 0;
const p = forest.predictProba(X);
for (let i = 0; i < 1000; i += 7) { col.shapValues(X.data.subarray(i * X.cols, (i + 1) * X.cols), phi); worst = Math.max(worst, Math.abs(col.baseValue + phi.reduce((a, b) => a + b) - p[i])); const e = attr.explain(applicants[i]); worst = Math.max(worst, Math.abs(e.baseValue + e.contributions.reduce((a, b) => a + b) - p[i])); }
console.log("worst", worst);
