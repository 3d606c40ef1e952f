/**
 * Tampering end to end: provision with the real CLI, then edit a copy of the audit file with the sqlite3 shell the
 * way someone with file access would (dropping the append-only triggers first and putting them back after, so the
 * schema check alone does not give the edit away), and show that the real
 * `station audit verify` catches each edit and names the event.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, eventHash, type EventRowFields } from '../../../electron/audit/hash-chain';
import { RESTORE_TRIGGERS } from '../../support/audit';
import { runStation } from '../../support/cli';
import { expectChainIntact, provision, useDataDirs } from './e2e-support';

const newDir = useDataDirs();
const DROP_TRIGGERS = 'DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;';

let dir: string;
let events: number;
let copies = 0;

/** A copy of the provisioned audit file (with its WAL, if any, and the anchor beside it) that one test may spoil. */
function copyOfAudit(): string {
  const file = join(dir, `tampered-${++copies}.sqlite`);
  copyFileSync(join(dir, 'station.sqlite'), file);
  for (const suffix of ['-wal', '-shm', '.verified'])
    if (existsSync(join(dir, `station.sqlite${suffix}`)))
      copyFileSync(join(dir, `station.sqlite${suffix}`), `${file}${suffix}`);
  return file;
}

/** Runs the edit, then puts the triggers back exactly as they were. */
function sqlite3(file: string, sql: string): void {
  const result = spawnSync('sqlite3', [file], { input: `${sql}\n${RESTORE_TRIGGERS}`, encoding: 'utf8' });
  expect(result.stderr, sql).toBe('');
  expect(result.status).toBe(0);
}

function row(file: string, seq: number): EventRowFields & { hash: string } {
  const db = new Database(file, { readonly: true });
  try {
    const raw = db.prepare('SELECT * FROM events WHERE seq = ?').get(seq) as Record<string, unknown>;
    return {
      ...(raw as unknown as EventRowFields),
      details: JSON.parse(raw.details as string),
      hash: raw.hash as string,
    };
  } finally {
    db.close();
  }
}

const quote = (value: unknown) =>
  value === null
    ? 'NULL'
    : typeof value === 'number'
      ? String(value)
      : `'${String(value).replaceAll("'", "''")}'`;

async function expectCaught(file: string, firstBadSeq: number, reason: string) {
  const verify = await runStation(['audit', 'verify', '--db', file, '--json']);
  const result = JSON.parse(verify.stdout) as { ok: boolean; firstBadSeq: number; reason: string };
  expect(result).toMatchObject({ ok: false, firstBadSeq, reason });
  expect(verify.code).toBe(1);
  expect(verify.stderr).toContain('the audit trail failed verification');
}

describe('station audit verify catches edits made with the sqlite3 shell', () => {
  beforeAll(async () => {
    dir = newDir('tamper');
    const run = await provision(dir, { sim: 2 });
    expect(run.code, run.stderr).toBe(0);
    events = await expectChainIntact(dir, { cli: true });
    expect(events).toBeGreaterThan(40);
  }, 60_000);

  it('a changed row (an operator name rewritten)', async () => {
    const file = copyOfAudit();
    sqlite3(file, `${DROP_TRIGGERS} UPDATE events SET operator = 'mallory' WHERE seq = 20;`);
    await expectCaught(file, 20, 'changed');
  });

  it('a changed row whose own hash was recomputed: its successor no longer links to it', async () => {
    const file = copyOfAudit();
    const original = row(file, 20);
    const forged = { ...original, outcome: original.outcome === 'failed' ? 'passed' : 'failed' };
    const { hash: _old, ...fields } = forged;
    void _old;
    sqlite3(
      file,
      `${DROP_TRIGGERS} UPDATE events SET outcome = ${quote(forged.outcome)}, hash = '${eventHash(fields)}' WHERE seq = 20;`,
    );
    await expectCaught(file, 21, 'deleted');
  });

  it('a deleted row', async () => {
    const file = copyOfAudit();
    sqlite3(file, `${DROP_TRIGGERS} DELETE FROM events WHERE seq = 20;`);
    await expectCaught(file, 20, 'deleted');
  });

  it('an inserted row, correctly hashed onto its predecessor, the later rows renumbered', async () => {
    const file = copyOfAudit();
    const previous = row(file, 20);
    const template = row(file, 21);
    const fields: EventRowFields = {
      ...template,
      seq: 21,
      event_id: '00000000-0000-4000-8000-000000000000',
      details: { ...template.details, forged: true },
      prev_hash: previous.hash,
    };
    delete (fields as Partial<typeof template>).hash;
    const columns = Object.keys(fields);
    const values = columns.map((c) =>
      c === 'details' ? quote(canonicalJson(fields.details)) : quote(fields[c as keyof EventRowFields]),
    );
    sqlite3(
      file,
      `${DROP_TRIGGERS}
       UPDATE events SET seq = seq + 1000000 WHERE seq > 20;
       UPDATE events SET seq = seq - 1000000 + 1 WHERE seq > 1000000;
       INSERT INTO events (${columns.join(', ')}, hash) VALUES (${values.join(', ')}, '${eventHash(fields)}');`,
    );
    // The forged row itself is a valid link; the original that now follows it is not.
    await expectCaught(file, 22, 'inserted');
  });

  it('an inserted row spliced onto an earlier event at the end of the trail', async () => {
    const file = copyOfAudit();
    const template = row(file, 10);
    sqlite3(
      file,
      `${DROP_TRIGGERS} INSERT INTO events (seq, event_id, at, station_id, operator, batch_id, unit_id, slot, step, kind, outcome, details, supersedes, prev_hash, hash)
       VALUES (${events + 1}, '${randomUUID()}', ${quote(template.at)}, ${quote(template.station_id)}, 'mallory', ${quote(template.batch_id)}, ${quote(template.unit_id)}, ${quote(template.slot)}, ${quote(template.step)}, ${quote(template.kind)}, ${quote(template.outcome)}, ${quote(canonicalJson(template.details))}, NULL, '${row(file, 10).prev_hash}', '${'ab'.repeat(32)}');`,
    );
    await expectCaught(file, events + 1, 'inserted');
  });

  // The chain alone cannot see its tail cut off (here the shutdown checkpoint, which no view refers to): the anchor
  // the station keeps beside its database still names the last event.
  it('a deleted last row (tail truncation)', async () => {
    const file = copyOfAudit();
    sqlite3(file, `${DROP_TRIGGERS} DELETE FROM events WHERE seq = ${events};`);
    await expectCaught(file, events, 'anchor');
  });
});
