/**
 * Integrity past the hash chain, tried as an attacker who can write the station's files would: each attack on a
 * copy of a real trail (a provisioned batch, signed by the station's key from its secret store) and each caught by
 * `station audit verify`, naming what it found. Then the station itself refuses to provision on a tampered trail.
 */
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointMessage,
  eventHash,
  generateStationKey,
  GENESIS_HASH,
  keyFingerprint,
  signerFromSeed,
  type EventRowFields,
} from '../../../electron/audit';
import { runStation } from '../../support/cli';
import { DROP_TRIGGERS, RESTORE_TRIGGERS } from '../../support/audit';
import { provision, useDataDirs } from './e2e-support';

const newDir = useDataDirs();
let original: string;
let fingerprint: string;

beforeAll(async () => {
  original = newDir('integrity');
  const run = await provision(original, { sim: 2 });
  expect(run.code, run.stderr).toBe(0);
  const identity = await runStation(['identity', '--data', original, '--json']);
  fingerprint = (JSON.parse(identity.stdout) as { fingerprint: string }).fingerprint;
}, 60_000);

/** A copy of the station's folder (trail, the anchor beside it, logs, its secrets) to attack. */
function copy(label: string): { dir: string; db: string } {
  const dir = newDir(label);
  rmSync(dir, { recursive: true, force: true });
  cpSync(original, dir, { recursive: true });
  return { dir, db: join(dir, 'station.sqlite') };
}

type Row = EventRowFields & { hash: string };

function rows(db: string): Row[] {
  const handle = new Database(db, { readonly: true });
  try {
    return (handle.prepare('SELECT * FROM events ORDER BY seq').all() as Array<Record<string, unknown>>).map(
      (r) => ({
        ...(r as unknown as Row),
        details: JSON.parse(r.details as string) as Record<string, unknown>,
      }),
    );
  } finally {
    handle.close();
  }
}

/** Replaces every event with `rewritten` (their hashes recomputed into a whole new chain), triggers put back. */
function rewrite(db: string, rewritten: EventRowFields[]): void {
  let prev = GENESIS_HASH;
  const chained = rewritten.map((fields, i) => {
    const next = { ...fields, seq: i + 1, prev_hash: prev };
    const hash = eventHash(next);
    prev = hash;
    return { ...next, hash };
  });
  const handle = new Database(db);
  try {
    // The attacker's own connection: no foreign keys, no triggers.
    handle.pragma('foreign_keys = OFF');
    handle.exec(DROP_TRIGGERS);
    handle.exec('DELETE FROM events');
    const insert = handle.prepare(
      `INSERT INTO events VALUES (@seq, @event_id, @at, @station_id, @operator, @batch_id, @unit_id, @slot, @step,
        @kind, @outcome, @details, @supersedes, @prev_hash, @hash)`,
    );
    for (const row of chained) insert.run({ ...row, details: JSON.stringify(sorted(row.details)) });
    handle.exec(RESTORE_TRIGGERS);
  } finally {
    handle.close();
  }
}

/** Canonical JSON as the store writes it (sorted keys), so rewritten rows pass the canonical-form check. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

function strip(row: Row): EventRowFields {
  const { hash: _hash, ...fields } = row;
  return fields;
}

async function verify(db: string, ...args: string[]) {
  const run = await runStation(['audit', 'verify', '--db', db, ...args]);
  const json = await runStation(['audit', 'verify', '--db', db, '--json', ...args]);
  return {
    code: run.code,
    line: run.stdout.trim(),
    result: JSON.parse(json.stdout) as Record<string, unknown>,
  };
}

describe('audit verify against an attacker who can write the files', () => {
  it('an untouched copy verifies, signed by the station key from the secret store, its anchor held', async () => {
    const { db } = copy('intact');
    const { code, line, result } = await verify(db);
    expect(code, line).toBe(0);
    expect(result).toMatchObject({
      ok: true,
      keySource: 'expected',
      signedBy: fingerprint,
      anchorsChecked: 1,
    });
    expect(line).toContain(`signed by ${fingerprint} (this station's own key)`);
  });

  it('every event rewritten (another operator, shifted times, a unit removed) with every hash recomputed', async () => {
    const { db } = copy('rewrite');
    const events = rows(db);
    const dropped = events.find((e) => e.kind === 'unit.started')!.unit_id;
    const shifted = events
      .filter((e) => e.unit_id !== dropped)
      .map((e) => ({
        ...strip(e),
        operator: e.operator === null ? null : 'mallory',
        at: new Date(Date.parse(e.at) - 3_600_000).toISOString().replace('Z', '+00:00'),
      }));
    rewrite(db, shifted);
    const { code, result } = await verify(db, '--anchors', '/dev/null');
    expect(code).toBe(1);
    expect(result).toMatchObject({ ok: false, reason: 'forged' });
    expect(result.message).toMatch(
      /^checkpoint at seq \d+ does not verify with ed25519:[0-9a-f]{32}: the events before it were changed after it was signed/,
    );
  });

  it('a forged event appended with a correct hash, after the station shut down', async () => {
    const { db } = copy('append');
    const events = rows(db);
    const last = events.at(-1)!;
    expect(last.details.reason).toBe('shutdown');
    rewrite(db, [
      ...events.map(strip),
      {
        ...strip(events.find((e) => e.kind === 'unit.finished')!),
        seq: last.seq + 1,
        event_id: '00000000-0000-4000-8000-000000000001',
        at: last.at,
      },
    ]);
    const { code, result } = await verify(db);
    expect(code).toBe(1);
    expect(result).toMatchObject({
      ok: false,
      reason: 'forged',
      firstBadSeq: last.seq + 1,
      message: `event seq ${last.seq + 1} was appended after the station shut down at seq ${last.seq}, without the station's signature`,
    });
  });

  it('the last events cut off and the views adjusted: the anchors outside the file still name them', async () => {
    const { dir, db } = copy('cut');
    const events = rows(db);
    const keep = events.findIndex((e) => e.kind === 'batch.closed');
    const handle = new Database(db);
    handle.pragma('foreign_keys = OFF');
    handle.exec(DROP_TRIGGERS);
    handle.prepare('DELETE FROM events WHERE seq > ?').run(events[keep - 1]!.seq);
    handle
      .prepare('UPDATE batches SET state = ?, closed_at = NULL, last_seq = ?')
      .run('open', events[keep - 1]!.seq);
    handle.exec(RESTORE_TRIGGERS);
    handle.close();
    // The anchor the station keeps beside its database.
    const beside = await verify(db);
    expect(beside.code).toBe(1);
    expect(beside.result).toMatchObject({ ok: false, reason: 'anchor' });
    expect(beside.result.message).toMatch(
      /^anchor seq \d+ \([0-9a-f]{16}…\) is not in the trail, which ends at seq \d+: events were cut off/,
    );
    // Without it, the station log's checkpoints are anchors too.
    rmSync(`${db}.verified`);
    const log = readdirSync(join(dir, 'logs')).find((f) => /^station-\d{4}-\d{2}-\d{2}\.log$/.test(f))!;
    expect(readFileSync(join(dir, 'logs', log), 'utf8')).toContain('"event":"audit.checkpoint"');
    const fromLog = await verify(db, '--anchors', join(dir, 'logs', log));
    expect(fromLog.result).toMatchObject({ ok: false, reason: 'anchor' });
  });

  it('a view edited alone (a unit given another device id)', async () => {
    const { db } = copy('view');
    const handle = new Database(db);
    const unit = handle.prepare('SELECT id FROM units LIMIT 1').pluck().get() as string;
    handle.prepare("UPDATE units SET device_id = 'feedfacefeedface' WHERE id = ?").run(unit);
    handle.close();
    const { code, result } = await verify(db);
    expect(code).toBe(1);
    expect(result).toMatchObject({ ok: false, reason: 'views' });
    expect(result.message).toMatch(
      new RegExp(
        `^the units view says unit ${unit} has device_id "feedfacefeedface", but its events give "[0-9a-f]{16}": the view was edited$`,
      ),
    );
  });

  it('the append-only triggers dropped', async () => {
    const { db } = copy('triggers');
    const handle = new Database(db);
    handle.exec('DROP TRIGGER events_no_delete');
    handle.close();
    const { code, result } = await verify(db);
    expect(code).toBe(1);
    expect(result).toMatchObject({
      ok: false,
      reason: 'schema',
      message: 'the append-only trigger events_no_delete was dropped: the events could be edited in place',
    });
  });

  it('every event and view deleted', async () => {
    const { db } = copy('wiped');
    const handle = new Database(db);
    handle.exec(
      `${DROP_TRIGGERS} DELETE FROM units; DELETE FROM batches; DELETE FROM events; ${RESTORE_TRIGGERS}`,
    );
    handle.close();
    const { code, result } = await verify(db, '--anchors', '/dev/null');
    expect(code).toBe(1);
    expect(result).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(result.message).toBe(`the trail is empty: it holds no signature by ${fingerprint} (wiped?)`);
  });

  it("the public key replaced: the identity and every checkpoint re-signed with the attacker's key", async () => {
    const { db } = copy('rekey');
    const attacker = signerFromSeed(generateStationKey().seed);
    const events = rows(db).map(strip);
    // Rewritten in order, each checkpoint signed over the rewritten chain before it.
    let prev = GENESIS_HASH;
    const forged = events.map((fields) => {
      let details = fields.details;
      if (fields.kind === 'station.identity') {
        details = {
          ...details,
          stationPublicKey: attacker.publicKey.toString('base64'),
          publicKeyFp: attacker.fingerprint,
        };
      }
      if (fields.kind === 'checkpoint') {
        const signature = attacker
          .sign(checkpointMessage(fields.station_id, fields.seq - 1, prev))
          .toString('base64');
        details = { ...details, publicKeyFp: attacker.fingerprint, signature };
      }
      const next = { ...fields, details: sorted(details) as Record<string, unknown>, prev_hash: prev };
      prev = eventHash(next);
      return next;
    });
    rewrite(db, forged);
    // Checked against the key the file itself names, it would pass: that is why verify expects the station's.
    const own = await verify(db, '--anchors', '/dev/null');
    expect(own.code).toBe(1);
    expect(own.result).toMatchObject({
      ok: false,
      reason: 'wrong-key',
      message: `checkpoint at seq 2 is signed by another key (${attacker.fingerprint}), not ${fingerprint}`,
    });
    const registered = await verify(db, '--expect-key', fingerprint, '--anchors', '/dev/null');
    expect(registered.result).toMatchObject({
      ok: false,
      reason: 'wrong-key',
      message: `the trail names ${attacker.fingerprint}, not the expected key ${fingerprint}`,
    });
    expect(keyFingerprint(attacker.publicKey)).toBe(attacker.fingerprint);
  });
});

describe('the station on a tampered trail', () => {
  it('refuses to provision, appends nothing, and says why (on stderr and in its log)', async () => {
    const { dir, db } = copy('refuse');
    const handle = new Database(db);
    handle.exec(`${DROP_TRIGGERS} UPDATE events SET operator = 'mallory' WHERE seq = 5;`);
    const before = handle.prepare('SELECT count(*) FROM events').pluck().get();
    handle.close();
    const run = await provision(dir, { sim: 1 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `station: The audit trail ${db} failed verification: the append-only trigger events_no_update was dropped`,
    );
    expect(run.stderr).toContain(
      'The station will not provision and has written nothing to it: a supervisor must investigate',
    );
    const after = new Database(db, { readonly: true });
    expect(after.prepare('SELECT count(*) FROM events').pluck().get()).toBe(before);
    after.close();
    const log = readdirSync(join(dir, 'logs')).find((f) => /^station-\d{4}-\d{2}-\d{2}\.log$/.test(f))!;
    expect(readFileSync(join(dir, 'logs', log), 'utf8')).toContain('"event":"audit.refused"');
  });

  it('refuses a trail edited in place with the triggers put back: its checkpoint no longer verifies', async () => {
    const { dir, db } = copy('refuse-edit');
    const handle = new Database(db);
    handle.exec(`${DROP_TRIGGERS} UPDATE events SET operator = 'mallory' WHERE seq = 5; ${RESTORE_TRIGGERS}`);
    handle.close();
    // The station verifies from the last checkpoint it verified: an edit before it breaks that anchor's chain,
    // so the whole trail is checked from the start when the anchor is gone.
    rmSync(`${db}.verified`);
    const run = await provision(dir, { sim: 1 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('event seq 5 was changed (hash mismatch)');
  });

  it('refuses a trail rewritten without its identity and signatures, even with the remembered anchor gone', async () => {
    const { dir, db } = copy('refuse-unsigned');
    const kept = rows(db).filter((row) => row.kind !== 'station.identity' && row.kind !== 'checkpoint');
    const unsigned = kept.map(strip);
    rewrite(db, unsigned);
    // The views renumbered to match, as a careful attacker would.
    const renumber = new Database(db);
    renumber.pragma('foreign_keys = OFF');
    renumber.exec(DROP_TRIGGERS);
    for (const table of ['units', 'batches']) {
      const update = renumber.prepare(`UPDATE ${table} SET last_seq = ? WHERE last_seq = ?`);
      // Highest first, so a renumbered seq is never renumbered again.
      for (const [i, row] of [...kept.entries()].reverse()) update.run(-(i + 1), row.seq);
      renumber.prepare(`UPDATE ${table} SET last_seq = -last_seq WHERE last_seq < 0`).run();
    }
    renumber.exec(RESTORE_TRIGGERS);
    renumber.close();
    expect((await verify(db, '--anchors', '/dev/null', '--expect-key', fingerprint)).code).toBe(1);
    rmSync(`${db}.verified`);
    const run = await provision(dir, { sim: 1 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `it holds ${unsigned.length} events but no station identity, though this station has had its key ${fingerprint} since before this start`,
    );
    expect(rows(db)).toHaveLength(unsigned.length);
  });
});
