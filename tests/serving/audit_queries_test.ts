/**
 * The SQLite trail's keys indexed apart from the commits (queries.ts, migration 3): pages, purges
 * and reads back agree with a brute-force filter over the rows sent, whichever rows are indexed
 * yet; a commit writes the table's pages only; a file made by the previous schema is upgraded in
 * place.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import { type DecisionRecord, MIGRATIONS, SqliteAuditLog } from "../../pipeline/serving/audit/log.ts";
import {
  indexKeys,
  inTransaction,
  page,
  purgeChunk,
  unindexedRows,
} from "../../pipeline/serving/audit/queries.ts";
import { type AuditQuery, COLUMNS, insertSql } from "../../pipeline/serving/audit/schema.ts";
import { MIGRATIONS_TABLE } from "../../pipeline/serving/audit/migrations.ts";
import { moduleTempDir } from "../temp.ts";

const work = await moduleTempDir("credit-audit-queries-");
let made = 0;

/** A trail file at `version` of the schema, on a connection of its own (WAL, as the trail runs). */
function fileAt(version: number): { db: DatabaseSync; path: string } {
  const path = `${work}/q-${++made}.sqlite`;
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA wal_autocheckpoint = 0");
  db.exec("PRAGMA synchronous = OFF"); // a throwaway file: no fsync per statement
  db.exec(MIGRATIONS_TABLE);
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) {
    db.exec(m.sqlite);
    db.prepare("INSERT INTO schema_migrations VALUES (?, ?, '2026-11-29')").run(m.version, m.name);
  }
  db.exec(`PRAGMA user_version = ${version}`);
  return { db, path };
}

/** A stored row as the oracle knows it: what was inserted, in `COLUMNS` order, and its seq. */
interface Sent {
  seq: number;
  request_id: string;
  correlation_id: string | null;
  time: string;
  model_version: number | null;
  decision: string;
  reasons: string | null;
}

const DECISIONS = ["approve", "review", "decline"] as const;
const row = fc.record({
  request: fc.integer({ min: 0, max: 40 }), // few distinct ids, so a filter by id matches several
  correlation: fc.option(fc.constantFrom("c-1", "c-2", "c-3"), { nil: null }),
  minute: fc.integer({ min: 0, max: 59 }),
  model: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  decision: fc.constantFrom(...DECISIONS),
  reasons: fc.option(fc.string({ maxLength: 40 }).map((s) => JSON.stringify([s])), { nil: null }),
});
const query = fc.record({
  limit: fc.integer({ min: 1, max: 12 }),
  decision: fc.option(fc.constantFrom(...DECISIONS), { nil: undefined }),
  modelVersion: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  requestId: fc.option(fc.integer({ min: 0, max: 40 }).map((i) => `r-${i}`), { nil: undefined }),
  correlationId: fc.option(fc.constantFrom("c-1", "c-2", "c-4"), { nil: undefined }),
  from: fc.option(fc.integer({ min: 0, max: 59 }), { nil: undefined }),
  to: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
});
type Row = typeof row extends fc.Arbitrary<infer T> ? T : never;
const timeAt = (minute: number) => `2026-11-29T10:${String(minute).padStart(2, "0")}:00.000Z`;

function insertAll(db: DatabaseSync, rows: Row[], sent: Sent[]): void {
  const insert = db.prepare(insertSql());
  for (const r of rows) {
    const values = {
      request_id: `r-${r.request}`,
      correlation_id: r.correlation,
      row: null,
      time: timeAt(r.minute),
      model_version: r.model,
      run_id: "run",
      model_sha256: null,
      threshold: 0.4,
      review_margin: 0,
      inputs: "{}",
      probability_bad: 0.5,
      pd: null,
      decision: r.decision,
      reasons: r.reasons,
    };
    const { lastInsertRowid } = insert.run(...COLUMNS.map((c) => values[c]));
    sent.push({ ...values, seq: Number(lastInsertRowid) });
  }
}

/** The oracle: `sent` filtered as the query says, newest first. */
function expected(sent: readonly Sent[], q: AuditQuery & { cursor?: number }): number[] {
  return sent.filter((s) =>
    (q.cursor === undefined || s.seq < q.cursor) &&
    (q.decision === undefined || s.decision === q.decision) &&
    (q.modelVersion === undefined || s.model_version === q.modelVersion) &&
    (q.requestId === undefined || s.request_id === q.requestId) &&
    (q.correlationId === undefined || s.correlation_id === q.correlationId) &&
    (q.from === undefined || s.time >= q.from) &&
    (q.to === undefined || s.time < q.to)
  ).map((s) => s.seq).sort((a, b) => b - a);
}

/** Every page of `q`, following the cursors: the seqs in order. */
function allPages(db: DatabaseSync, q: AuditQuery): number[] {
  const seqs: number[] = [];
  let cursor: number | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const result = page(db, { ...q, cursor });
    assert.ok(result.items.length <= q.limit);
    seqs.push(...result.items.map((e) => e.seq));
    if (result.next_cursor === null) return seqs;
    cursor = Number(result.next_cursor);
  }
  throw new Error("paging did not end");
}

Deno.test("pages over indexed and not-yet-indexed rows are what a brute-force filter finds, each row once", () => {
  fc.assert(
    fc.property(
      fc.array(row, { maxLength: 60 }),
      fc.array(row, { maxLength: 30 }),
      fc.nat({ max: 70 }),
      fc.array(query, { minLength: 1, maxLength: 6 }),
      (older, newer, indexedNow, queries) => {
        const { db } = fileAt(3);
        try {
          const sent: Sent[] = [];
          insertAll(db, older, sent);
          // Any prefix of the rows may be indexed when a query runs, even none or all of them.
          const copied = indexKeys(db, indexedNow);
          assert.equal(copied, Math.min(indexedNow, older.length));
          insertAll(db, newer, sent);
          assert.equal(unindexedRows(db), sent.length - copied);
          for (const q of queries) {
            const filters: AuditQuery = {
              limit: q.limit,
              decision: q.decision,
              modelVersion: q.modelVersion,
              requestId: q.requestId,
              correlationId: q.correlationId,
              from: q.from === undefined ? undefined : timeAt(q.from),
              to: q.to === undefined ? undefined : q.to === 60 ? "2026-11-29T11:00:00.000Z" : timeAt(q.to),
            };
            for (const key of Object.keys(filters) as (keyof AuditQuery)[]) {
              if (filters[key] === undefined) delete filters[key];
            }
            assert.deepEqual(allPages(db, filters), expected(sent, filters));
          }
        } finally {
          db.close();
        }
      },
    ),
    { numRuns: 120 },
  );
});

Deno.test("a purge deletes exactly the rows older than its cut-off, indexed or not, and their keys", () => {
  fc.assert(
    fc.property(
      fc.array(row, { maxLength: 80 }),
      fc.nat({ max: 90 }),
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 1, max: 7 }),
      (rows, indexedNow, cut, chunk) => {
        const { db } = fileAt(3);
        try {
          const sent: Sent[] = [];
          insertAll(db, rows, sent);
          indexKeys(db, indexedNow);
          const before = cut === 60 ? "2026-11-29T11:00:00.000Z" : timeAt(cut);
          let deleted = 0;
          for (;;) {
            const n = inTransaction(db, () => purgeChunk(db, before, chunk)); // as the writer runs it
            assert.ok(n <= chunk);
            deleted += n;
            if (n < chunk) break;
          }
          const kept = sent.filter((s) => s.time >= before).map((s) => s.seq);
          assert.equal(deleted, sent.length - kept.length);
          const stored = db.prepare("SELECT seq FROM decisions ORDER BY seq").all().map((r) => Number(r.seq));
          assert.deepEqual(stored, kept);
          // No key without its row, and every row at or below the watermark has its keys.
          const orphans = db.prepare(
            "SELECT count(*) AS n FROM decisions_keys k WHERE NOT EXISTS (SELECT 1 FROM decisions d WHERE d.seq = k.seq)",
          ).get()!;
          assert.equal(Number(orphans.n), 0);
          const keys = Number(db.prepare("SELECT count(*) AS n FROM decisions_keys").get()!.n);
          assert.equal(keys + unindexedRows(db), kept.length);
        } finally {
          db.close();
        }
      },
    ),
    { numRuns: 150 },
  );
});

/**
 * Polls until the writer has indexed every row's keys of `db`'s file (it does so on its own schedule)
 * or `ms` have passed; returns the rows left unindexed.
 */
async function waitIndexed(db: DatabaseSync, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (unindexedRows(db) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return unindexedRows(db);
}

/** WAL frames (pages) one transaction inserting `rows` rows writes into `db`'s file. */
function framesOfOneCommit(db: DatabaseSync, rows: Row[]): number {
  // A complete checkpoint, so the next write transaction starts the WAL over and the log counts its frames only.
  const reset = db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get()!;
  assert.equal(reset.log, reset.checkpointed);
  inTransaction(db, () => insertAll(db, rows, []));
  return Number(db.prepare("PRAGMA wal_checkpoint(PASSIVE)").get()!.log);
}

Deno.test("a commit writes the table's and its request ids' pages only: other keys are indexed later, in bulk", () => {
  const rows = fc.sample(row, { numRuns: 5_000, seed: 7 });
  const burst = fc.sample(row, { numRuns: 4, seed: 8 }).map((r) => ({ ...r, correlation: "c-1" as const }));
  const measure = (version: number) => {
    const { db } = fileAt(version);
    try {
      inTransaction(db, () => {
        insertAll(db, rows, []); // a trail of some size, so every index has several leaves
        if (version >= 3) indexKeys(db, rows.length);
      });
      return framesOfOneCommit(db, burst);
    } finally {
      db.close();
    }
  };
  const before = measure(2), now = measure(3);
  // Schema 3: the table's leaf (and its parent or the header page when a leaf fills), and a leaf of
  // the request ids' index per row (random ids), nothing else.
  assert.ok(now <= 3 + burst.length, `schema 3 wrote ${now} pages`);
  // Schema 2 wrote those and a leaf of each of its 4 other indexes at least.
  assert.ok(before >= now + 4, `schema 2 wrote ${before} pages, schema 3 ${now}`);
});

Deno.test("page() finds a request id or a correlation id through an index, not by scanning the trail", () => {
  const { db } = fileAt(3);
  try {
    const plan = db.prepare(
      "EXPLAIN QUERY PLAN SELECT * FROM decisions WHERE request_id = ? ORDER BY seq DESC LIMIT 2",
    ).all("r-1").map((r) => String(r.detail)).join("\n");
    assert.match(plan, /USING INDEX decisions_request/);
    const byCorrelation = db.prepare(
      "EXPLAIN QUERY PLAN SELECT seq FROM decisions_keys WHERE correlation_id = ? ORDER BY seq DESC LIMIT 2",
    ).all("c-1").map((r) => String(r.detail)).join("\n");
    assert.match(byCorrelation, /USING (COVERING )?INDEX keys_correlation/);
  } finally {
    db.close();
  }
});

const decisionRecord = fc.record({
  correlationId: fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: null }),
  row: fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: null }),
  modelVersion: fc.option(fc.integer({ min: 1, max: 9 }), { nil: null }),
  modelSha256: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }),
  threshold: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
  reviewMargin: fc.option(fc.double({ min: 0, max: 0.2, noNaN: true }), { nil: null }),
  inputs: fc.dictionary(
    fc.string({ maxLength: 10 }),
    fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
  ),
  probability: fc.double({ min: 0, max: 1, noNaN: true }),
  pd: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
  decision: fc.constantFrom(...DECISIONS),
  reasons: fc.option(
    fc.array(
      fc.record({
        attribute: fc.string(),
        contribution: fc.double({ noNaN: true, noDefaultInfinity: true }),
        sentence: fc.record({ en: fc.string(), es: fc.string() }),
      }),
      { maxLength: 5 },
    ),
    { nil: null },
  ),
});

Deno.test({
  name:
    "[sqlite] every row recorded reads back equal to what was sent, before and after its keys are indexed",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const records: DecisionRecord[] = fc.sample(decisionRecord, { numRuns: 300, seed: 15 }).map((r, i) => ({
      ...r,
      requestId: `rec-${i}-${crypto.randomUUID()}`,
      time: new Date(Date.UTC(2026, 10, 29, 4, 0, i)).toISOString(),
      runId: "run-x",
    }));
    const path = `${work}/trail-${++made}/audit.sqlite`;
    const audit = await SqliteAuditLog.open(path);
    try {
      await Promise.all(records.map((r) => audit.record(r)));
      const check = async () => {
        for (const [i, r] of records.entries()) {
          const { items } = await audit.page({ limit: 5, requestId: r.requestId });
          assert.equal(items.length, 1, `record ${i}`);
          const e = items[0];
          assert.deepEqual(
            {
              request_id: e.request_id,
              correlation_id: e.correlation_id,
              row: e.row,
              time: e.time,
              model_version: e.model_version,
              run_id: e.run_id,
              model_sha256: e.model_sha256,
              threshold: e.threshold,
              review_margin: e.review_margin,
              inputs: e.inputs,
              probability_bad: e.probability_bad,
              pd: e.pd,
              decision: e.decision,
              reasons: e.reasons,
            },
            {
              request_id: r.requestId,
              correlation_id: r.correlationId,
              row: r.row,
              time: r.time,
              model_version: r.modelVersion,
              run_id: r.runId,
              model_sha256: r.modelSha256,
              threshold: r.threshold,
              review_margin: r.reviewMargin,
              // JSON turns -0 into 0, as the trail always did.
              inputs: JSON.parse(JSON.stringify(r.inputs)),
              probability_bad: r.probability,
              pd: r.pd,
              decision: r.decision,
              reasons: r.reasons === null ? null : JSON.parse(JSON.stringify(r.reasons)),
            },
          );
        }
        const { items } = await audit.page({ limit: 1000 });
        assert.deepEqual(items.map((e) => e.request_id), records.map((r) => r.requestId).reverse());
      };
      await check(); // most rows not indexed yet: read from the table
      // The writer indexes the keys at its first checkpoint a second after the last time.
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        assert.equal(await waitIndexed(db, 10_000), 0, "the writer indexed every row's keys");
      } finally {
        db.close();
      }
      await check();
    } finally {
      await audit.close();
    }
  },
});

Deno.test({
  name:
    "[sqlite] a file made by schema 2 is upgraded in place: every row's keys indexed, the old indexes gone",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { db, path } = fileAt(2);
    const sent: Sent[] = [];
    insertAll(db, fc.sample(row, { numRuns: 500, seed: 3 }), sent);
    db.close();
    const audit = await SqliteAuditLog.open(path);
    try {
      const check = new DatabaseSync(path, { readOnly: true });
      try {
        const indexes = check.prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        )
          .all().map((r) => String(r.name)).sort();
        assert.deepEqual(indexes, [
          "decisions_request",
          "keys_correlation",
          "keys_decision",
          "keys_model",
          "keys_time",
        ]);
        const keys = check.prepare(
          "SELECT seq, correlation_id, time, model_version, decision FROM decisions_keys ORDER BY seq",
        ).all();
        assert.deepEqual(
          keys.map((k) => ({
            ...k,
            seq: Number(k.seq),
            model_version: k.model_version === null ? null : Number(k.model_version),
          })),
          sent.map(({ seq, correlation_id, time, model_version, decision }) => ({
            seq,
            correlation_id,
            time,
            model_version,
            decision,
          })),
        );
        const versions = check.prepare("SELECT version FROM schema_migrations ORDER BY version").all().map((
          r,
        ) => Number(r.version));
        assert.deepEqual(versions, MIGRATIONS.map((m) => m.version));
      } finally {
        check.close();
      }
      const q = { limit: 1000, decision: "review" as const, modelVersion: 2 };
      assert.deepEqual((await audit.page(q)).items.map((e) => e.seq), expected(sent, q));
      assert.equal(await audit.count(), sent.length);
    } finally {
      await audit.close();
    }
  },
});

Deno.test({
  name:
    "[sqlite] a large batch: every row's keys indexed over several transactions, its pages what a brute-force filter finds",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const path = `${work}/trail-${++made}/audit.sqlite`;
    const audit = await SqliteAuditLog.open(path);
    const rows = 10_000; // three transactions' worth: the writer must go on after the first
    try {
      const batch = audit.batch();
      await batch.add(Array.from({ length: rows }, (_, i) => ({
        requestId: "big-batch",
        row: i + 1,
        time: "2026-11-29T04:40:00.000Z",
        modelVersion: 2,
        runId: "run-x",
        inputs: { i },
        probability: 0.25,
        pd: null,
        decision: i % 7 === 0 ? "review" as const : "approve" as const,
        reasons: null,
      })));
      await batch.commit();
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        assert.equal(await waitIndexed(db, 15_000), 0, "every row's keys indexed");
        assert.equal(Number(db.prepare("SELECT count(*) AS n FROM decisions_keys").get()!.n), rows);
      } finally {
        db.close();
      }
      const reviewed: number[] = [];
      let cursor: number | undefined;
      for (;;) {
        const page = await audit.page({ limit: 1000, decision: "review", cursor });
        reviewed.push(...page.items.map((e) => e.row!));
        if (page.next_cursor === null) break;
        cursor = Number(page.next_cursor);
      }
      const expected = Array.from({ length: rows }, (_, i) => i + 1).filter((row) => (row - 1) % 7 === 0);
      assert.deepEqual(reviewed, expected.reverse());
    } finally {
      await audit.close();
    }
  },
});
