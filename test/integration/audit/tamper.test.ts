/**
 * Tampering as an attacker with the file and the stock `sqlite3` shell would do it, checked through the library
 * and through `station audit verify` (exit codes and the exact line QA sees).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventHash, verifyAuditChain, type EventRowFields } from '../../../electron/audit/index';
import {
  DROP_TRIGGERS,
  RESTORE_TRIGGERS,
  openStore,
  recordBatch,
  sqlite3,
  tempDbFile,
} from '../../support/audit';
import { runStation } from '../cli/run-station';

/** A closed trail of 14 events (2 units). */
function trail(): string {
  const file = tempDbFile();
  const store = openStore(file);
  recordBatch(store, 2);
  store.close();
  return file;
}

function sql(file: string, statements: string): void {
  const run = sqlite3(file, statements);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
}

function expectTampered(file: string, seq: number, reason: string, message: string): void {
  expect(verifyAuditChain(file)).toEqual({ ok: false, firstBadSeq: seq, reason, message });
  const cli = runStation(['audit', 'verify', '--db', file]);
  expect(cli.status).toBe(1);
  expect(cli.stdout).toBe(`TAMPERED: ${message}\n`);
  expect(cli.stderr).toBe(`station: ${file}: the audit trail failed verification\n`);
  const json = runStation(['audit', 'verify', '--db', file, '--json']);
  expect(json.status).toBe(1);
  expect(JSON.parse(json.stdout)).toEqual({ ok: false, firstBadSeq: seq, reason, message });
}

function row(file: string, seq: number): EventRowFields & { hash: string } {
  const out = sqlite3(file, `.mode json\nSELECT * FROM events WHERE seq = ${seq};`).stdout;
  const [r] = JSON.parse(out) as Array<Record<string, unknown>>;
  return {
    ...(r as unknown as EventRowFields & { hash: string }),
    details: JSON.parse(r!.details as string),
  };
}

describe('station audit verify', () => {
  it('reports an intact trail in one line (exit 0), or as JSON, and leaves the file as it was', () => {
    const file = trail();
    const before = createHash('sha256').update(readFileSync(file)).digest('hex');
    const result = verifyAuditChain(file);
    expect(result).toMatchObject({ ok: true, events: 14 });
    if (!result.ok) throw new Error('unreachable');
    const cli = runStation(['audit', 'verify', '--db', file]);
    expect(cli.status).toBe(0);
    expect(cli.stdout).toBe(
      `intact: 14 events, last hash ${result.lastHash.slice(0, 16)}, ` +
        '2026-11-25T19:00:00.000+00:00 .. 2026-11-25T19:00:03.250+00:00\n',
    );
    expect(cli.stderr).toBe('');
    const json = runStation(['audit', 'verify', '--db', file, '--json']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(result);
    expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(before);
  });

  it('exits 2 for a missing file, a file that is not SQLite, and an SQLite file without an audit trail', () => {
    const dir = tempDbFile('x');
    const missing = `${dir}-missing.db`;
    let cli = runStation(['audit', 'verify', '--db', missing]);
    expect(cli).toEqual({ status: 2, stdout: '', stderr: `station: ${missing}: no such file\n` });

    const junk = tempDbFile('junk.db');
    writeFileSync(junk, 'not a database, only text that is long enough to have a header '.repeat(10));
    cli = runStation(['audit', 'verify', '--db', junk]);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toBe(`station: ${junk} is not an audit trail (file is not a database)\n`);

    const other = tempDbFile('other.db');
    sql(other, 'CREATE TABLE customers (id INTEGER PRIMARY KEY);');
    cli = runStation(['audit', 'verify', '--db', other]);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toBe(`station: ${other} is not an audit trail (no such table: events)\n`);
    expect(existsSync(missing)).toBe(false);

    expect(runStation(['audit', 'verify']).status).toBe(2);
  });

  it('the triggers stop a plain UPDATE or DELETE in the sqlite3 shell', () => {
    const file = trail();
    const update = sqlite3(file, "UPDATE events SET outcome = 'failed' WHERE seq = 8;");
    expect(update.stderr).toMatch(
      /audit trail is append-only: events cannot be updated \(record a correction instead\)/,
    );
    const del = sqlite3(file, 'DELETE FROM events WHERE seq = 8;');
    expect(del.stderr).toMatch(/audit trail is append-only: events cannot be deleted/);
    expect(verifyAuditChain(file)).toMatchObject({ ok: true, events: 14 });
  });

  it('(1) triggers dropped and put back, one row changed: reported as changed at that seq', () => {
    const file = trail();
    sql(
      file,
      `${DROP_TRIGGERS} UPDATE events SET details = '{"durationMs":1}' WHERE seq = 7;\n${RESTORE_TRIGGERS}`,
    );
    expectTampered(file, 7, 'changed', 'event seq 7 was changed (hash mismatch)');
  });

  it('(2) a middle row deleted: reported as deleted at the missing seq', () => {
    const file = trail();
    sql(file, `${DROP_TRIGGERS} DELETE FROM events WHERE seq = 9;\n${RESTORE_TRIGGERS}`);
    expectTampered(file, 9, 'deleted', 'event seq 9 was deleted (gap in seq: 8 is followed by 10)');
  });

  it('(3) forged rows inserted: at the end with a made-up hash, spliced onto an earlier event, or before the start', () => {
    const forged = (seq: number, prevHash: string, hash: string) =>
      `INSERT INTO events (seq, event_id, at, station_id, operator, batch_id, unit_id, slot, step, kind, outcome,
         details, supersedes, prev_hash, hash)
       VALUES (${seq}, '11111111-2222-4333-8444-555555555555', '2026-11-25T19:00:05.000+00:00', 'line1-station2',
         'ann', 'batch-1', 'batch-1-unit-9', 0, NULL, 'unit.finished', 'passed', '{}', NULL, '${prevHash}', '${hash}');`;
    const madeUp = 'f'.repeat(64);

    const atEnd = trail();
    sql(atEnd, forged(15, row(atEnd, 14).hash, madeUp));
    expectTampered(atEnd, 15, 'changed', 'event seq 15 was changed (hash mismatch)');

    const spliced = trail();
    sql(spliced, forged(15, row(spliced, 5).hash, madeUp));
    expectTampered(
      spliced,
      15,
      'inserted',
      'event seq 15 was inserted (it links to event seq 5, which already has a successor)',
    );

    const before = trail();
    sql(before, forged(0, '0'.repeat(64), madeUp));
    expectTampered(before, 0, 'inserted', 'event seq 0 was inserted (seq out of order)');
  });

  it('(4) a row changed and its hash recomputed: the next row no longer links to it', () => {
    const file = trail();
    const original = row(file, 13);
    const details = { ...original.details, errorCode: 'NONE' };
    const { hash: _old, ...fields } = { ...original, outcome: 'failed', details };
    const rehashed = eventHash(fields);
    sql(
      file,
      `${DROP_TRIGGERS} UPDATE events SET outcome = 'failed', details = '${JSON.stringify(details)}',
         hash = '${rehashed}' WHERE seq = 13;\n${RESTORE_TRIGGERS}`,
    );
    expectTampered(
      file,
      14,
      'deleted',
      'event seq 14 does not link to event seq 13 (prev_hash mismatch: an event before it was deleted or rewritten)',
    );
  });

  it('a row with a wrong column type is malformed', () => {
    const file = trail();
    sql(file, `${DROP_TRIGGERS} UPDATE events SET slot = 'two' WHERE seq = 4;\n${RESTORE_TRIGGERS}`);
    expectTampered(file, 4, 'malformed', 'event seq 4 is malformed (slot has the wrong type)');
  });
});
