/**
 * `deno task bench:peers`: Python peers (logistic regression, imbalanced-learn's balanced forest,
 * XGBoost, the original project's Optuna pipeline nested) on exactly the outer folds of a nested
 * evaluation's `folds.csv`, each scored with its natural threshold rule and with this project's.
 * A thin entry point: checks the folds, runs bench/peers/peers.py with Debian's python3, validates
 * what it prints, writes `bench/results/peers.json` and prints the tables. Not part of `deno task test`.
 *
 * Needs: `apt-get install -y python3-sklearn python3-imblearn python3-xgboost python3-optuna`.
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError, UserError } from "../../pipeline/errors.ts";
import { runCli } from "../../pipeline/cli/run_cli.ts";
import { DEFAULT_DATA_PATH, loadCreditTable } from "../../pipeline/data/etl.ts";
import { repeatedStratifiedKFold } from "../../pipeline/data/split.ts";
import { parseCsv } from "../../pipeline/data/csv.ts";
import {
  DEFAULT_MODELS_DIR,
  productionModel,
  readRegistry,
  sha256Hex,
  writeFileAtomic,
  writeJsonAtomic,
} from "../../pipeline/tracking/mod.ts";
import {
  buildPeersResults,
  formatComparison,
  formatPeersTable,
  nestedFoldMetrics,
  type OurFold,
  pairedComparison,
  parsePeersResults,
  type PeersResults,
  peerSummaries,
  type TableFormat,
} from "../../pipeline/report/comparison.ts";
import { canonicalFoldsCsv, foldsCsv, parseFoldsCsv } from "./folds.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = new URL("./peers.py", import.meta.url).pathname;
const DEFAULT_OUT = "bench/results/peers.json";
/** The outer-fold seed fixed in models/PROTOCOL.md. */
const PROTOCOL_SEED = 20261128;
const PEERS = ["logistic_regression", "balanced_random_forest", "xgboost", "original_pipeline"];

const USAGE = `usage: deno task bench:peers [--folds PATH | --make-folds] [options]

  --folds PATH              outer folds (repeat,fold,row); default: the production run's
                            models/runs/<id>/nested/folds.csv
  --run ID                  take the folds (and our nested predictions) of this run instead
  --make-folds              make the folds here: repeatedStratifiedKFold, --repeats 5 --k 10 --seed ${PROTOCOL_SEED}
                            (models/PROTOCOL.md's), written to a temporary folds.csv (for development)
  --peers LIST              comma-separated, default ${PEERS.join(",")}
  --original-trials N       TPE trials per outer fold of the original pipeline (default 30)
  --original-outer-folds N  outer folds the original pipeline is nested over, first N in order (default 10)
  --out PATH                default ${DEFAULT_OUT}
  --compare-only            do not run the peers: pair an existing --out with our nested predictions
  --from-output PATH        do not run the peers: build --out from peers.py's kept output (printed by a run)
  --nested DIR              our nested evaluation's folder (folds.csv, predictions.csv, nested.json);
                            default: beside the folds when they come from a run
  --markdown                tables in Markdown
  --data PATH, --models-dir DIR

Requires Debian's Python stack: apt-get install -y python3-sklearn python3-imblearn python3-xgboost python3-optuna`;

function wholeNumber(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, got ${value}`);
  }
  return n;
}

async function productionRunId(modelsDir: string): Promise<string> {
  const production = productionModel(await readRegistry(modelsDir));
  if (!production) {
    throw new UserError(
      `no production model under ${modelsDir}; pass --folds PATH, --run ID, or --make-folds to develop`,
    );
  }
  return production.run_id;
}

async function readText(path: string, hint: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UserError(`${path} does not exist; ${hint}`);
    throw error;
  }
}

/** Runs peers.py, streaming its progress to stderr, and returns what it printed on stdout. */
async function runPython(args: string[], checkpoint: string): Promise<{ json: unknown; seconds: number }> {
  const started = performance.now();
  let child;
  try {
    child = new Deno.Command(PYTHON, {
      args: [SCRIPT, ...args],
      stdout: "piped",
      stderr: "inherit",
      // One thread per library: the machine is shared, and the peers are timed single-threaded.
      env: {
        OMP_NUM_THREADS: "1",
        OPENBLAS_NUM_THREADS: "1",
        MKL_NUM_THREADS: "1",
        PYTHONWARNINGS: "ignore",
      },
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new UserError(
        `${PYTHON} not found; apt-get install -y python3-sklearn python3-imblearn python3-xgboost python3-optuna`,
      );
    }
    throw error;
  }
  const { code, signal, stdout } = await child.output();
  if (signal || code > 128) {
    throw new UserError(
      `${SCRIPT} was killed (${signal ?? `exit ${code}`}); its finished folds are kept in ${checkpoint}: ` +
        `run the same command again to resume`,
    );
  }
  if (code !== 0) {
    throw new UserError(
      `${SCRIPT} exited with ${code} (see its message above; missing modules: ` +
        `apt-get install -y python3-sklearn python3-imblearn python3-xgboost python3-optuna)`,
    );
  }
  const text = new TextDecoder().decode(stdout);
  // Kept before anything can refuse it: a long run's output is never lost to a validation error.
  const kept = `${await Deno.makeTempDir({ dir: "/tmp", prefix: "peers-output-" })}/peers_python.json`;
  await writeFileAtomic(kept, text);
  console.error(`bench:peers: peers.py's output kept in ${kept} (rebuild with --from-output ${kept})`);
  try {
    return { json: JSON.parse(text), seconds: (performance.now() - started) / 1000 };
  } catch {
    throw new Error(`${SCRIPT} printed something that is not JSON: ${text.slice(0, 200)}`);
  }
}

/** Our nested per-fold metrics from a nested folder, after checking it holds the peers' folds. */
async function ourFolds(nestedDir: string, results: PeersResults, labels: Uint8Array): Promise<OurFold[]> {
  const path = `${nestedDir}/folds.csv`;
  const outer = parseFoldsCsv(await readText(path, "run `deno task evaluate --nested` first"), labels, path);
  const contentSha = await sha256Hex(new TextEncoder().encode(canonicalFoldsCsv(outer)));
  if (contentSha !== results.folds.content_sha256) {
    throw new UserError(
      `${path} holds other folds (content sha256 ${contentSha.slice(0, 12)}…) than the peers ran on ` +
        `(${results.folds.path}, ${results.folds.content_sha256.slice(0, 12)}…); rerun bench:peers on it`,
    );
  }
  const ours = nestedFoldMetrics(
    parseCsv(await readText(`${nestedDir}/predictions.csv`, "run `deno task evaluate --nested` first")),
  );
  await crossCheckNestedJson(`${nestedDir}/nested.json`, ours);
  return ours;
}

/**
 * A nested.json that says it is incomplete is refused; if it lists per-fold costs, they must equal
 * the ones recomputed from predictions.csv.
 */
async function crossCheckNestedJson(path: string, ours: OurFold[]): Promise<void> {
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch {
    console.error(`bench:peers: ${path} not read; per-fold costs not cross-checked`);
    return;
  }
  if ((json as { complete?: unknown })?.complete === false) {
    throw new UserError(`${path} says the nested evaluation is not complete; finish it before comparing`);
  }
  const found: { repeat: number; fold: number; cost: number }[] = [];
  const visit = (value: unknown, depth: number) => {
    if (depth > 4 || value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
      for (const v of value) {
        const r = v as Record<string, unknown>;
        if (r && typeof r.repeat === "number" && typeof r.fold === "number" && typeof r.cost === "number") {
          found.push(r as { repeat: number; fold: number; cost: number });
        } else visit(v, depth + 1);
      }
    } else for (const v of Object.values(value)) visit(v, depth + 1);
  };
  visit(json, 0);
  if (found.length === 0) {
    console.error(`bench:peers: no per-fold costs found in ${path}; not cross-checked`);
    return;
  }
  const byKey = new Map(ours.map((f) => [`${f.repeat}/${f.fold}`, f.cost]));
  for (const f of found) {
    const mine = byKey.get(`${f.repeat}/${f.fold}`);
    if (mine === undefined || Math.abs(mine - f.cost) > 1e-9) {
      throw new UserError(
        `${path}: repeat ${f.repeat} fold ${f.fold} records cost ${f.cost}, predictions.csv gives ${mine}`,
      );
    }
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      folds: { type: "string" },
      run: { type: "string" },
      "make-folds": { type: "boolean" },
      repeats: { type: "string", default: "5" },
      k: { type: "string", default: "10" },
      seed: { type: "string", default: String(PROTOCOL_SEED) },
      peers: { type: "string", default: PEERS.join(",") },
      "original-trials": { type: "string", default: "30" },
      "original-outer-folds": { type: "string", default: "10" },
      out: { type: "string", default: DEFAULT_OUT },
      "compare-only": { type: "boolean" },
      "from-output": { type: "string" },
      nested: { type: "string" },
      markdown: { type: "boolean" },
      data: { type: "string", default: DEFAULT_DATA_PATH },
      "models-dir": { type: "string", default: DEFAULT_MODELS_DIR },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if ([values.folds, values.run, values["make-folds"]].filter(Boolean).length > 1) {
    throw new UsageError("pass at most one of --folds, --run and --make-folds");
  }
  const format: TableFormat = values.markdown ? "markdown" : "text";
  const peers = values.peers!.split(",").filter(Boolean);
  const unknown = peers.filter((p) => !PEERS.includes(p));
  if (unknown.length) {
    throw new UsageError(`unknown peer(s) ${unknown.join(", ")}; known: ${PEERS.join(", ")}`);
  }
  const trials = wholeNumber("original-trials", values["original-trials"], 1);
  const originalOuter = wholeNumber("original-outer-folds", values["original-outer-folds"], 2);

  const started = performance.now();
  const table = await loadCreditTable(values.data);
  const y = table.bad;
  if (!y) throw new UserError(`${values.data} has no class column`);
  // Rows of folds.csv are 0-based lines of the data file; peers.py reads the file by line as well.
  const labels = new Uint8Array(y.length);
  table.lineNumbers.forEach((line, i) => {
    if (line !== i + 1) {
      throw new UserError(`${values.data}: line ${line} holds row ${i}; blank lines are not supported`);
    }
    labels[i] = y[i];
  });

  let foldsPath: string, source: string, nestedDir = values.nested;
  if (values["make-folds"]) {
    const k = wholeNumber("k", values.k, 2), repeats = wholeNumber("repeats", values.repeats, 1);
    const seed = wholeNumber("seed", values.seed, 0);
    const folds = repeatedStratifiedKFold(labels, { k, repeats, seed });
    foldsPath = `${await Deno.makeTempDir({ dir: "/tmp", prefix: "peers-folds-" })}/folds.csv`;
    await writeFileAtomic(foldsPath, foldsCsv(folds, (i) => table.lineNumbers[i] - 1));
    source = `made by --make-folds: repeatedStratifiedKFold(k ${k}, repeats ${repeats}, seed ${seed}) of ` +
      `pipeline/data/split.ts on ${values.data}; provisional until the production run's nested folds exist`;
    console.error(`bench:peers: folds written to ${foldsPath}`);
  } else if (values.folds) {
    foldsPath = values.folds;
    source = `given: ${foldsPath}`;
    // A nested evaluation's folds.csv has our predictions beside it: pair with them.
    const beside = foldsPath.includes("/") ? foldsPath.slice(0, foldsPath.lastIndexOf("/")) : ".";
    if (!nestedDir && await exists(`${beside}/predictions.csv`)) nestedDir = beside;
  } else {
    const runId = values.run ?? await productionRunId(values["models-dir"]!);
    nestedDir ??= `${values["models-dir"]}/runs/${runId}/nested`;
    foldsPath = `${nestedDir}/folds.csv`;
    source = `run ${runId}'s nested evaluation`;
  }
  const foldsBytes = await Deno.readFile(foldsPath).catch((error) => {
    if (error instanceof Deno.errors.NotFound) {
      throw new UserError(
        `${foldsPath} does not exist; run \`deno task evaluate --nested\` first, or pass --make-folds to develop`,
      );
    }
    throw error;
  });
  const outer = parseFoldsCsv(new TextDecoder().decode(foldsBytes), labels, foldsPath);
  const contentSha = await sha256Hex(new TextEncoder().encode(canonicalFoldsCsv(outer)));
  const provenance = {
    path: foldsPath,
    sha256: await sha256Hex(foldsBytes),
    content_sha256: contentSha,
    source,
    repeats: outer.repeats,
    k: outer.k,
    rows: outer.rows,
  };

  let results: PeersResults;
  if (values["compare-only"]) {
    results = parsePeersResults(
      JSON.parse(await readText(values.out!, "run `deno task bench:peers` first")),
      values.out,
    );
    if (results.folds.content_sha256 !== contentSha) {
      throw new UserError(`${values.out} was run on other folds (${results.folds.path}) than ${foldsPath}`);
    }
  } else {
    console.error(
      `bench:peers: ${outer.repeats} × ${outer.k} outer folds of ${outer.rows} rows; peers ${
        peers.join(", ")
      }; ` +
        `original pipeline over the first ${
          Math.min(originalOuter, outer.folds.length)
        } outer folds, ${trials} trials`,
    );
    // Finished folds survive a killed run here; a rerun with the same folds and settings resumes.
    const checkpoint = `/tmp/peers-checkpoint-${contentSha.slice(0, 16)}-${trials}t-${originalOuter}f.json`;
    const python = values["from-output"]
      ? {
        json: JSON.parse(await readText(values["from-output"], "pass the path bench:peers printed")),
        seconds: 0,
      }
      : await runPython([
        "--folds",
        foldsPath,
        "--data",
        values.data!,
        "--peers",
        peers.join(","),
        "--seed",
        String(PROTOCOL_SEED),
        "--original-trials",
        String(trials),
        "--original-outer-folds",
        String(originalOuter),
        "--checkpoint",
        checkpoint,
      ], checkpoint);
    results = buildPeersResults(python.json, {
      command: ["deno task bench:peers", ...args].join(" "),
      folds: provenance,
      timing: { wall_s: round((performance.now() - started) / 1000), python_s: round(python.seconds) },
    });
    await writeJsonAtomic(values.out!, { ...results, summary: peerSummaries(results) });
    // Written: the next run measures afresh instead of replaying these folds.
    await Deno.remove(checkpoint).catch(() => {});
  }

  // Folds made by --make-folds that hash to the run's own folds are those folds, not provisional ones.
  const sameFolds = values["compare-only"] && results.folds.source !== source
    ? `; content identical (sha256) to ${foldsPath}, ${source}`
    : "";
  console.log(
    `Peers on ${results.folds.repeats} × ${results.folds.k} outer folds (${results.folds.source}${sameFolds}; ` +
      `folds sha256 ${results.folds.sha256.slice(0, 12)}…). "SD" is across folds; "corrected SE" is the ` +
      `Nadeau–Bengio standard error of the mean.\n`,
  );
  console.log(formatPeersTable(results, format));
  console.log("");
  for (const peer of results.peers) {
    console.log(
      `${peer.name}: ${peer.outer_folds}; ${peer.timing.wall_s} s wall, ${peer.timing.cpu_s} s CPU ` +
        `(summed over its folds${peer.timing.resumed_folds ? `, ${peer.timing.resumed_folds} resumed` : ""})`,
    );
  }
  console.log(
    `libraries: ${Object.entries(results.libraries).map(([k, v]) => `${k} ${v}`).join(", ")}; ` +
      `total ${results.timing.wall_s} s`,
  );

  if (nestedDir) {
    const ours = await ourFolds(nestedDir, results, labels);
    console.log(`\nOurs (${nestedDir}) − peer:\n`);
    console.log(formatComparison(pairedComparison(ours, results, ["cost", "roc_auc"]), format));
  } else if (!values["make-folds"]) {
    console.log(`\n(no nested folder given: pass --nested DIR for the paired table)`);
  }
  return 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.main) await runCli("bench:peers", main, { usage: USAGE });
