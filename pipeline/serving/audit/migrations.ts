/**
 * The audit trail's schema as numbered migrations, one list for both backends so a SQLite file and
 * a PostgreSQL database at the same version hold the same table. Each database records what it has
 * applied in `schema_migrations (version, name, applied_at)`; a database at a version newer than
 * this build knows is refused rather than written with a schema it does not understand.
 *
 * A migration is append-only: once released it never changes; a new one follows it.
 * @module
 */

/** One step of the schema, in each backend's SQL. */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "decisions",
    sqlite: `
      CREATE TABLE IF NOT EXISTS decisions (
        seq INTEGER PRIMARY KEY,
        request_id TEXT NOT NULL,
        row INTEGER,
        time TEXT NOT NULL,
        model_version INTEGER,
        run_id TEXT NOT NULL,
        inputs TEXT NOT NULL,
        probability_bad REAL NOT NULL,
        pd REAL,
        decision TEXT NOT NULL,
        reasons TEXT
      );
      CREATE INDEX IF NOT EXISTS decisions_time ON decisions (time);
      CREATE INDEX IF NOT EXISTS decisions_request ON decisions (request_id);`,
    postgres: `
      CREATE TABLE IF NOT EXISTS decisions (
        seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        request_id text NOT NULL,
        "row" integer,
        time timestamptz NOT NULL,
        model_version integer,
        run_id text NOT NULL,
        inputs text NOT NULL,
        probability_bad double precision NOT NULL,
        pd double precision,
        decision text NOT NULL,
        reasons text
      );
      CREATE INDEX IF NOT EXISTS decisions_time ON decisions (time);
      CREATE INDEX IF NOT EXISTS decisions_request ON decisions (request_id);`,
  },
  {
    // Which model decided (its artifact's hash and the cut-offs in force), the client's own id
    // apart from the server's key, and the indexes `GET /audit` filters by.
    version: 2,
    name: "model identity, correlation id, query indexes",
    sqlite: `
      ALTER TABLE decisions ADD COLUMN correlation_id TEXT;
      ALTER TABLE decisions ADD COLUMN model_sha256 TEXT;
      ALTER TABLE decisions ADD COLUMN threshold REAL;
      ALTER TABLE decisions ADD COLUMN review_margin REAL;
      CREATE INDEX decisions_decision ON decisions (decision);
      CREATE INDEX decisions_model ON decisions (model_version);
      CREATE INDEX decisions_correlation ON decisions (correlation_id);`,
    postgres: `
      ALTER TABLE decisions ADD COLUMN correlation_id text;
      ALTER TABLE decisions ADD COLUMN model_sha256 text;
      ALTER TABLE decisions ADD COLUMN threshold double precision;
      ALTER TABLE decisions ADD COLUMN review_margin double precision;
      CREATE INDEX decisions_decision ON decisions (decision, seq);
      CREATE INDEX decisions_model ON decisions (model_version, seq);
      CREATE INDEX decisions_correlation ON decisions (correlation_id);`,
  },
  {
    // A commit of a few rows dirtied a page of every index on `decisions`: 12 of its ~15 pages of
    // WAL. The columns `GET /audit` filters by, but the request id, now live in `decisions_keys`,
    // whose indexes the writer brings up to date in bulk every second (worker.ts); queries read the
    // few newer rows from `decisions` itself. The request id's index stays on `decisions`, kept at
    // each commit: a lookup by request id then finds a row as soon as it is committed, indexed keys
    // or not, and since request ids became UUIDv7 (request_id.ts) a commit's new ids land on the
    // index's last page or two, so keeping it costs little. A correlation id is indexed only when
    // there is one.
    version: 3,
    name: "query keys indexed apart from the commits",
    sqlite: `
      CREATE TABLE decisions_keys (
        seq INTEGER PRIMARY KEY,
        correlation_id TEXT,
        time TEXT NOT NULL,
        model_version INTEGER,
        decision TEXT NOT NULL
      );
      INSERT INTO decisions_keys (seq, correlation_id, time, model_version, decision)
        SELECT seq, correlation_id, time, model_version, decision FROM decisions ORDER BY seq;
      DROP INDEX IF EXISTS decisions_time;
      DROP INDEX IF EXISTS decisions_decision;
      DROP INDEX IF EXISTS decisions_model;
      DROP INDEX IF EXISTS decisions_correlation;
      CREATE INDEX keys_time ON decisions_keys (time);
      CREATE INDEX keys_decision ON decisions_keys (decision);
      CREATE INDEX keys_model ON decisions_keys (model_version);
      CREATE INDEX keys_correlation ON decisions_keys (correlation_id) WHERE correlation_id IS NOT NULL;`,
    // PostgreSQL keeps its indexes on `decisions`: its index maintenance was not measured here.
    postgres: `SELECT 1`,
  },
];

/** The newest version this build knows. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** The bookkeeping table, the same in both backends. */
export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at text NOT NULL
)`;

/** The migrations still to apply to a database at `applied` (its highest version); throws when it is newer. */
export function pendingMigrations(applied: number): readonly Migration[] {
  if (applied > SCHEMA_VERSION) {
    throw new Error(`its schema version ${applied} is newer than this build's ${SCHEMA_VERSION}`);
  }
  return MIGRATIONS.filter((m) => m.version > applied);
}
