/**
 * `verifyAuditChain` on signed trails written by the real store: the expected key (raw, or a fingerprint the trail
 * must name) is what checkpoints are checked against, a wrong one is named, a forged append after shutdown and an
 * altered signature are caught even with every hash recomputed, the unsigned tail is counted, anchors kept outside
 * the file hold or name what they miss, `from` walks only past a verified checkpoint, and an edited view is named.
 */
import { copyFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  eventHash,
  generateStationKey,
  GENESIS_HASH,
  signerFromSeed,
  verifyAuditChain,
  type CheckpointAnchor,
  type EventRowFields,
  type TrailSigner,
} from '../../../electron/audit/index';
import { DROP_TRIGGERS, RESTORE_TRIGGERS, openStore, recordBatch, tempDbFile } from '../../support/audit';

const signer = signerFromSeed(generateStationKey().seed);
const other = signerFromSeed(generateStationKey().seed);

interface Trail {
  file: string;
  anchors: CheckpointAnchor[];
}

/**
 * A station's run: identity (1), `opened` (2), a batch of two units (3-16), `batch.closed` (17), `batch-closed`
 * (18), `shutdown` (19). Every event at a 250 ms step from 19:00:00.
 */
function signedTrail(key: TrailSigner = signer): Trail {
  const file = tempDbFile();
  const anchors: CheckpointAnchor[] = [];
  const store = openStore(file, { signer: key, onCheckpoint: (anchor) => anchors.push(anchor) });
  store.recordIdentity();
  store.checkpoint('opened');
  recordBatch(store, 2);
  store.append({ kind: 'batch.closed', batchId: 'batch-1', operator: 'ann', details: {} });
  store.checkpoint('batch-closed');
  store.checkpoint('shutdown');
  store.close();
  return { file, anchors };
}

/** The same batch by software that did not sign: 14 events, no identity, no checkpoint. */
function unsignedTrail(): string {
  const file = tempDbFile();
  const store = openStore(file);
  recordBatch(store, 2);
  store.close();
  return file;
}

type Row = EventRowFields & { hash: string };

function rows(file: string): Row[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[], Record<string, unknown>>('SELECT * FROM events ORDER BY seq')
      .all()
      .map((r) => ({
        ...(r as unknown as Row),
        details: JSON.parse(r.details as string) as Record<string, unknown>,
      }));
  } finally {
    db.close();
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

/**
 * As an attacker with the file would: every event replaced by `edit(row)`, every hash recomputed into a new chain,
 * the triggers dropped for the rewrite and put back after it.
 */
function rewrite(file: string, edit: (row: EventRowFields) => EventRowFields): void {
  let prev = GENESIS_HASH;
  const chained = rows(file).map(({ hash: _hash, ...fields }) => {
    const next = { ...edit(fields), prev_hash: prev };
    prev = eventHash(next);
    return { ...next, hash: prev };
  });
  const db = new Database(file);
  try {
    db.pragma('foreign_keys = OFF');
    db.exec(DROP_TRIGGERS);
    db.exec('DELETE FROM events');
    const insert = db.prepare(
      `INSERT INTO events VALUES (@seq, @event_id, @at, @station_id, @operator, @batch_id, @unit_id, @slot, @step,
        @kind, @outcome, @details, @supersedes, @prev_hash, @hash)`,
    );
    for (const row of chained) insert.run({ ...row, details: JSON.stringify(sorted(row.details)) });
    db.exec(RESTORE_TRIGGERS);
  } finally {
    db.close();
  }
}

/** An edit in place, the triggers put back after it, no hash recomputed. */
function editInPlace(file: string, sql: string): void {
  const db = new Database(file);
  try {
    db.exec(`${DROP_TRIGGERS} ${sql} ${RESTORE_TRIGGERS}`);
  } finally {
    db.close();
  }
}

const head = (anchor: CheckpointAnchor) => ({ seq: anchor.seq, hash: anchor.hash });

describe('a signed trail', () => {
  it('verifies against the expected public key: every checkpoint counted, signed by it, nothing unsigned', () => {
    const { file, anchors } = signedTrail();
    expect(anchors.map((a) => [a.seq, a.reason])).toEqual([
      [2, 'opened'],
      [18, 'batch-closed'],
      [19, 'shutdown'],
    ]);
    expect(verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey } })).toEqual({
      ok: true,
      events: 19,
      lastHash: anchors[2]!.hash,
      firstAt: '2026-11-25T19:00:00.000+00:00',
      lastAt: '2026-11-25T19:00:04.500+00:00',
      checkpoints: 3,
      signedBy: signer.fingerprint,
      keySource: 'expected',
      lastCheckpoint: head(anchors[2]!),
      unsignedTail: 0,
      anchorsChecked: 0,
    });
  });

  it('verifies against the expected fingerprint the same way, the key taken from the identity it names', () => {
    const { file } = signedTrail();
    const byKey = verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey } });
    expect(verifyAuditChain(file, { expectKey: { fingerprint: signer.fingerprint } })).toEqual(byKey);
  });

  it('without an expected key, is checked against the key in the file and says so', () => {
    const { file } = signedTrail();
    expect(verifyAuditChain(file)).toMatchObject({
      ok: true,
      checkpoints: 3,
      signedBy: signer.fingerprint,
      keySource: 'file',
    });
    expect(verifyAuditChain(unsignedTrail())).toMatchObject({
      ok: true,
      events: 14,
      checkpoints: 0,
      signedBy: null,
      keySource: 'none',
      lastCheckpoint: null,
      unsignedTail: 14,
    });
  });
});

describe('the wrong key', () => {
  it('a wrong expected public key is named at the first checkpoint, with the key the trail claims', () => {
    const { file } = signedTrail();
    expect(verifyAuditChain(file, { expectKey: { publicKey: other.publicKey } })).toEqual({
      ok: false,
      firstBadSeq: 2,
      reason: 'wrong-key',
      message: `checkpoint at seq 2 is signed by another key (${signer.fingerprint}), not ${other.fingerprint}`,
    });
  });

  it('a wrong expected fingerprint is named against the keys the trail names', () => {
    const { file } = signedTrail();
    expect(verifyAuditChain(file, { expectKey: { fingerprint: other.fingerprint } })).toEqual({
      ok: false,
      firstBadSeq: 0,
      reason: 'wrong-key',
      message: `the trail names ${signer.fingerprint}, not the expected key ${other.fingerprint}`,
    });
  });

  it('an unsigned trail, when a key is expected: unsigned (by public key) or naming no key (by fingerprint)', () => {
    const file = unsignedTrail();
    expect(verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey } })).toEqual({
      ok: false,
      firstBadSeq: 15,
      reason: 'unsigned',
      message: `no event of the trail is signed by ${signer.fingerprint}: it was written, or rewritten, without the station's key`,
    });
    expect(verifyAuditChain(file, { expectKey: { fingerprint: signer.fingerprint } })).toEqual({
      ok: false,
      firstBadSeq: 0,
      reason: 'wrong-key',
      message: `the trail names no station key, so nothing in it is signed by ${signer.fingerprint}`,
    });
  });
});

describe('forgery', () => {
  it('an event appended after the shutdown checkpoint, without an opened checkpoint first, is forged', () => {
    const { file } = signedTrail();
    // Software without the key, writing a correctly chained event.
    const forger = openStore(file);
    forger.append({ kind: 'operator.login', operator: 'mallory', details: {} });
    forger.close();
    const forged = {
      ok: false,
      firstBadSeq: 20,
      reason: 'forged',
      message:
        "event seq 20 was appended after the station shut down at seq 19, without the station's signature",
    };
    expect(verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey } })).toEqual(forged);
    expect(verifyAuditChain(file)).toEqual(forged);
  });

  it('the station reopening signs an opened checkpoint first, and what it appends then verifies', () => {
    const { file } = signedTrail();
    const store = openStore(file, { signer });
    store.recordIdentity();
    store.checkpoint('opened');
    store.append({ kind: 'operator.login', operator: 'ann', details: {} });
    store.close();
    expect(verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey } })).toMatchObject({
      ok: true,
      events: 21,
      checkpoints: 4,
      lastCheckpoint: { seq: 20 },
      unsignedTail: 1,
    });
  });

  it('a checkpoint whose signature bytes are altered, the chain re-hashed around it, does not verify', () => {
    const { file } = signedTrail();
    rewrite(file, (row) => {
      if (row.seq !== 18) return row;
      const signature = Buffer.from(String(row.details.signature), 'base64');
      signature[0] = signature[0]! ^ 0x80;
      return { ...row, details: { ...row.details, signature: signature.toString('base64') } };
    });
    const forged = {
      ok: false,
      firstBadSeq: 18,
      reason: 'forged',
      message: `checkpoint at seq 18 does not verify with ${signer.fingerprint}: the events before it were changed after it was signed, or it was forged`,
    };
    expect(verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey } })).toEqual(forged);
    expect(verifyAuditChain(file)).toEqual(forged);
  });

  it('an event rewritten before a checkpoint, every hash recomputed, breaks the next checkpoint', () => {
    const { file } = signedTrail();
    rewrite(file, (row) => (row.seq === 5 ? { ...row, operator: 'mallory' } : row));
    expect(verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey } })).toEqual({
      ok: false,
      firstBadSeq: 18,
      reason: 'forged',
      message: `checkpoint at seq 18 does not verify with ${signer.fingerprint}: the events before it were changed after it was signed, or it was forged`,
    });
  });
});

describe('the unsigned tail', () => {
  it('counts the events after the last checkpoint (a run that stopped before signing them)', () => {
    const file = tempDbFile();
    const anchors: CheckpointAnchor[] = [];
    const store = openStore(file, { signer, onCheckpoint: (anchor) => anchors.push(anchor) });
    store.recordIdentity();
    store.checkpoint('opened');
    recordBatch(store, 1);
    store.close();
    expect(verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey } })).toMatchObject({
      ok: true,
      events: 10,
      checkpoints: 1,
      lastCheckpoint: head(anchors[0]!),
      unsignedTail: 8,
    });
  });

  it('stays below checkpointEvery with interval checkpoints', () => {
    const file = tempDbFile();
    const store = openStore(file, { signer, checkpointEvery: 4 });
    store.recordIdentity();
    store.checkpoint('opened');
    recordBatch(store, 2);
    store.close();
    // 2 + 14 events, an interval checkpoint after every 4 since seq 2: at 7, 12 and 17; two events after the last.
    expect(verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey } })).toMatchObject({
      ok: true,
      events: 19,
      checkpoints: 4,
      lastCheckpoint: { seq: 17 },
      unsignedTail: 2,
    });
  });
});

describe('anchors kept outside the file', () => {
  it('all held: counted', () => {
    const { file, anchors } = signedTrail();
    expect(verifyAuditChain(file, { anchors: anchors.map(head) })).toMatchObject({
      ok: true,
      anchorsChecked: 3,
    });
  });

  it('an anchor whose hash differs from the row at its seq: the trail was rewritten', () => {
    const { file, anchors } = signedTrail();
    const rewritten = signedTrail();
    const theirs = rewritten.anchors[1]!;
    const ours = rows(file)[17]!;
    expect(verifyAuditChain(file, { anchors: [head(anchors[0]!), head(theirs)] })).toEqual({
      ok: false,
      firstBadSeq: 18,
      reason: 'anchor',
      message: `event seq 18 has hash ${ours.hash.slice(0, 16)}…, not the anchor's ${theirs.hash.slice(0, 16)}…: the trail was rewritten`,
    });
  });

  it('an anchor past the end: an older copy put back in place of the trail is caught', () => {
    const file = tempDbFile();
    const anchors: CheckpointAnchor[] = [];
    let store = openStore(file, { signer, onCheckpoint: (anchor) => anchors.push(anchor) });
    store.recordIdentity();
    store.checkpoint('opened');
    recordBatch(store, 1);
    store.checkpoint('shutdown');
    store.close();
    const older = tempDbFile('older.db');
    copyFileSync(file, older);
    store = openStore(file, { signer, onCheckpoint: (anchor) => anchors.push(anchor) });
    store.checkpoint('opened');
    store.append({ kind: 'operator.login', operator: 'ann', details: {} });
    store.checkpoint('shutdown');
    store.close();
    const last = anchors.at(-1)!;
    expect(last.seq).toBe(14);
    // The older copy is a good trail in itself; only the anchor shows it is not the whole story.
    expect(verifyAuditChain(older, { expectKey: { publicKey: signer.publicKey } })).toMatchObject({
      ok: true,
      events: 11,
    });
    expect(
      verifyAuditChain(older, { expectKey: { publicKey: signer.publicKey }, anchors: anchors.map(head) }),
    ).toEqual({
      ok: false,
      firstBadSeq: 12,
      reason: 'anchor',
      message: `anchor seq 12 (${anchors[2]!.hash.slice(0, 16)}…) is not in the trail, which ends at seq 11: events were cut off or the trail was wiped`,
    });
    expect(verifyAuditChain(file, { anchors: anchors.map(head) })).toMatchObject({
      ok: true,
      anchorsChecked: 4,
    });
  });
});

describe('from a verified checkpoint', () => {
  it('walks only the events after it, counting only the checkpoints there', () => {
    const { file, anchors } = signedTrail();
    expect(
      verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey }, from: head(anchors[0]!) }),
    ).toEqual({
      ok: true,
      events: 19,
      lastHash: anchors[2]!.hash,
      firstAt: '2026-11-25T19:00:00.000+00:00', // the trail's first event, not the first one walked
      lastAt: '2026-11-25T19:00:04.500+00:00',
      checkpoints: 2,
      signedBy: signer.fingerprint,
      keySource: 'expected',
      lastCheckpoint: head(anchors[2]!),
      unsignedTail: 0,
      anchorsChecked: 0,
    });
    expect(
      verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey }, from: head(anchors[2]!) }),
    ).toMatchObject({
      ok: true,
      events: 19,
      checkpoints: 0,
      lastCheckpoint: head(anchors[2]!),
      unsignedTail: 0,
    });
  });

  it('does not re-hash rows before it (an edit there is for a full verify), but checks every row after it', () => {
    const { file, anchors } = signedTrail();
    editInPlace(file, "UPDATE events SET operator = 'mallory' WHERE seq = 5;");
    const expectKey = { publicKey: signer.publicKey };
    expect(verifyAuditChain(file, { expectKey })).toEqual({
      ok: false,
      firstBadSeq: 5,
      reason: 'changed',
      message: 'event seq 5 was changed (hash mismatch)',
    });
    expect(verifyAuditChain(file, { expectKey, from: head(anchors[1]!) })).toMatchObject({ ok: true });
    editInPlace(file, "UPDATE events SET operator = 'mallory' WHERE seq = 19;");
    expect(verifyAuditChain(file, { expectKey, from: head(anchors[1]!) })).toEqual({
      ok: false,
      firstBadSeq: 19,
      reason: 'changed',
      message: 'event seq 19 was changed (hash mismatch)',
    });
  });

  it('fails when the row at its seq no longer has its hash, or is gone', () => {
    const { file, anchors } = signedTrail();
    const elsewhere = signedTrail().anchors[1]!;
    expect(verifyAuditChain(file, { from: { seq: 18, hash: elsewhere.hash } })).toEqual({
      ok: false,
      firstBadSeq: 18,
      reason: 'anchor',
      message: 'event seq 18 is not the checkpoint verified before: the trail was rewritten',
    });
    expect(verifyAuditChain(file, { from: { seq: 25, hash: anchors[2]!.hash } })).toEqual({
      ok: false,
      firstBadSeq: 25,
      reason: 'anchor',
      message: 'the last verified checkpoint (seq 25) is no longer in the trail: it was cut off or wiped',
    });
  });
});

describe('views replayed', () => {
  it('a units row edited alone is named by unit and column, unless replayViews is off', () => {
    const { file, anchors } = signedTrail();
    const db = new Database(file);
    const lastSeq = db.prepare("SELECT last_seq FROM units WHERE id = 'batch-1-unit-1'").pluck().get();
    db.prepare("UPDATE units SET state = 'failed', outcome = 'failed' WHERE id = 'batch-1-unit-1'").run();
    db.close();
    expect(lastSeq).toBe(16);
    const expectKey = { publicKey: signer.publicKey };
    const views = {
      ok: false,
      firstBadSeq: 16,
      reason: 'views',
      message:
        'the units view says unit batch-1-unit-1 has state "failed", but its events give "passed": the view was edited',
    };
    expect(verifyAuditChain(file, { expectKey })).toEqual(views);
    expect(verifyAuditChain(file, { expectKey, replayViews: true })).toEqual(views);
    expect(verifyAuditChain(file, { expectKey, replayViews: false })).toMatchObject({ ok: true, events: 19 });
    // With `from` the views are not replayed unless asked for.
    expect(verifyAuditChain(file, { expectKey, from: head(anchors[1]!) })).toMatchObject({ ok: true });
    expect(verifyAuditChain(file, { expectKey, from: head(anchors[1]!), replayViews: true })).toEqual(views);
  });
});

describe('from a verified checkpoint, without an expected key', () => {
  it("checks later checkpoints with the file's identity from before the start, and reports the trail's span", () => {
    const { file, anchors } = signedTrail();
    expect(verifyAuditChain(file, { from: head(anchors[0]!) })).toMatchObject({
      ok: true,
      events: 19,
      firstAt: '2026-11-25T19:00:00.000+00:00',
      checkpoints: 2,
      signedBy: signer.fingerprint,
      keySource: 'file',
    });
    // Starting at the last checkpoint: nothing after it, yet the trail is still signed by the key it was checked with.
    expect(
      verifyAuditChain(file, { expectKey: { publicKey: signer.publicKey }, from: anchors[2]! }),
    ).toMatchObject({
      ok: true,
      checkpoints: 0,
      signedBy: signer.fingerprint,
      lastCheckpoint: head(anchors[2]!),
      lastAt: '2026-11-25T19:00:04.500+00:00',
    });
  });
});
