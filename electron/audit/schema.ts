/**
 * The audit file's schema, as an ordered list of migrations. `PRAGMA user_version` holds how many have run; each
 * runs in its own transaction together with the version bump, so a crash leaves the file at a whole version.
 * Migrations are append-only like the events: never edit one that has shipped, add the next.
 */
import Database from 'better-sqlite3';

export const MIGRATIONS: readonly string[] = [
  // 1: events (append-only, hash-chained) and the projections kept in step with them.
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL UNIQUE,
    at         TEXT NOT NULL,
    station_id TEXT NOT NULL,
    operator   TEXT,
    batch_id   TEXT,
    unit_id    TEXT,
    slot       INTEGER,
    step       TEXT,
    kind       TEXT NOT NULL,
    outcome    TEXT,
    details    TEXT NOT NULL,
    supersedes INTEGER REFERENCES events(seq),
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    CHECK (supersedes IS NULL OR supersedes < seq)
  );
  CREATE INDEX events_unit ON events(unit_id, seq);
  CREATE INDEX events_batch ON events(batch_id, seq);
  CREATE INDEX events_kind ON events(kind, seq);
  CREATE INDEX events_supersedes ON events(supersedes) WHERE supersedes IS NOT NULL;

  CREATE TRIGGER events_no_update BEFORE UPDATE ON events
  BEGIN
    SELECT RAISE(ABORT, 'audit trail is append-only: events cannot be updated (record a correction instead)');
  END;
  CREATE TRIGGER events_no_delete BEFORE DELETE ON events
  BEGIN
    SELECT RAISE(ABORT, 'audit trail is append-only: events cannot be deleted');
  END;

  CREATE TABLE batches (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    recipe_id     TEXT NOT NULL,
    config_sha256 TEXT NOT NULL,
    operator      TEXT,
    opened_at     TEXT NOT NULL,
    closed_at     TEXT,
    state         TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    last_seq      INTEGER NOT NULL REFERENCES events(seq)
  );

  CREATE TABLE units (
    id          TEXT PRIMARY KEY,
    batch_id    TEXT NOT NULL REFERENCES batches(id),
    slot        INTEGER,
    soc         TEXT,
    mcu_id      TEXT,
    device_id   TEXT,
    state       TEXT NOT NULL CHECK (state IN ('in-progress', 'passed', 'failed', 'attention', 'voided')),
    last_step   TEXT,
    outcome     TEXT CHECK (outcome IS NULL OR outcome IN ('passed', 'failed')),
    error_code  TEXT,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    duration_ms REAL,
    attempt     INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL REFERENCES events(seq)
  );
  CREATE INDEX units_batch ON units(batch_id, state);
  CREATE INDEX units_identity ON units(soc, mcu_id);
  CREATE INDEX units_unfinished ON units(state) WHERE state IN ('in-progress', 'attention');
  `,
  // 2: a unit attempt may end cancelled; units carry the scanned serial number (duplicate-label check); and the
  // accounts of the people who use the station. Accounts are a side table, not a view: PIN hashes never go into
  // the events (the trail is shipped and exported, and a 4-digit PIN falls to offline guessing), while every
  // change to an account is recorded as an event in the same transaction (people/account-store.ts).
  `
  CREATE TABLE units_v2 (
    id            TEXT PRIMARY KEY,
    batch_id      TEXT NOT NULL REFERENCES batches(id),
    slot          INTEGER,
    soc           TEXT,
    mcu_id        TEXT,
    device_id     TEXT,
    serial_number TEXT,
    state         TEXT NOT NULL
                  CHECK (state IN ('in-progress', 'passed', 'failed', 'cancelled', 'attention', 'voided')),
    last_step     TEXT,
    outcome       TEXT CHECK (outcome IS NULL OR outcome IN ('passed', 'failed', 'cancelled')),
    error_code    TEXT,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    duration_ms   REAL,
    attempt       INTEGER NOT NULL,
    last_seq      INTEGER NOT NULL REFERENCES events(seq)
  );
  INSERT INTO units_v2 (id, batch_id, slot, soc, mcu_id, device_id, serial_number, state, last_step, outcome,
                        error_code, started_at, ended_at, duration_ms, attempt, last_seq)
    SELECT id, batch_id, slot, soc, mcu_id, device_id, NULL, state, last_step, outcome,
           error_code, started_at, ended_at, duration_ms, attempt, last_seq FROM units;
  DROP TABLE units;
  ALTER TABLE units_v2 RENAME TO units;
  CREATE INDEX units_batch ON units(batch_id, state);
  CREATE INDEX units_identity ON units(soc, mcu_id);
  CREATE INDEX units_unfinished ON units(state) WHERE state IN ('in-progress', 'attention');
  CREATE INDEX units_serial ON units(serial_number, state) WHERE serial_number IS NOT NULL;

  CREATE TABLE accounts (
    account_id      TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    roles           TEXT NOT NULL,
    credential_kind TEXT NOT NULL CHECK (credential_kind IN ('pin', 'password')),
    kdf             TEXT NOT NULL,
    salt            TEXT NOT NULL,
    verifier        TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
  );
  `,
  // 3: what QA review reads. Units carry the operator who started them and when QA last signed them reviewed,
  // batches when they were released; indexes for keyset paging (newest first) under each filter, and for search
  // by chip, device id and serial. The backfill gives exactly what replaying the events gives (replay-views.ts).
  `
  ALTER TABLE units ADD COLUMN operator TEXT;
  ALTER TABLE units ADD COLUMN reviewed_at TEXT;
  ALTER TABLE batches ADD COLUMN released_at TEXT;
  UPDATE units SET operator = (
    SELECT e.operator FROM events e WHERE e.unit_id = units.id AND e.kind = 'unit.started' ORDER BY e.seq DESC LIMIT 1
  );
  CREATE INDEX units_started ON units(started_at, id);
  CREATE INDEX units_batch_started ON units(batch_id, started_at, id);
  CREATE INDEX units_state_started ON units(state, started_at, id);
  CREATE INDEX units_error_started ON units(error_code, started_at, id) WHERE error_code IS NOT NULL;
  CREATE INDEX units_operator_started ON units(operator, started_at, id);
  CREATE INDEX units_slot_started ON units(slot, started_at, id);
  CREATE INDEX units_reviewed_started ON units(started_at, id) WHERE reviewed_at IS NOT NULL;
  CREATE INDEX units_mcu ON units(mcu_id, started_at) WHERE mcu_id IS NOT NULL;
  CREATE INDEX units_device ON units(device_id, started_at) WHERE device_id IS NOT NULL;
  CREATE INDEX units_serial_started ON units(serial_number, started_at) WHERE serial_number IS NOT NULL;
  CREATE INDEX batches_recipe ON batches(recipe_id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * An empty trail in memory with this schema, for a slice of a trail copied from elsewhere (the central record):
 * review and report code then reads it as it reads a station's file. Nothing is hashed or checked as rows go in:
 * the rows are what the central database checked as it received them. Foreign keys are off, since a slice holds
 * only the events its question needs, not every event a view row points at.
 */
export function openTrailInMemory(): Database.Database {
  const db = new Database(':memory:');
  db.pragma('foreign_keys = OFF');
  for (const migration of MIGRATIONS) db.exec(migration);
  db.pragma(`user_version = ${MIGRATIONS.length}`);
  return db;
}
