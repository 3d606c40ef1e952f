import { existsSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { AuditOpenError, AuditStore, assertDurablePragmas } from '../../../electron/audit/index';
import { MIGRATIONS } from '../../../electron/audit/schema';
import { openStore, recordBatch, STATION, tempDbFile } from '../../support/audit';

describe('AuditStore.open', () => {
  it('creates and migrates an empty file to the current schema', () => {
    const file = tempDbFile();
    expect(existsSync(file)).toBe(false);
    openStore(file).close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(3);
    const tables = db
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') ORDER BY name",
      )
      .all()
      .map((r) => r.name);
    expect(tables).toEqual([
      'accounts',
      'batches',
      'events',
      'events_no_delete',
      'events_no_update',
      'meta',
      'units',
    ]);
    db.close();
  });

  it('migrates a schema-1 file: units kept (with no serial number), accounts table added', () => {
    const file = tempDbFile();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(MIGRATIONS[0]!);
    db.exec(`INSERT INTO events (seq, event_id, at, station_id, kind, details, prev_hash, hash)
        VALUES (1, 'e-1', 't0', '${STATION}', 'batch.opened', '{}', '${'0'.repeat(64)}', '${'1'.repeat(64)}');
      INSERT INTO batches VALUES ('b-1', 'old', 'r', '${'c'.repeat(64)}', 'ann', 't0', NULL, 'open', 1);
      INSERT INTO units (id, batch_id, slot, state, started_at, attempt, last_seq, outcome)
        VALUES ('u-1', 'b-1', 1, 'passed', 't0', 1, 1, 'passed');`);
    db.pragma('user_version = 1');
    db.close();
    const store = openStore(file);
    expect(store.unit('u-1')).toMatchObject({
      state: 'passed',
      outcome: 'passed',
      serialNumber: null,
      operator: null,
      reviewedAt: null,
    });
    store.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(3);
    expect(raw.prepare('SELECT count(*) AS n FROM accounts').get()).toEqual({ n: 0 });
    raw.close();
  });

  it('keeps the events and views when reopened, and carries on the chain', () => {
    const file = tempDbFile();
    const store = openStore(file);
    recordBatch(store, 2);
    const last = store.lastEvent();
    store.close();
    const again = openStore(file);
    expect(again.lastEvent()).toEqual(last);
    expect(again.batchSummary('batch-1')?.passed).toBe(2);
    const next = again.append({ kind: 'operator.logout', operator: 'ann', details: {} });
    expect(next.seq).toBe(last!.seq + 1);
    expect(next.prevHash).toBe(last!.hash);
    again.close();
  });

  it('runs WAL with synchronous=FULL, foreign keys on and a busy timeout, read back on the live connection', () => {
    const file = tempDbFile();
    const store = openStore(file);
    expect(store.durability()).toEqual({
      journalMode: 'wal',
      synchronous: 2,
      foreignKeys: 1,
      busyTimeoutMs: 5000,
    });
    store.close();
    const reopened = openStore(file, { busyTimeoutMs: 1500 });
    expect(reopened.durability()).toEqual({
      journalMode: 'wal',
      synchronous: 2,
      foreignKeys: 1,
      busyTimeoutMs: 1500,
    });
    reopened.close();
    // WAL is a property of the file, so any later connection sees it too.
    const other = new Database(file);
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    other.close();
  });

  it('refuses a connection whose pragmas do not read back durable', () => {
    expect(() =>
      assertDurablePragmas('/data/audit.db', { journalMode: 'wal', synchronous: 1, foreignKeys: 1 }),
    ).toThrow(
      new AuditOpenError(
        'AUDIT_OPEN_FAILED',
        'refusing to use the audit trail /data/audit.db: synchronous is 1, not FULL (2); events could be lost on power failure',
      ),
    );
    expect(() =>
      assertDurablePragmas('/data/audit.db', { journalMode: 'delete', synchronous: 2, foreignKeys: 0 }),
    ).toThrow(
      'refusing to use the audit trail /data/audit.db: journal_mode is delete, not wal; foreign_keys is 0, not ON (1); events could be lost on power failure',
    );
    expect(() =>
      assertDurablePragmas('/data/audit.db', { journalMode: 'wal', synchronous: 2, foreignKeys: 1 }),
    ).not.toThrow();
  });

  it('refuses a file that belongs to another station', () => {
    const file = tempDbFile();
    openStore(file).close();
    expect(() => AuditStore.open(file, { stationId: 'line9-station1' })).toThrow(
      `the audit trail ${file} belongs to station "${STATION}", not "line9-station1": each station keeps its own file`,
    );
  });

  it('refuses an SQLite file of some other application, and a file that is not SQLite', () => {
    const other = tempDbFile('other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY)');
    db.close();
    expect(() => openStore(other)).toThrow(`${other} is an SQLite file but not an audit trail`);

    const junk = tempDbFile('junk.db');
    writeFileSync(junk, 'this is not a database at all, just text that goes on for a while'.repeat(20));
    expect(() => openStore(junk)).toThrow(/^cannot open the audit trail .*junk\.db: file is not a database$/);
  });

  it('refuses a file written by a newer schema', () => {
    const file = tempDbFile();
    openStore(file).close();
    const db = new Database(file);
    db.pragma('user_version = 7');
    db.close();
    expect(() => openStore(file)).toThrow(
      `the audit trail ${file} has schema version 7, newer than this station understands (3); update the station software`,
    );
  });
});
