/**
 * Signed checkpoints in the audit store: what `checkpoint` and `recordIdentity` write (and that they write nothing
 * without a signer), the exact bytes each checkpoint signs, interval checkpoints every `checkpointEvery` events in
 * the same transaction as the event that makes one due (a signer that fails takes that event back with it), the
 * count carried across a reopen, and `onCheckpoint` told only once the checkpoint is on disk.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  AuditEventRejectedError,
  checkpointMessage,
  generateStationKey,
  signerFromSeed,
  verifyCheckpoint,
  type AuditEvent,
  type AuditStore,
  type CheckpointAnchor,
  type CheckpointReason,
  type TrailSigner,
} from '../../../electron/audit/index';
import { openStore, recordBatch, STATION, tempDbFile } from '../../support/audit';

const newSigner = (): TrailSigner => signerFromSeed(generateStationKey().seed);

/** A signer that can be told to fail, as a keychain or HSM that went away would. */
class SwitchableSigner implements TrailSigner {
  failing = false;
  private readonly inner = newSigner();
  readonly publicKey = this.inner.publicKey;
  readonly fingerprint = this.inner.fingerprint;
  sign(message: Buffer): Buffer {
    if (this.failing) throw new Error('the signing key is unavailable');
    return this.inner.sign(message);
  }
}

function kinds(store: AuditStore): string[] {
  return store.eventsAfter(0).map((event) => event.kind);
}

function login(store: AuditStore, operator = 'ann'): AuditEvent {
  return store.append({ kind: 'operator.login', operator, details: {} });
}

/** The checkpoint at `seq` signs the event before it: (station, seq - 1, that event's hash). */
function expectSignedHead(store: AuditStore, signer: TrailSigner, checkpoint: AuditEvent): void {
  const [before] = store.eventsAfter(checkpoint.seq - 2, 1);
  if (!before) throw new Error(`no event before seq ${checkpoint.seq}`);
  expect(checkpoint.prevHash).toBe(before.hash);
  const signature = Buffer.from(String(checkpoint.details.signature), 'base64');
  expect(
    verifyCheckpoint(signer.publicKey, checkpointMessage(STATION, before.seq, before.hash), signature),
  ).toBe(true);
}

describe('checkpoints without a signer', () => {
  it('checkpoint returns null, recordIdentity does nothing, and no interval checkpoint is ever written', () => {
    const store = openStore(tempDbFile(), { checkpointEvery: 3 });
    store.recordIdentity();
    recordBatch(store, 2);
    for (const reason of ['opened', 'interval', 'batch-closed', 'shutdown'] as const) {
      expect(store.checkpoint(reason)).toBeNull();
    }
    const written = kinds(store);
    expect(written).toHaveLength(14);
    expect(written).not.toContain('checkpoint');
    expect(written).not.toContain('station.identity');
    store.close();
  });
});

describe('checkpoints with a signer', () => {
  it('an empty trail has no head to sign: checkpoint returns null and writes nothing', () => {
    const anchors: CheckpointAnchor[] = [];
    const store = openStore(tempDbFile(), { signer: newSigner(), onCheckpoint: (a) => anchors.push(a) });
    expect(store.checkpoint('opened')).toBeNull();
    expect(store.lastEvent()).toBeNull();
    expect(anchors).toEqual([]);
    store.close();
  });

  it('recordIdentity writes the public key and fingerprint once, and again only when the key changes', () => {
    const file = tempDbFile();
    const first = newSigner();
    let store = openStore(file, { signer: first });
    store.recordIdentity();
    store.recordIdentity();
    const identity = store.lastEvent();
    expect(identity).toMatchObject({
      seq: 1,
      kind: 'station.identity',
      operator: null,
      details: {
        algorithm: 'ed25519',
        stationPublicKey: first.publicKey.toString('base64'),
        publicKeyFp: first.fingerprint,
      },
    });
    expect(Object.keys(identity!.details).sort()).toEqual(['algorithm', 'publicKeyFp', 'stationPublicKey']);
    login(store);
    store.close();

    // Reopened with the same key: still one identity, even with other events after it.
    store = openStore(file, { signer: first });
    store.recordIdentity();
    expect(kinds(store)).toEqual(['station.identity', 'operator.login']);
    store.close();

    // Another key, then the first again: each differs from the latest identity, so each is recorded.
    const second = newSigner();
    store = openStore(file, { signer: second });
    store.recordIdentity();
    store.close();
    store = openStore(file, { signer: first });
    store.recordIdentity();
    const identities = store
      .eventsAfter(0)
      .filter((event) => event.kind === 'station.identity')
      .map((event) => [event.seq, event.details.publicKeyFp]);
    expect(identities).toEqual([
      [1, first.fingerprint],
      [3, second.fingerprint],
      [4, first.fingerprint],
    ]);
    store.close();
  });

  it.each(['opened', 'interval', 'batch-closed', 'shutdown'] as const)(
    'checkpoint(%s) appends a checkpoint signing the head before it and returns it as the anchor',
    (reason) => {
      const signer = newSigner();
      const anchors: CheckpointAnchor[] = [];
      const store = openStore(tempDbFile(), { signer, onCheckpoint: (a) => anchors.push(a) });
      store.recordIdentity();
      recordBatch(store, 1);
      const anchor = store.checkpoint(reason);
      const event = store.lastEvent()!;
      expect(event).toMatchObject({ seq: 10, kind: 'checkpoint', stationId: STATION });
      expect(event.details).toEqual({
        reason,
        publicKeyFp: signer.fingerprint,
        signature: anchor?.signature,
      });
      expect(anchor).toEqual({
        seq: 10,
        hash: event.hash,
        signature: event.details.signature,
        reason,
        publicKeyFp: signer.fingerprint,
      });
      expect(anchor!.signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
      expectSignedHead(store, signer, event);
      expect(anchors).toEqual([anchor]);
      store.close();
    },
  );

  it('refuses a reason outside the four (nothing written, the store still usable)', () => {
    const store = openStore(tempDbFile(), { signer: newSigner() });
    login(store);
    expect(() => store.checkpoint('restarted' as CheckpointReason)).toThrow(
      new AuditEventRejectedError(
        'audit event refused: details.reason: Invalid option: expected one of "opened"|"interval"|"batch-closed"|"shutdown"',
      ),
    );
    expect(() => store.checkpoint('restarted' as CheckpointReason)).toThrow(AuditEventRejectedError);
    expect(store.lastEvent()?.seq).toBe(1);
    expect(store.failed).toBe(false);
    expect(store.checkpoint('opened')?.seq).toBe(2);
    store.close();
  });
});

describe('interval checkpoints', () => {
  it('come after every N events (the checkpoint itself counting as the one before the next N)', () => {
    const signer = newSigner();
    const anchors: CheckpointAnchor[] = [];
    const store = openStore(tempDbFile(), {
      signer,
      checkpointEvery: 5,
      onCheckpoint: (a) => anchors.push(a),
    });
    const returned: number[] = [];
    for (let i = 0; i < 15; i++) returned.push(login(store).seq);
    // append returns the caller's event, never the checkpoint it made due.
    expect(returned).toEqual([1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17]);
    const events = store.eventsAfter(0);
    expect(events.filter((e) => e.kind === 'checkpoint').map((e) => [e.seq, e.details.reason])).toEqual([
      [6, 'interval'],
      [12, 'interval'],
      [18, 'interval'],
    ]);
    expect(anchors.map((a) => [a.seq, a.reason])).toEqual([
      [6, 'interval'],
      [12, 'interval'],
      [18, 'interval'],
    ]);
    for (const checkpoint of events.filter((e) => e.kind === 'checkpoint'))
      expectSignedHead(store, signer, checkpoint);
    store.close();
  });

  it('default to every 100 events', () => {
    const store = openStore(tempDbFile(), { signer: newSigner() });
    for (let i = 0; i < 99; i++) login(store);
    expect(kinds(store)).not.toContain('checkpoint');
    login(store);
    expect(store.lastEvent()).toMatchObject({
      seq: 101,
      kind: 'checkpoint',
      details: { reason: 'interval' },
    });
    store.close();
  });

  it('a checkpointEvery below 1 is taken as 1: every event is signed straight away', () => {
    const store = openStore(tempDbFile(), { signer: newSigner(), checkpointEvery: 0 });
    login(store);
    login(store);
    expect(kinds(store)).toEqual(['operator.login', 'checkpoint', 'operator.login', 'checkpoint']);
    store.close();
  });

  it('count from the latest checkpoint of any reason', () => {
    const store = openStore(tempDbFile(), { signer: newSigner(), checkpointEvery: 5 });
    for (let i = 0; i < 3; i++) login(store);
    expect(store.checkpoint('batch-closed')?.seq).toBe(4);
    for (let i = 0; i < 4; i++) login(store);
    expect(store.lastEvent()?.seq).toBe(8);
    login(store);
    expect(store.lastEvent()).toMatchObject({ seq: 10, kind: 'checkpoint', details: { reason: 'interval' } });
    store.close();
  });

  it('carry on from the last checkpoint in the file after a reopen, not from zero', () => {
    const file = tempDbFile();
    const signer = newSigner();
    let store = openStore(file, { signer, checkpointEvery: 5 });
    for (let i = 0; i < 3; i++) login(store);
    store.checkpoint('shutdown');
    login(store);
    login(store);
    store.close();
    store = openStore(file, { signer, checkpointEvery: 5 });
    login(store);
    login(store);
    expect(store.lastEvent()?.seq).toBe(8);
    login(store);
    expect(store.lastEvent()).toMatchObject({ seq: 10, kind: 'checkpoint', details: { reason: 'interval' } });
    store.close();
  });

  it('sign an adopted unsigned trail with the first event written once a signer is given', () => {
    const file = tempDbFile();
    let store = openStore(file, { checkpointEvery: 5 });
    recordBatch(store, 2);
    store.close();
    store = openStore(file, { signer: newSigner(), checkpointEvery: 5 });
    store.recordIdentity();
    expect(kinds(store).slice(14)).toEqual(['station.identity', 'checkpoint']);
    expect(store.lastEvent()?.details.reason).toBe('interval');
    store.close();
  });

  it('follow a side-table transaction once, after all its events, even when it crosses N by more', () => {
    const store = openStore(tempDbFile(), { signer: newSigner(), checkpointEvery: 2 });
    store.changeSideTable((tx) => {
      for (const operator of ['ann', 'bob', 'cat'])
        tx.append({ kind: 'operator.login', operator, details: {} });
    });
    expect(kinds(store)).toEqual(['operator.login', 'operator.login', 'operator.login', 'checkpoint']);
    store.close();
  });

  it('are in the same transaction as the event that made them due: a signer that fails takes the event back', () => {
    const signer = new SwitchableSigner();
    const anchors: CheckpointAnchor[] = [];
    const store = openStore(tempDbFile(), {
      signer,
      checkpointEvery: 3,
      onCheckpoint: (a) => anchors.push(a),
    });
    login(store);
    login(store);
    signer.failing = true;
    expect(() => login(store, 'bob')).toThrow(new Error('the signing key is unavailable'));
    expect(store.lastEvent()?.seq).toBe(2);
    expect(anchors).toEqual([]);
    // Not a write failure: the file is fine, and the same append succeeds once the key is back.
    expect(store.failed).toBe(false);
    signer.failing = false;
    expect(login(store, 'bob').seq).toBe(3);
    expect(kinds(store)).toEqual(['operator.login', 'operator.login', 'operator.login', 'checkpoint']);
    expect(anchors.map((a) => a.seq)).toEqual([4]);
    store.close();
  });
});

describe('onCheckpoint', () => {
  it('is told once the checkpoint is committed: another connection already reads it', () => {
    const file = tempDbFile();
    const seen: Array<{ anchor: CheckpointAnchor; onDisk: string | undefined }> = [];
    const store = openStore(file, {
      signer: newSigner(),
      checkpointEvery: 2,
      onCheckpoint: (anchor) => {
        const reader = new Database(file, { readonly: true });
        try {
          const onDisk = reader
            .prepare<[number], { hash: string }>('SELECT hash FROM events WHERE seq = ?')
            .get(anchor.seq)?.hash;
          seen.push({ anchor, onDisk });
        } finally {
          reader.close();
        }
      },
    });
    login(store);
    login(store);
    store.checkpoint('shutdown');
    expect(seen.map(({ anchor, onDisk }) => [anchor.seq, anchor.reason, onDisk === anchor.hash])).toEqual([
      [3, 'interval', true],
      [4, 'shutdown', true],
    ]);
    store.close();
  });

  it('throwing does not undo the checkpoint or stop the store', () => {
    const file = tempDbFile();
    const store = openStore(file, {
      signer: newSigner(),
      onCheckpoint: () => {
        throw new Error('the log is full');
      },
    });
    login(store);
    const anchor = store.checkpoint('opened');
    expect(anchor?.seq).toBe(2);
    expect(store.lastEvent()?.hash).toBe(anchor?.hash);
    expect(store.failed).toBe(false);
    expect(login(store).seq).toBe(3);
    store.close();
  });
});
