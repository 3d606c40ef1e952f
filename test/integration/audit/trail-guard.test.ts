/**
 * The station's guard over its own trail, before it appends anything: the anchor file beside the database (where
 * it is, what it holds, replaced whole), a missing trail the station had verified, a trail signed by another key,
 * an unsigned trail adopted only by a key made on this start, a remembered anchor that no longer matches, and a
 * clean trail passing, with the file left untouched whether it passes or is refused.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  generateStationKey,
  signerFromSeed,
  type CheckpointAnchor,
  type TrailSigner,
} from '../../../electron/audit/index';
import {
  anchorFileOf,
  guardTrail,
  TrailRefusedError,
  writeAnchor,
} from '../../../electron/station/trail-guard';
import { DROP_TRIGGERS, RESTORE_TRIGGERS, openStore, recordBatch, tempDbFile } from '../../support/audit';

const posix = process.platform !== 'win32';
const station = signerFromSeed(generateStationKey().seed);
const stranger = signerFromSeed(generateStationKey().seed);

/**
 * A run as the station does it: identity, `opened`, a batch of two units, `shutdown`, each checkpoint remembered
 * beside the database. 17 events; the remembered anchor is the shutdown checkpoint (seq 17).
 */
function stationRun(
  key: TrailSigner = station,
  file = tempDbFile(),
  batchId = 'batch-1',
): { file: string; anchors: CheckpointAnchor[] } {
  const anchors: CheckpointAnchor[] = [];
  const store = openStore(file, {
    signer: key,
    onCheckpoint: (anchor) => {
      anchors.push(anchor);
      writeAnchor(file, anchor);
    },
  });
  store.recordIdentity();
  store.checkpoint('opened');
  recordBatch(store, 2, batchId);
  store.checkpoint('shutdown');
  store.close();
  return { file, anchors };
}

function unsignedTrail(): string {
  const file = tempDbFile();
  const store = openStore(file);
  recordBatch(store, 2);
  store.close();
  return file;
}

function digest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function refusal(run: () => unknown): TrailRefusedError {
  try {
    run();
  } catch (error) {
    if (error instanceof TrailRefusedError) return error;
    throw error;
  }
  throw new Error('expected a TrailRefusedError');
}

/** The whole message a supervisor sees, around the reason. */
function refusedBecause(file: string, why: string): string {
  return `The audit trail ${file} failed verification: ${why}. The station will not provision and has written nothing to it: a supervisor must investigate (\`station audit verify\` shows the details) before this station is used again.`;
}

describe('the anchor file', () => {
  it('sits beside the database as <db>.verified', () => {
    expect(anchorFileOf('/data/station.sqlite')).toBe('/data/station.sqlite.verified');
  });

  it('holds the seq and hash of the checkpoint and when it was written, replaced whole each time', () => {
    const { file, anchors } = stationRun();
    const anchorFile = anchorFileOf(file);
    const written = JSON.parse(readFileSync(anchorFile, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(written)).toEqual(['seq', 'hash', 'at']);
    expect(written).toMatchObject({ seq: 17, hash: anchors.at(-1)!.hash });
    expect(Date.parse(String(written.at))).not.toBeNaN();
    expect(readFileSync(anchorFile, 'utf8').endsWith('}\n')).toBe(true);
    // Written to a temp name and renamed: nothing else is left beside the database.
    expect(readdirSync(dirname(file)).sort()).toEqual([basename(file), basename(anchorFile)]);

    writeAnchor(file, anchors[0]!);
    expect(JSON.parse(readFileSync(anchorFile, 'utf8'))).toMatchObject({ seq: 2, hash: anchors[0]!.hash });
  });

  it.runIf(posix)('is not readable by others', () => {
    const { file } = stationRun();
    const mode = statSync(anchorFileOf(file)).mode & 0o777;
    expect(mode & 0o600).toBe(0o600);
    expect(mode & 0o037).toBe(0);
  });
});

describe('guardTrail', () => {
  it('passes a clean trail, from its remembered anchor and (the anchor gone) from the start', () => {
    const { file } = stationRun();
    const before = digest(file);
    expect(guardTrail(file, station, { mayAdopt: false })).toEqual({ verifiedEvents: 17 });
    writeFileSync(anchorFileOf(file), 'not json');
    expect(guardTrail(file, station, { mayAdopt: false })).toEqual({ verifiedEvents: 17 });
    expect(digest(file)).toBe(before);
  });

  it('passes a missing trail the station never verified (a first start)', () => {
    const file = tempDbFile();
    expect(guardTrail(file, station, { mayAdopt: false })).toEqual({ verifiedEvents: 0 });
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a missing trail when it remembers an anchor: the file was deleted', () => {
    const file = tempDbFile();
    writeAnchor(file, { seq: 42, hash: 'a'.repeat(64), signature: '', reason: 'shutdown', publicKeyFp: '' });
    const error = refusal(() => guardTrail(file, station, { mayAdopt: true }));
    expect(error.name).toBe('TrailRefusedError');
    expect(error.message).toBe(
      refusedBecause(file, 'the file is missing, but this station had verified it up to seq 42'),
    );
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a trail signed by another key, naming both fingerprints, whatever mayAdopt says', () => {
    const { file } = stationRun(stranger);
    const before = digest(file);
    for (const mayAdopt of [false, true]) {
      expect(refusal(() => guardTrail(file, station, { mayAdopt })).message).toBe(
        refusedBecause(
          file,
          `it is signed by ${stranger.fingerprint}, not by this station's key ${station.fingerprint}`,
        ),
      );
    }
    expect(digest(file)).toBe(before);
  });

  it('adopts an unsigned trail with a key made on this start, and refuses it with a key that existed before', () => {
    const file = unsignedTrail();
    const before = digest(file);
    expect(guardTrail(file, station, { mayAdopt: true })).toEqual({ verifiedEvents: 14 });
    expect(refusal(() => guardTrail(file, station, { mayAdopt: false })).message).toBe(
      refusedBecause(
        file,
        `it holds 14 events but no station identity, though this station has had its key ${station.fingerprint} since before this start: the trail was replaced or rewritten without its signatures`,
      ),
    );
    expect(digest(file)).toBe(before);
  });

  it('passes an empty trail either way: there is nothing to adopt', () => {
    const file = tempDbFile();
    openStore(file).close();
    expect(guardTrail(file, station, { mayAdopt: false })).toEqual({ verifiedEvents: 0 });
    expect(guardTrail(file, station, { mayAdopt: true })).toEqual({ verifiedEvents: 0 });
  });

  it('an adopted trail, once the station has signed it, passes on the next start with mayAdopt off', () => {
    const file = unsignedTrail();
    expect(guardTrail(file, station, { mayAdopt: true })).toEqual({ verifiedEvents: 14 });
    stationRun(station, file, 'batch-2');
    expect(guardTrail(file, station, { mayAdopt: false })).toEqual({ verifiedEvents: 31 });
  });

  it('refuses a trail whose remembered checkpoint was rewritten', () => {
    const { file } = stationRun();
    // The same run written again (other event ids, so other hashes), the anchor of the first kept.
    const remembered = readFileSync(anchorFileOf(file), 'utf8');
    const { file: replacement } = stationRun();
    writeFileSync(anchorFileOf(replacement), remembered);
    expect(refusal(() => guardTrail(replacement, station, { mayAdopt: false })).message).toBe(
      refusedBecause(
        replacement,
        'event seq 17 is not the checkpoint verified before: the trail was rewritten',
      ),
    );
  });

  it('refuses a trail cut back before its remembered checkpoint', () => {
    const { file, anchors } = stationRun();
    writeAnchor(file, { ...anchors.at(-1)!, seq: 30 });
    expect(refusal(() => guardTrail(file, station, { mayAdopt: false })).message).toBe(
      refusedBecause(
        file,
        'the last verified checkpoint (seq 30) is no longer in the trail: it was cut off or wiped',
      ),
    );
  });

  it('refuses a trail edited after its remembered checkpoint', () => {
    const file = tempDbFile();
    const store = openStore(file, {
      signer: station,
      onCheckpoint: (anchor) => writeAnchor(file, anchor),
    });
    store.recordIdentity();
    store.checkpoint('opened');
    recordBatch(store, 1);
    store.close();
    const db = new Database(file);
    db.exec(`${DROP_TRIGGERS} UPDATE events SET operator = 'mallory' WHERE seq = 4; ${RESTORE_TRIGGERS}`);
    db.close();
    expect(refusal(() => guardTrail(file, station, { mayAdopt: false })).message).toBe(
      refusedBecause(file, 'event seq 4 was changed (hash mismatch)'),
    );
  });

  it('checks only past its remembered anchor; an unreadable anchor file means the whole trail is checked', () => {
    const { file } = stationRun();
    const db = new Database(file);
    db.exec(`${DROP_TRIGGERS} UPDATE events SET operator = 'mallory' WHERE seq = 4; ${RESTORE_TRIGGERS}`);
    db.close();
    // Before the remembered checkpoint: for a full `station audit verify` (electron/audit/README.md).
    expect(guardTrail(file, station, { mayAdopt: false })).toEqual({ verifiedEvents: 17 });
    writeFileSync(anchorFileOf(file), '{"seq":"17"}\n');
    expect(refusal(() => guardTrail(file, station, { mayAdopt: false })).message).toBe(
      refusedBecause(file, 'event seq 4 was changed (hash mismatch)'),
    );
  });

  it('refuses the append-only triggers dropped', () => {
    const { file } = stationRun();
    const db = new Database(file);
    db.exec('DROP TRIGGER events_no_update');
    db.close();
    expect(refusal(() => guardTrail(file, station, { mayAdopt: false })).message).toBe(
      refusedBecause(
        file,
        'the append-only trigger events_no_update was dropped: the events could be edited in place',
      ),
    );
  });
});

describe('guardTrail after a clean shutdown', () => {
  it('refuses an event appended after the shutdown checkpoint it remembers, without the station key', () => {
    const { file } = stationRun();
    // Someone with the file and the store's code but not the key: a correctly chained event, unsigned.
    openStore(file).append({ kind: 'operator.login', operator: 'mallory', details: { role: 'operator' } });
    expect(refusal(() => guardTrail(file, station, { mayAdopt: false })).message).toBe(
      refusedBecause(
        file,
        "event seq 18 was appended after the station shut down at seq 17, without the station's signature",
      ),
    );
  });

  it('accepts the station reopening after its shutdown: identity known, then a signed opening', () => {
    const { file } = stationRun();
    const store = openStore(file, { signer: station, onCheckpoint: (anchor) => writeAnchor(file, anchor) });
    store.recordIdentity();
    store.checkpoint('opened');
    store.append({ kind: 'operator.login', operator: 'ann', details: { role: 'operator' } });
    store.close();
    expect(guardTrail(file, station, { mayAdopt: false })).toEqual({ verifiedEvents: 19 });
  });
});
