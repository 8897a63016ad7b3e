import assert from "node:assert/strict";
import {
  buildPeersResults,
  formatComparison,
  formatPeersTable,
  nestedFoldMetrics,
  pairedComparison,
  parsePeersResults,
  type PeersResults,
  peerSummaries,
} from "../../pipeline/report/comparison.ts";
import { correctedResampledT } from "../../pipeline/model/compare.ts";
import { UserError } from "../../pipeline/errors.ts";

/**
 * Our nested predictions on 2 repeats × 2 folds of 4 rows (8 rows per repeat). Per fold: labels,
 * probability, PD and decision, chosen so the costs are easy by hand.
 */
function ourRecords(): Record<string, string>[] {
  const folds: [number, number, [number, number, number, string][]][] = [
    // repeat 0, fold 0: bad declined, bad approved (FN), good approved, good declined (FP) → (5 + 1)/4 = 1.5
    [0, 0, [[1, 0.9, 0.5, "decline"], [1, 0.2, 0.1, "approve"], [0, 0.1, 0.05, "approve"], [
      0,
      0.8,
      0.4,
      "decline",
    ]]],
    // repeat 0, fold 1: all right → 0
    [0, 1, [[1, 0.9, 0.6, "decline"], [0, 0.3, 0.1, "approve"], [0, 0.2, 0.1, "approve"], [
      1,
      0.7,
      0.3,
      "decline",
    ]]],
    // repeat 1, fold 0: one FP → 1/4 = 0.25
    [1, 0, [[1, 0.9, 0.5, "decline"], [0, 0.6, 0.3, "decline"], [0, 0.2, 0.1, "approve"], [
      1,
      0.8,
      0.4,
      "decline",
    ]]],
    // repeat 1, fold 1: one FN → 5/4 = 1.25
    [1, 1, [[1, 0.4, 0.2, "approve"], [1, 0.9, 0.5, "decline"], [0, 0.1, 0.05, "approve"], [
      0,
      0.2,
      0.1,
      "approve",
    ]]],
  ];
  let row = 0;
  return folds.flatMap(([repeat, fold, rows]) =>
    rows.map(([label, probability, pd, decision]) => ({
      repeat: String(repeat),
      fold: String(fold),
      row: String(row++ % 8),
      label: String(label),
      probability: String(probability),
      pd: String(pd),
      threshold: "0.5",
      decision,
    }))
  );
}

function rule(cost: number) {
  return {
    threshold: 0.3,
    cost,
    roc_auc: 0.75,
    recall_bad: 0.5,
    specificity: 0.5,
    accuracy: 0.5,
    brier: 0.2,
  };
}

/** What bench/peers/peers.py prints, for peers with these per-fold costs (grid_argmin; pd_one_sixth is 0.25 more). */
function pythonOutput(costs: number[][], options: { folds?: [number, number][]; nTest?: number } = {}) {
  const keys = options.folds ?? [[0, 0], [0, 1], [1, 0], [1, 1]];
  return {
    inner_folds: 2,
    seed: 1,
    original_trials: 30,
    rows: 8,
    libraries: { python: "3" },
    peers: costs.map((perRule, p) => ({
      name: `peer${p}`,
      label: `Peer ${p}`,
      params: {},
      outer_folds: keys.length === 4 ? "all 4" : `first ${keys.length}`,
      timing: { wall_s: 1, cpu_s: 1 },
      folds: keys.map(([repeat, fold], i) => ({
        repeat,
        fold,
        n_test: options.nTest ?? 4,
        n_train: 4,
        brier_raw: 0.2,
        grid_argmin: rule(perRule[i]),
        pd_one_sixth: { ...rule(perRule[i] + 0.25), calibrated: true, pd_threshold: 1 / 6 },
      })),
    })),
  };
}

const provenance = {
  path: "folds.csv",
  sha256: "a".repeat(64),
  content_sha256: "b".repeat(64),
  source: "test",
  repeats: 2,
  k: 2,
  rows: 8,
};

function peers(
  costs: number[][],
  options: { folds?: [number, number][]; nTest?: number } = {},
): PeersResults {
  return buildPeersResults(pythonOutput(costs, options), {
    command: "deno task bench:peers",
    folds: provenance,
    timing: { wall_s: 1, python_s: 1 },
    now: new Date("2026-11-28T00:00:00Z"),
  });
}

Deno.test("nestedFoldMetrics recomputes every fold's cost, recall, accuracy, AUC and Brier of the PD", () => {
  const ours = nestedFoldMetrics(ourRecords());
  assert.deepEqual(ours.map((f) => [f.repeat, f.fold, f.n_test, f.n_train]), [
    [0, 0, 4, 4],
    [0, 1, 4, 4],
    [1, 0, 4, 4],
    [1, 1, 4, 4],
  ]);
  assert.deepEqual(ours.map((f) => f.cost), [1.5, 0, 0.25, 1.25]);
  assert.deepEqual(ours.map((f) => f.recall_bad), [0.5, 1, 1, 0.5]);
  assert.deepEqual(ours.map((f) => f.accuracy), [0.5, 1, 0.75, 0.75]);
  // fold 0/0: bad scores 0.9, 0.2 against good 0.1, 0.8 → pairs won 0.9>0.1, 0.9>0.8, 0.2>0.1 = 3 of 4
  assert.equal(ours[0].roc_auc, 0.75);
  // Brier of the PD: ((0.5−1)² + (0.1−1)² + 0.05² + 0.4²) / 4 = (0.25 + 0.81 + 0.0025 + 0.16) / 4 = 0.305625
  assert.ok(Math.abs(ours[0].brier - 0.305625) < 1e-15);
});

Deno.test("nestedFoldMetrics refuses what it cannot read, naming the line", () => {
  const bad = ourRecords();
  bad[2].decision = "maybe";
  assert.throws(() => nestedFoldMetrics(bad), /line 4: decision must be decline or approve, got "maybe"/);
  const noPd = ourRecords();
  noPd[5].pd = "";
  assert.throws(() => nestedFoldMetrics(noPd), /line 7: pd must be a number/);
  assert.throws(() => nestedFoldMetrics([]), UserError);
});

Deno.test("pairedComparison: ours − peer per rule, with the corrected resampled t", () => {
  const ours = nestedFoldMetrics(ourRecords()); // costs 1.5, 0, 0.25, 1.25
  const results = peers([[1, 0.5, 0.25, 1]]);
  const rows = pairedComparison(ours, results, ["cost"]);
  assert.deepEqual(rows.map((r) => [r.peer, r.rule, r.metric]), [
    ["peer0", "grid_argmin", "cost"],
    ["peer0", "pd_one_sixth", "cost"],
  ]);
  // grid_argmin: d = 0.5, −0.5, 0, 0.25; mean 0.0625; n_test/n_train = 16/16 = 1
  const [grid, project] = rows;
  const expected = correctedResampledT([0.5, -0.5, 0, 0.25], 1);
  assert.deepEqual(grid.difference, expected);
  assert.equal(grid.difference.mean, 0.0625);
  // deviations 0.4375, −0.5625, −0.0625, 0.1875; squares 0.19140625 + 0.31640625 + 0.00390625 + 0.03515625
  // = 0.546875; s² = 0.546875 / 3 = 0.18229167; corrected var (1/4 + 1) · s² = 0.22786458; SE 0.47735
  assert.ok(Math.abs(grid.difference.corrected_se - Math.sqrt(1.25 * 0.546875 / 3)) < 1e-15);
  assert.equal(grid.ours.mean, 0.75);
  assert.equal(grid.theirs.mean, 0.6875);
  // The project rule's peer costs are 0.25 higher on every fold: the difference shifts by exactly −0.25.
  assert.ok(Math.abs(project.difference.mean - (0.0625 - 0.25)) < 1e-15);
  assert.ok(Math.abs(project.difference.sd - grid.difference.sd) < 1e-15);
  assert.equal(grid.coverage, "all 4 folds");
});

Deno.test("pairedComparison pairs a subset peer on its folds only, and says so", () => {
  const ours = nestedFoldMetrics(ourRecords());
  const results = peers([[1, 0.5]], { folds: [[0, 0], [0, 1]] });
  const [row] = pairedComparison(ours, results, ["cost"]);
  assert.equal(row.difference.folds, 2);
  assert.deepEqual(row.difference, correctedResampledT([0.5, -0.5], 1));
  assert.match(row.coverage, /2 of 4 folds/);
  assert.match(formatComparison([row]), /paired on a subset: Peer 0: 2 of 4 folds/);
});

Deno.test("pairedComparison refuses folds that are not ours", () => {
  const ours = nestedFoldMetrics(ourRecords());
  assert.throws(
    () => pairedComparison(ours, peers([[1, 1, 1, 1]], { folds: [[0, 0], [0, 1], [1, 0], [2, 0]] })),
    /1 fold\(s\) only in peer0 \(grid_argmin\) \(repeat 2 fold 0\)/,
  );
  assert.throws(
    () => pairedComparison(ours, peers([[1, 1, 1, 1]], { nTest: 5 })),
    /repeat 0 fold 0 has 4 test rows in our predictions but 5 for peer0: not the same folds/,
  );
});

Deno.test("tables label SD and corrected SE, in text and Markdown", () => {
  const ours = nestedFoldMetrics(ourRecords());
  const results = peers([[1, 0.5, 0.25, 1]]);
  const text = formatComparison(pairedComparison(ours, results, ["cost"]));
  assert.match(text, /SD of diff\./);
  assert.match(text, /naive SE/);
  assert.match(text, /corrected SE/);
  assert.match(text, /95 % interval/);
  assert.match(text, /Nadeau & Bengio 2003/);
  // mean +0.0625 → "+0.063" (toFixed rounds half away from zero on this binary value), J = 4
  assert.match(text, /Peer 0 +grid_argmin +cost +4 +0\.750 +0\.688 +\+0\.063/);
  const markdown = formatComparison(pairedComparison(ours, results, ["cost"]), "markdown");
  assert.match(markdown, /^\| peer \| rule \| metric \| J \|/);
  assert.match(markdown, /\| --- \| --- \| --- \| ---: \|/);
  const peersTable = formatPeersTable(results);
  assert.match(peersTable, /cost SD \(across folds\)/);
  assert.match(peersTable, /cost corrected SE/);
  assert.match(peersTable, /0\.200 \(PD\)/);
  const summary = peerSummaries(results).peer0;
  assert.equal(summary.grid_argmin.cost.mean, 0.6875);
  assert.equal(summary.pd_one_sixth.cost.mean, 0.9375);
});

Deno.test("parsePeersResults names the first problem", () => {
  const results = peers([[1, 1, 1, 1]]);
  const broken = structuredClone(results) as unknown as {
    peers: { folds: { grid_argmin: { cost: unknown } }[] }[];
  };
  broken.peers[0].folds[1].grid_argmin.cost = "cheap";
  assert.throws(
    () => parsePeersResults(broken, "bench/results/peers.json"),
    (e: Error) =>
      e instanceof UserError &&
      /bench\/results\/peers\.json .*peers\.0\.folds\.1\.grid_argmin\.cost/.test(e.message),
  );
  assert.throws(() => parsePeersResults({ kind: "other" }), /kind/);
});

Deno.test("buildPeersResults: peers.py's output plus the bench's provenance, validated", () => {
  const results = peers([[1, 1, 1, 1]]);
  assert.equal(results.kind, "peers-benchmark");
  assert.equal(results.created_at, "2026-11-28T00:00:00.000Z");
  assert.deepEqual(results.folds, provenance);
  assert.match(results.protocol, /inner stratified 2-fold CV/);
  assert.deepEqual(Object.keys(results.rules), ["grid_argmin", "pd_one_sixth"]);
  // The bench's own fields win over anything the script printed under the same name.
  const sneaky = { ...pythonOutput([[1, 1, 1, 1]]), kind: "other", folds: { path: "elsewhere" } };
  const built = buildPeersResults(sneaky, {
    command: "x",
    folds: provenance,
    timing: { wall_s: 1, python_s: 1 },
  });
  assert.equal(built.kind, "peers-benchmark");
  assert.equal(built.folds.path, "folds.csv");
  // What the bench must know about the folds is required, as is what the script must print.
  const { content_sha256: _, ...withoutContent } = provenance;
  assert.throws(
    () =>
      buildPeersResults(pythonOutput([[1, 1, 1, 1]]), {
        command: "x",
        folds: withoutContent as typeof provenance,
        timing: { wall_s: 1, python_s: 1 },
      }),
    /peers\.py's output .*folds\.content_sha256/,
  );
  const { libraries: __, ...noLibraries } = pythonOutput([[1, 1, 1, 1]]);
  assert.throws(
    () =>
      buildPeersResults(noLibraries, { command: "x", folds: provenance, timing: { wall_s: 1, python_s: 1 } }),
    /libraries/,
  );
});
