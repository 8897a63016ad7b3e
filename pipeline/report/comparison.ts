/**
 * Our nested evaluation against the peers of `deno task bench:peers`, fold by fold: the format of
 * `bench/results/peers.json` (validated here), our per-fold metrics from a nested `predictions.csv`,
 * the paired differences (ours − peer, per threshold rule) with the corrected resampled-t SE, and
 * the tables that print them. Pure: callers read the files and pass their contents.
 *
 * Every "±" a table prints is named: "SD" is the spread of single folds, "corrected SE" is the
 * Nadeau–Bengio standard error of a mean over folds.
 * @module
 */

import { z } from "zod";
import { UserError } from "../errors.ts";
import {
  correctedResampledT,
  type FoldSummary,
  type PairedSummary,
  pairFolds,
  summariseFolds,
} from "../model/compare.ts";
import { brierScore, DEFAULT_COSTS, rocAuc } from "../model/metrics.ts";

/** The per-fold metrics both sides report. */
export const FOLD_METRICS = ["cost", "roc_auc", "recall_bad", "accuracy", "brier"] as const;

/** A metric's name. */
export type FoldMetric = (typeof FOLD_METRICS)[number];

/** The threshold rules every peer is scored with. */
export const RULES = {
  grid_argmin:
    "its natural rule: the grid argmin of expected cost over its in-fold (inner out-of-fold) scores",
  pd_one_sixth: "this project's rule: Platt PD fitted in-fold, decline when PD ≥ 1/6",
} as const;

/** A rule's name. */
export type Rule = keyof typeof RULES;

const ruleMetrics = z.object({
  threshold: z.number().nullable(),
  cost: z.number(),
  roc_auc: z.number(),
  recall_bad: z.number(),
  specificity: z.number(),
  accuracy: z.number(),
  brier: z.number(),
});

const peerFold = z.object({
  repeat: z.number().int().nonnegative(),
  fold: z.number().int().nonnegative(),
  n_test: z.number().int().positive(),
  n_train: z.number().int().positive(),
  brier_raw: z.number(),
  grid_argmin: ruleMetrics,
  pd_one_sixth: ruleMetrics.extend({ calibrated: z.boolean(), pd_threshold: z.number().optional() }),
  chosen: z.unknown().optional(),
  wall_s: z.number().optional(),
  cpu_s: z.number().optional(),
});

/** The schema of `bench/results/peers.json`. */
export const peersResultsSchema = z.object({
  kind: z.literal("peers-benchmark"),
  format_version: z.literal(1),
  created_at: z.string(),
  command: z.string(),
  folds: z.object({
    path: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** sha256 of the folds in canonical order (repeat, fold, row): equal folds, equal hash. */
    content_sha256: z.string().regex(/^[0-9a-f]{64}$/),
    source: z.string(),
    repeats: z.number().int().positive(),
    k: z.number().int().positive(),
    rows: z.number().int().positive(),
  }),
  protocol: z.string(),
  rules: z.record(z.string(), z.string()),
  inner_folds: z.number().int(),
  seed: z.number().int(),
  libraries: z.record(z.string(), z.string()),
  timing: z.object({ wall_s: z.number(), python_s: z.number() }),
  peers: z.array(z.object({
    name: z.string(),
    label: z.string(),
    params: z.record(z.string(), z.string()),
    outer_folds: z.string(),
    /** Summed over the peer's folds; `resumed_folds` of them were computed by an earlier, killed run. */
    timing: z.object({ wall_s: z.number(), cpu_s: z.number(), resumed_folds: z.number().int().optional() }),
    folds: z.array(peerFold).min(2),
  })),
});

/** `bench/results/peers.json`, validated. */
export type PeersResults = z.infer<typeof peersResultsSchema>;

/** One peer of {@link PeersResults}. */
export type PeerResult = PeersResults["peers"][number];

/** Validates parsed `peers.json` content, naming the first problem. */
export function parsePeersResults(json: unknown, source = "peers.json"): PeersResults {
  const parsed = peersResultsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(
      `${source} is not a peers benchmark result: ${issue.path.join(".")}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/** Where the folds came from, as the bench knows it before running the peers. */
export interface FoldsProvenance {
  path: string;
  /** sha256 of the file's bytes. */
  sha256: string;
  /** sha256 of the folds in canonical order. */
  content_sha256: string;
  source: string;
  repeats: number;
  k: number;
  rows: number;
}

/**
 * `peers.json`'s content from what bench/peers/peers.py printed (its JSON, parsed) and what the
 * bench knows about the folds and the run; validated, so a malformed result is refused here.
 */
export function buildPeersResults(
  printed: unknown,
  context: {
    command: string;
    folds: FoldsProvenance;
    timing: { wall_s: number; python_s: number };
    now?: Date;
  },
): PeersResults {
  const fromPython = (printed ?? {}) as Record<string, unknown>;
  return parsePeersResults({
    ...fromPython,
    kind: "peers-benchmark",
    format_version: 1,
    created_at: (context.now ?? new Date()).toISOString(),
    command: context.command,
    folds: context.folds,
    protocol:
      `for every outer fold of ${context.folds.path} each peer is fitted on the other rows only; its ` +
      `threshold is chosen on out-of-fold scores of an inner stratified ${fromPython.inner_folds}-fold CV of ` +
      `those rows (scikit-learn's StratifiedKFold, seed per outer fold), then the peer refitted on all of them ` +
      `scores the outer test rows once. Nothing is fitted on outer test rows.`,
    rules: RULES,
    timing: context.timing,
  }, "peers.py's output");
}

/** One outer fold of our nested evaluation, recomputed from its predictions. */
export interface OurFold {
  repeat: number;
  fold: number;
  n_test: number;
  n_train: number;
  cost: number;
  roc_auc: number;
  recall_bad: number;
  accuracy: number;
  /** Brier score of the served PD. */
  brier: number;
}

const DECLINE = new Set(["decline", "bad", "1", "true"]);
const APPROVE = new Set(["approve", "good", "0", "false"]);

/**
 * Per-fold metrics of a nested `predictions.csv` (`repeat,fold,row,label,probability,pd,threshold,
 * decision`, records as parsed): cost and recall from the recorded decisions, ROC AUC from
 * `probability`, Brier from `pd`. `n_train` is the repeat's row count less the fold's.
 */
export function nestedFoldMetrics(records: readonly Record<string, string>[]): OurFold[] {
  if (records.length === 0) throw new UserError("predictions.csv has no rows");
  const groups = new Map<
    string,
    { repeat: number; fold: number; label: number[]; p: number[]; pd: number[]; bad: boolean[] }
  >();
  const perRepeat = new Map<number, number>();
  records.forEach((r, i) => {
    const line = i + 2;
    const num = (column: string) => {
      const value = Number(r[column]);
      if (r[column] === undefined || r[column] === "" || !Number.isFinite(value)) {
        throw new UserError(
          `predictions.csv line ${line}: ${column} must be a number, got ${JSON.stringify(r[column])}`,
        );
      }
      return value;
    };
    const repeat = num("repeat"), fold = num("fold"), label = num("label");
    if (label !== 0 && label !== 1) {
      throw new UserError(`predictions.csv line ${line}: label must be 0 or 1, got ${label}`);
    }
    const decision = (r.decision ?? "").trim().toLowerCase();
    if (!DECLINE.has(decision) && !APPROVE.has(decision)) {
      throw new UserError(
        `predictions.csv line ${line}: decision must be decline or approve, got ${
          JSON.stringify(r.decision)
        }`,
      );
    }
    const key = `${repeat}/${fold}`;
    let g = groups.get(key);
    if (!g) groups.set(key, g = { repeat, fold, label: [], p: [], pd: [], bad: [] });
    g.label.push(label);
    g.p.push(num("probability"));
    g.pd.push(num("pd"));
    g.bad.push(DECLINE.has(decision));
    perRepeat.set(repeat, (perRepeat.get(repeat) ?? 0) + 1);
  });
  const { falseNegative, falsePositive } = DEFAULT_COSTS;
  return [...groups.values()]
    .sort((a, b) => a.repeat - b.repeat || a.fold - b.fold)
    .map((g) => {
      let tp = 0, fp = 0, fn = 0;
      g.label.forEach((label, i) => {
        if (g.bad[i]) label === 1 ? tp++ : fp++;
        else if (label === 1) fn++;
      });
      const n = g.label.length;
      return {
        repeat: g.repeat,
        fold: g.fold,
        n_test: n,
        n_train: perRepeat.get(g.repeat)! - n,
        cost: (falseNegative * fn + falsePositive * fp) / n,
        roc_auc: rocAuc(g.label, g.p),
        recall_bad: tp + fn ? tp / (tp + fn) : 0,
        accuracy: (n - fp - fn) / n,
        brier: brierScore(g.label, g.pd),
      };
    });
}

/** One row of the paired table: ours − one peer under one rule, on one metric. */
export interface ComparisonRow {
  peer: string;
  label: string;
  rule: Rule;
  metric: FoldMetric;
  /** Which outer folds were paired (all, or the peer's subset). */
  coverage: string;
  ours: FoldSummary;
  theirs: FoldSummary;
  /** ours − peer, per fold, summarised with the corrected resampled t. */
  difference: PairedSummary;
}

/**
 * Pairs our folds with every peer's, per rule and metric. A peer run on a subset of the outer
 * folds is paired on that subset (and says so); a peer with a fold we lack, or a fold of another
 * size, is refused.
 */
export function pairedComparison(
  ours: readonly OurFold[],
  peers: PeersResults,
  metrics: readonly FoldMetric[] = ["cost", "roc_auc"],
  confidence = 0.95,
): ComparisonRow[] {
  const ourByKey = new Map(ours.map((f) => [`${f.repeat}/${f.fold}`, f]));
  const rows: ComparisonRow[] = [];
  for (const peer of peers.peers) {
    const mine: OurFold[] = [];
    for (const f of peer.folds) {
      const our = ourByKey.get(`${f.repeat}/${f.fold}`);
      if (!our) continue; // reported by pairFolds below, with the full list
      if (our.n_test !== f.n_test) {
        throw new UserError(
          `repeat ${f.repeat} fold ${f.fold} has ${our.n_test} test rows in our predictions but ${f.n_test} ` +
            `for ${peer.name}: not the same folds`,
        );
      }
      mine.push(our);
    }
    const subset = mine.length < ours.length;
    const coverage = subset
      ? `${peer.folds.length} of ${ours.length} folds (${peer.outer_folds})`
      : `all ${ours.length} folds`;
    const ratio = peer.folds.reduce((s, f) => s + f.n_test, 0) /
      peer.folds.reduce((s, f) => s + f.n_train, 0);
    for (const rule of Object.keys(RULES) as Rule[]) {
      for (const metric of metrics) {
        const a = (subset ? mine : ours).map((f) => ({ repeat: f.repeat, fold: f.fold, value: f[metric] }));
        const b = peer.folds.map((f) => ({ repeat: f.repeat, fold: f.fold, value: f[rule][metric] }));
        const paired = pairFolds(a, b, { a: "our nested predictions", b: `${peer.name} (${rule})` });
        rows.push({
          peer: peer.name,
          label: peer.label,
          rule,
          metric,
          coverage,
          ours: summariseFolds(paired.map((p) => p.a), ratio),
          theirs: summariseFolds(paired.map((p) => p.b), ratio),
          difference: correctedResampledT(paired.map((p) => p.difference), ratio, confidence),
        });
      }
    }
  }
  return rows;
}

/** Per peer and rule: mean, SD across folds and corrected SE of each metric (the bench's summary). */
export function peerSummaries(
  peers: PeersResults,
): Record<string, Record<Rule, Record<FoldMetric, FoldSummary>>> {
  const out: Record<string, Record<Rule, Record<FoldMetric, FoldSummary>>> = {};
  for (const peer of peers.peers) {
    const ratio = peer.folds.reduce((s, f) => s + f.n_test, 0) /
      peer.folds.reduce((s, f) => s + f.n_train, 0);
    const byRule = {} as Record<Rule, Record<FoldMetric, FoldSummary>>;
    for (const rule of Object.keys(RULES) as Rule[]) {
      byRule[rule] = Object.fromEntries(
        FOLD_METRICS.map((m) => [m, summariseFolds(peer.folds.map((f) => f[rule][m]), ratio)]),
      ) as Record<FoldMetric, FoldSummary>;
    }
    out[peer.name] = byRule;
  }
  return out;
}

/** How a table is drawn. */
export type TableFormat = "text" | "markdown";

function table(header: string[], rows: string[][], format: TableFormat, rightFrom = 2): string {
  if (format === "markdown") {
    const rule = header.map((_, i) => (i >= rightFrom ? "---:" : "---"));
    return [header, rule, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i >= rightFrom ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

const f3 = (x: number) => x.toFixed(3);
const signed = (x: number) => (x >= 0 ? "+" : "−") + Math.abs(x).toFixed(3);

/** The bench's table: per peer and rule, mean, SD across folds and corrected SE of the cost, and the other means. */
export function formatPeersTable(peers: PeersResults, format: TableFormat = "text"): string {
  const summaries = peerSummaries(peers);
  const rows = peers.peers.flatMap((peer) =>
    (Object.keys(RULES) as Rule[]).map((rule) => {
      const s = summaries[peer.name][rule];
      return [
        peer.label,
        rule,
        String(peer.folds.length),
        f3(s.cost.mean),
        f3(s.cost.sd),
        f3(s.cost.corrected_se),
        f3(s.roc_auc.mean),
        f3(s.recall_bad.mean),
        f3(s.accuracy.mean),
        `${f3(s.brier.mean)} (${rule === "pd_one_sixth" ? "PD" : "raw"})`,
      ];
    })
  );
  const header = [
    "peer",
    "rule",
    "folds",
    "cost mean",
    "cost SD (across folds)",
    "cost corrected SE",
    "ROC AUC",
    "recall (bad)",
    "accuracy",
    "Brier",
  ];
  return table(header, rows, format);
}

/** The paired table: ours − peer per rule, with SD of the differences, naive and corrected SE, t interval. */
export function formatComparison(rows: readonly ComparisonRow[], format: TableFormat = "text"): string {
  const body = rows.map((r) => [
    r.label,
    r.rule,
    r.metric,
    String(r.difference.folds),
    f3(r.ours.mean),
    f3(r.theirs.mean),
    signed(r.difference.mean),
    f3(r.difference.sd),
    f3(r.difference.naive_se),
    f3(r.difference.corrected_se),
    `[${signed(r.difference.interval[0])}, ${signed(r.difference.interval[1])}]`,
    r.difference.p_value < 0.001 ? "<0.001" : r.difference.p_value.toFixed(3),
  ]);
  const header = [
    "peer",
    "rule",
    "metric",
    "J",
    "ours",
    "peer",
    "ours − peer",
    "SD of diff.",
    "naive SE",
    "corrected SE",
    `${Math.round((rows[0]?.difference.confidence ?? 0.95) * 100)} % interval`,
    "p",
  ];
  const subsets = [
    ...new Set(rows.filter((r) => !r.coverage.startsWith("all")).map((r) => `${r.label}: ${r.coverage}`)),
  ];
  const notes = [
    "ours − peer per outer fold on identical folds; cost: below 0 means ours is cheaper. " +
    "SD of diff. = spread of the per-fold differences; naive SE = SD/√J (assumes independent folds, too small); " +
    "corrected SE = √((1/J + n_test/n_train)·SD²) (Nadeau & Bengio 2003); interval = mean ± t(J−1)·corrected SE.",
    ...subsets.map((s) => `paired on a subset: ${s}`),
  ];
  return [table(header, body, format, 3), "", ...notes].join("\n");
}
