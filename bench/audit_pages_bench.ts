/**
 * `deno task bench:audit-pages`: what a group commit of the SQLite trail writes and what it costs,
 * schema by schema, on one thread (no server, no messages): WAL pages (frames) per commit, counted
 * exactly, and the process's CPU per commit (user + system, all of it SQLite's and the kernel's).
 *
 * Variants, interleaved in rounds so that they share the machine's state: schema 2 (every index on
 * `decisions`), schema 2 without each of its indexes in turn (what that index costs), schema 3 (the
 * keys indexed in bulk every `--index-every` commits, as the writer does every second), each with
 * random (v4) or time-ordered (v7) request ids. Rows hold an applicant's attributes, with `--reasons`
 * (5 reasons of ~1.8 KB, as `/predict` stores them) or without. Options: `--rows-per-commit`
 * (default 4), `--prefill` (rows already in the trail, default 30,000), `--commits` per variant and
 * round (default 150), `--rounds` (default 8), `--sync full|normal` (default full).
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import process from "node:process";
import { parseArgs } from "node:util";
import { MIGRATIONS } from "../pipeline/serving/audit/migrations.ts";
import { indexKeys, inTransaction } from "../pipeline/serving/audit/queries.ts";
import { timeOrderedUuid } from "../pipeline/serving/audit/request_id.ts";
import { COLUMNS, insertSql } from "../pipeline/serving/audit/schema.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "rows-per-commit": { type: "string", default: "4" },
    prefill: { type: "string", default: "30000" },
    commits: { type: "string", default: "150" },
    rounds: { type: "string", default: "8" },
    "index-every": { type: "string", default: "300" },
    sync: { type: "string", default: "full" },
    reasons: { type: "boolean", default: false },
  },
});
const perCommit = Number(values["rows-per-commit"]);
const indexEvery = Number(values["index-every"]);
/** An applicant as the trail stores it (~420 bytes of JSON), its numbers varied by `i`. */
const applicantOf = (i: number) =>
  JSON.stringify({
    checking_status: `A1${1 + (i % 4)}`,
    duration: 6 + (i % 60),
    credit_history: `A3${i % 5}`,
    purpose: "A43",
    credit_amount: 250 + ((i * 37) % 18_000),
    savings_status: `A6${1 + (i % 5)}`,
    employment: `A7${1 + (i % 5)}`,
    installment_commitment: 1 + (i % 4),
    personal_status: "A93",
    other_parties: "A101",
    residence_since: 1 + (i % 4),
    property_magnitude: "A121",
    age: 19 + (i % 56),
    other_payment_plans: "A143",
    housing: "A152",
    existing_credits: 1 + (i % 4),
    job: "A173",
    num_dependents: 1 + (i % 2),
    own_telephone: "A191",
    foreign_worker: "A201",
  });
/** Five reasons as `/predict` stores them: attribute, labels, values and sentences in EN and ES. */
const reasonsOf = (i: number) =>
  JSON.stringify(Array.from({ length: 5 }, (_, k) => ({
    attribute: `attribute_${k}`,
    contribution: ((i * 7 + k) % 97) / 1000,
    label: { en: "Credit history", es: "Historial crediticio" },
    value: `A3${k}`,
    value_label: { en: "Critical account / other credits elsewhere", es: "Cuenta crítica / otros créditos" },
    direction: k % 2 ? "lowers" : "raises",
    sentence: {
      en: "Credit history (Critical account / other credits elsewhere) lowers the risk",
      es: "Historial crediticio (Cuenta crítica / otros créditos en otros bancos) reduce el riesgo",
    },
    points: ((i * 13 + k) % 41) - 20,
  })));

interface Variant {
  name: string;
  db: DatabaseSync;
  insert: StatementSync;
  newId: () => string;
  keys: boolean;
  commits: number;
  cpu: number;
  frames: number;
}

const work = await Deno.makeTempDir({ prefix: "credit-audit-pages-" });
let made = 0;
function variant(name: string, version: 2 | 3, options: { drop?: string; v7?: boolean } = {}): Variant {
  const db = new DatabaseSync(`${work}/${++made}.sqlite`);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA wal_autocheckpoint = 0");
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) db.exec(m.sqlite);
  if (options.drop) db.exec(`DROP INDEX ${options.drop}`);
  const insert = db.prepare(insertSql());
  const newId = options.v7 ? () => timeOrderedUuid() : () => crypto.randomUUID();
  return { name, db, insert, newId, keys: version === 3, commits: 0, cpu: 0, frames: 0 };
}

let next = 0;
function insertRow(v: Variant): void {
  const i = next++;
  const row = {
    request_id: v.newId(),
    correlation_id: null,
    row: null,
    time: new Date().toISOString(),
    model_version: 2,
    run_id: "20261128-204234-b9d3e7",
    model_sha256: "ca9a95bb7af7974d0cfffdfd246458f9d712b729324840c9ba932b92b7db6bce",
    threshold: 0.39,
    review_margin: 0,
    inputs: applicantOf(i),
    probability_bad: (i % 997) / 997,
    pd: (i % 991) / 991,
    decision: i % 5 < 2 ? "approve" : "decline",
    reasons: values.reasons ? reasonsOf(i) : null,
  };
  v.insert.run(...COLUMNS.map((c) => row[c]));
}

const variants = [
  variant("schema 2", 2),
  variant("  without time index", 2, { drop: "decisions_time" }),
  variant("  without request id index", 2, { drop: "decisions_request" }),
  variant("  without decision index", 2, { drop: "decisions_decision" }),
  variant("  without model index", 2, { drop: "decisions_model" }),
  variant("  without correlation index", 2, { drop: "decisions_correlation" }),
  variant("schema 2, v7 ids", 2, { v7: true }),
  variant("schema 3", 3),
  variant("schema 3, v7 ids", 3, { v7: true }),
];
const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
for (const v of variants) {
  v.db.exec("PRAGMA synchronous = OFF");
  for (let done = 0; done < Number(values.prefill); done += 1000) {
    inTransaction(v.db, () => {
      for (let j = 0; j < 1000; j++) insertRow(v);
    });
  }
  if (v.keys) indexKeys(v.db, Number.MAX_SAFE_INTEGER);
  v.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
  v.db.exec(`PRAGMA synchronous = ${values.sync === "normal" ? "NORMAL" : "FULL"}`);
}
const checkpoint = (v: Variant) =>
  Number((v.db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get() as { log: number }).log);
for (let round = 0; round < Number(values.rounds); round++) {
  for (const v of round % 2 ? [...variants].reverse() : variants) {
    const start = process.cpuUsage();
    for (let c = 0; c < Number(values.commits); c++) {
      inTransaction(v.db, () => {
        for (let j = 0; j < perCommit; j++) insertRow(v);
        if (v.keys && (v.commits + 1) % indexEvery === 0) indexKeys(v.db, Number.MAX_SAFE_INTEGER);
      });
      v.commits++;
      // As the writer does after each of the checkpointer's: the WAL then starts over, so the
      // frames it held when copied are the frames written since.
      if (v.commits % 150 === 0) v.frames += checkpoint(v);
    }
    const used = process.cpuUsage(start);
    v.cpu += used.user + used.system;
  }
}
console.log(
  `${perCommit} rows a commit (${
    values.reasons ? "with" : "without"
  } reasons), ${values.prefill} rows before, ` +
    `synchronous=${values.sync}, ${values.rounds} rounds of ${values.commits} commits; load ${load} at start, ` +
    `${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")} at the end`,
);
for (const v of variants) {
  v.frames += checkpoint(v);
  console.log(
    `${v.name.padEnd(30)} ${(v.frames / v.commits).toFixed(2).padStart(6)} pages a commit, ` +
      `${(v.cpu / v.commits).toFixed(0).padStart(4)} µs CPU a commit (${
        (v.cpu / v.commits / perCommit).toFixed(0)
      } a row)`,
  );
  v.db.close();
}
await Deno.remove(work, { recursive: true });
