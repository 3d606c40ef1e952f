/**
 * Proof the trail was not altered: re-walks the chain, recomputing every hash, checks every checkpoint's signature
 * against the key it is told to expect (not only the key written in the file, which a rewrite can replace), checks
 * the anchors kept outside the file, the append-only triggers, and rebuilds the unit and batch views from the
 * events to compare them with the stored ones. Opens the file read-only and trusts nothing in it, so it works on
 * a copy an auditor was handed. What it cannot see: electron/audit/README.md "Threat model".
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AuditOpenError } from './errors';
import { AUDIT_TIMESTAMP } from './events';
import { canonicalJson, eventHash, GENESIS_HASH, type EventRowFields } from './hash-chain';
import { verifyAllSignatures } from './record-hash';
import { replayViews } from './replay-views';
import { MIGRATIONS } from './schema';
import { checkpointMessage, keyFingerprint, verifyCheckpoint } from './signing';
import { EVENT_COLUMNS } from './store';

export type TamperReason =
  | 'changed'
  | 'deleted'
  | 'inserted'
  | 'malformed'
  /** A checkpoint whose signature does not verify, or events that follow a shutdown unsigned. */
  | 'forged'
  /** Signed, but not with the key the trail should be signed with. */
  | 'wrong-key'
  /** A key was expected, and the trail holds no signature by it at all (wiped, or rebuilt without the key). */
  | 'unsigned'
  | 'anchor'
  | 'views'
  /** An electronic signature whose record no longer hashes to what was signed. */
  | 'signature'
  | 'schema';

export interface VerifyOptions {
  /**
   * The key the checkpoints must be signed with: the raw public key (the station checking its own trail), or a
   * fingerprint (an auditor with the station's registered key), which must match an identity in the trail.
   * Without it the trail is checked against the key written inside it, which a rewrite can replace.
   */
  expectKey?: { publicKey: Buffer } | { fingerprint: string };
  /** Chain heads recorded outside the file (logs, reports, the last verified checkpoint): each must still be in it. */
  anchors?: ReadonlyArray<{ seq: number; hash: string }>;
  /**
   * Walk only the events after this verified checkpoint (the station's check when it opens the file): the row at
   * its seq must still have its hash. Views are not replayed then.
   */
  from?: { seq: number; hash: string };
  /** Rebuild the views and compare them (default: yes, unless `from`). */
  replayViews?: boolean;
}

export type VerifyResult =
  | {
      ok: true;
      events: number;
      lastHash: string;
      firstAt: string | null;
      lastAt: string | null;
      checkpoints: number;
      /** The key the checkpoints verified with, and where it came from. */
      signedBy: string | null;
      keySource: 'expected' | 'file' | 'none';
      lastCheckpoint: { seq: number; hash: string } | null;
      /** Events after the last checkpoint: written since (or by a run that stopped before signing them). */
      unsignedTail: number;
      anchorsChecked: number;
    }
  | { ok: false; firstBadSeq: number; reason: TamperReason; message: string };

const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Checks a station's chain held somewhere else (the central database), from its first event: rows as the
 * station's `events` table has them (seq a number, details the canonical JSON text), pushed in seq order, and every
 * checkpoint signed by `publicKey` (the key the station registered). The same walk as `verifyAuditChain`.
 */
export function eventChainVerifier(
  publicKey: Buffer,
  /** Start after this event (already checked) instead of at the first: what it was, so the rules carry on. */
  after?: { seq: number; hash: string; at: string; kind: string; reason?: string },
): {
  push(row: unknown): Extract<VerifyResult, { ok: false }> | null;
  finish(): VerifyResult;
} {
  const key = { publicKey, fingerprint: keyFingerprint(publicKey) };
  const start: Start = after
    ? {
        seq: after.seq,
        hash: after.hash,
        before: {
          firstAt: null,
          lastAt: after.at,
          fileKey: key,
          shutDownAt: after.kind === 'checkpoint' && after.reason === 'shutdown' ? after.seq : null,
          checkpoint: after.kind === 'checkpoint',
        },
      }
    : GENESIS;
  return chainWalker(start, { expected: key, inFile: new Map() });
}

export function verifyAuditChain(dbFile: string, options: VerifyOptions = {}): VerifyResult {
  if (!existsSync(dbFile)) throw new AuditOpenError('AUDIT_NOT_FOUND', `${dbFile}: no such file`);
  let db: Database.Database;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new AuditOpenError('AUDIT_NOT_FOUND', `${dbFile}: cannot open (${messageOf(error)})`, {
      cause: error,
    });
  }
  try {
    db.pragma('query_only = ON');
    try {
      db.prepare('SELECT seq FROM events LIMIT 1').get();
    } catch (error) {
      throw new AuditOpenError(
        'AUDIT_NOT_AN_AUDIT_DB',
        `${dbFile} is not an audit trail (${messageOf(error)})`,
        {
          cause: error,
        },
      );
    }
    const schema = checkSchema(db);
    if (schema) return schema;
    const start = startOf(db, options.from);
    if ('ok' in start) return start;
    const keys = keysOf(db, options.expectKey);
    if ('ok' in keys) return keys;
    // From the start, every row, so one spliced in before seq 1 is seen too.
    const rows = options.from
      ? db.prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE seq > ? ORDER BY seq`).iterate(options.from.seq)
      : db.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq`).iterate();
    // Iterated to the end, or returned early: either way the statement must finish before the connection closes.
    let walked: ReturnType<typeof walk>;
    try {
      walked = walk(rows, start, keys);
    } finally {
      rows.return?.();
    }
    if (!walked.ok) return walked;
    const tail = checkTail(db, walked);
    if (!tail.ok) return tail;
    const anchored = checkAnchors(db, walked, options.anchors ?? []);
    if (!anchored.ok) return anchored;
    if (options.replayViews ?? options.from === undefined) {
      const views = replayViews(db);
      if (views) return bad(views.seq, 'views', views.message);
    }
    const signatures = verifyAllSignatures(db, options.from?.seq ?? 0);
    const broken = signatures.invalid[0];
    if (broken) {
      return bad(
        broken.seq,
        'signature',
        `the ${broken.meaning} signature by ${broken.signerName} at seq ${broken.seq} on ${broken.subject.type} ${broken.subject.id} does not hold: ${broken.problem ?? 'invalid'}`,
      );
    }
    return anchored;
  } catch (error) {
    if (error instanceof AuditOpenError) throw error;
    if (error instanceof Error && 'code' in error && error.code === 'SQLITE_NOTADB') {
      throw new AuditOpenError(
        'AUDIT_NOT_AN_AUDIT_DB',
        `${dbFile} is not an audit trail (not an SQLite file)`,
      );
    }
    throw error;
  } finally {
    db.close();
  }
}

/** The append-only triggers, exactly as the schema made them: dropped or changed, the trail can be edited in place. */
function checkSchema(db: Database.Database): VerifyResult | null {
  const expected = new Map(
    [...MIGRATIONS[0]!.matchAll(/CREATE TRIGGER (\w+)[\s\S]*?END;/g)].map((m) => [m[1]!, normalise(m[0])]),
  );
  const actual = new Map(
    db
      .prepare<[], { name: string; sql: string }>(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'",
      )
      .all()
      .map((row) => [row.name, normalise(`${row.sql};`)]),
  );
  for (const [name, sql] of expected) {
    const found = actual.get(name);
    if (found === undefined)
      return bad(
        0,
        'schema',
        `the append-only trigger ${name} was dropped: the events could be edited in place`,
      );
    if (found !== sql)
      return bad(
        0,
        'schema',
        `the append-only trigger ${name} was changed: the events could be edited in place`,
      );
  }
  return null;
}

const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim();

interface Start {
  seq: number;
  hash: string;
  /** What the walk knows of the events before `seq` when it starts after a verified checkpoint. */
  before: {
    firstAt: string | null;
    lastAt: string | null;
    /** The latest identity at or before the start: the key later checkpoints are checked with. */
    fileKey: { publicKey: Buffer; fingerprint: string } | null;
    /** The start is a shutdown checkpoint: only the next opening (signed) may follow it. */
    shutDownAt: number | null;
    /** The start is a checkpoint: the key it was verified with signed the trail up to it. */
    checkpoint: boolean;
  };
}

const GENESIS: Start = {
  seq: 0,
  hash: GENESIS_HASH,
  before: { firstAt: null, lastAt: null, fileKey: null, shutDownAt: null, checkpoint: false },
};

function startOf(
  db: Database.Database,
  from: VerifyOptions['from'],
): Start | Extract<VerifyResult, { ok: false }> {
  if (!from) return GENESIS;
  const row = db
    .prepare<[number], { hash: string; kind: string; details: string; at: string }>(
      'SELECT hash, kind, details, at FROM events WHERE seq = ?',
    )
    .get(from.seq);
  if (!row) {
    return bad(
      from.seq,
      'anchor',
      `the last verified checkpoint (seq ${from.seq}) is no longer in the trail: it was cut off or wiped`,
    );
  }
  if (row.hash !== from.hash) {
    return bad(
      from.seq,
      'anchor',
      `event seq ${from.seq} is not the checkpoint verified before: the trail was rewritten`,
    );
  }
  const identity = db
    .prepare<[number], { details: string }>(
      "SELECT details FROM events WHERE kind = 'station.identity' AND seq <= ? ORDER BY seq DESC LIMIT 1",
    )
    .get(from.seq);
  const first = db.prepare<[], { at: string }>('SELECT at FROM events ORDER BY seq LIMIT 1').get();
  return {
    seq: from.seq,
    hash: from.hash,
    before: {
      firstAt: first?.at ?? null,
      lastAt: row.at,
      fileKey: identity ? identityKey(parseDetails(identity.details)) : null,
      shutDownAt:
        row.kind === 'checkpoint' && parseDetails(row.details).reason === 'shutdown' ? from.seq : null,
      checkpoint: row.kind === 'checkpoint',
    },
  };
}

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function identityKey(details: Record<string, unknown>): { publicKey: Buffer; fingerprint: string } {
  const key = Buffer.from(String(details.stationPublicKey ?? ''), 'base64');
  return { publicKey: key, fingerprint: keyFingerprint(key) };
}

interface Keys {
  /** The key every checkpoint must verify with, or null to take each from the identity before it in the file. */
  expected: { publicKey: Buffer; fingerprint: string } | null;
  /** Identity keys written in the trail, by fingerprint. */
  inFile: Map<string, Buffer>;
}

function keysOf(
  db: Database.Database,
  expectKey: VerifyOptions['expectKey'],
): Keys | Extract<VerifyResult, { ok: false }> {
  const inFile = new Map<string, Buffer>();
  for (const row of db
    .prepare<[], { details: string }>(
      "SELECT details FROM events WHERE kind = 'station.identity' ORDER BY seq",
    )
    .all()) {
    try {
      const details = JSON.parse(row.details) as { stationPublicKey?: unknown };
      if (typeof details.stationPublicKey !== 'string') continue;
      const key = Buffer.from(details.stationPublicKey, 'base64');
      inFile.set(keyFingerprint(key), key);
    } catch {
      // A malformed identity is caught by the walk as a changed or malformed event.
    }
  }
  if (!expectKey) return { expected: null, inFile };
  if ('publicKey' in expectKey) {
    return {
      expected: { publicKey: expectKey.publicKey, fingerprint: keyFingerprint(expectKey.publicKey) },
      inFile,
    };
  }
  const key = inFile.get(expectKey.fingerprint);
  if (!key) {
    const named = [...inFile.keys()];
    return bad(
      0,
      'wrong-key',
      named.length === 0
        ? `the trail names no station key, so nothing in it is signed by ${expectKey.fingerprint}`
        : `the trail names ${named.join(', ')}, not the expected key ${expectKey.fingerprint}`,
    );
  }
  return { expected: { publicKey: key, fingerprint: expectKey.fingerprint }, inFile };
}

function walk(
  rows: Iterable<unknown>,
  start: Start,
  keys: Keys,
): Extract<VerifyResult, { ok: true }> | Extract<VerifyResult, { ok: false }> {
  const walker = chainWalker(start, keys);
  for (const row of rows) {
    const problem = walker.push(row);
    if (problem) return problem;
  }
  return walker.finish();
}

/**
 * The walk one row at a time, so a chain too long to hold (a central copy of a station's trail, read in pages)
 * is checked as it streams: `push` answers the first problem, `finish` the result.
 */
function chainWalker(start: Start, keys: Keys) {
  let expectedSeq = start.seq + 1;
  let prevHash = start.hash;
  // Every hash seen so far, to tell a row spliced onto an earlier event from one whose predecessor vanished.
  const seen = new Map<string, number>();
  let firstAt = start.before.firstAt;
  let lastAt = start.before.lastAt;
  let count = start.seq;
  let checkpoints = 0;
  let lastCheckpoint: { seq: number; hash: string } | null =
    start.seq > 0 ? { seq: start.seq, hash: start.hash } : null;
  // The key of the latest identity walked over (for checking against the file's own key).
  let fileKey = start.before.fileKey;
  let signedBy: string | null = start.before.checkpoint
    ? ((keys.expected ?? fileKey)?.fingerprint ?? null)
    : null;
  // After a clean shutdown only the station's next opening (signed) may follow.
  let shutDownAt = start.before.shutDownAt;

  const push = (raw: unknown): Extract<VerifyResult, { ok: false }> | null => {
    const row = raw as Record<string, unknown>;
    const seq = row.seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) {
      return bad(
        expectedSeq,
        'malformed',
        `event after seq ${expectedSeq - 1} is malformed (seq is not an integer)`,
      );
    }
    if (seq < expectedSeq) return bad(seq, 'inserted', `event seq ${seq} was inserted (seq out of order)`);
    if (seq > expectedSeq) {
      return bad(
        expectedSeq,
        'deleted',
        `event seq ${expectedSeq} was deleted (gap in seq: ${expectedSeq - 1 < 1 ? 'start' : expectedSeq - 1} is followed by ${seq})`,
      );
    }
    const parsed = parseRow(row);
    if (typeof parsed === 'string') return bad(seq, 'malformed', `event seq ${seq} is malformed (${parsed})`);
    const { fields, hash } = parsed;
    if (fields.prev_hash !== prevHash) {
      const linkedTo = seen.get(fields.prev_hash);
      if (linkedTo !== undefined) {
        return bad(
          seq,
          'inserted',
          `event seq ${seq} was inserted (it links to event seq ${linkedTo}, which already has a successor)`,
        );
      }
      return bad(
        seq,
        'deleted',
        `event seq ${seq} does not link to event seq ${seq - 1} (prev_hash mismatch: an event before it was deleted or rewritten)`,
      );
    }
    if (eventHash(fields) !== hash)
      return bad(seq, 'changed', `event seq ${seq} was changed (hash mismatch)`);
    if (seen.has(hash)) return bad(seq, 'inserted', `event seq ${seq} was inserted (duplicate hash)`);
    if (fields.kind === 'station.identity') {
      fileKey = identityKey(fields.details);
    } else if (fields.kind === 'checkpoint') {
      const problem = checkSignature(fields, keys.expected ?? fileKey);
      if (problem) return bad(seq, problem.reason, problem.message);
      signedBy = (keys.expected ?? fileKey)!.fingerprint;
      checkpoints++;
      lastCheckpoint = { seq, hash };
      shutDownAt = fields.details.reason === 'shutdown' ? seq : null;
    } else if (shutDownAt !== null) {
      return bad(
        seq,
        'forged',
        `event seq ${seq} was appended after the station shut down at seq ${shutDownAt}, without the station's signature`,
      );
    }
    seen.set(hash, seq);
    prevHash = hash;
    firstAt ??= fields.at;
    lastAt = fields.at;
    count++;
    expectedSeq++;
    return null;
  };
  const finish = (): Extract<VerifyResult, { ok: true }> | Extract<VerifyResult, { ok: false }> => {
    if (keys.expected && checkpoints === 0 && start.seq === 0) {
      return bad(
        count + 1,
        'unsigned',
        count === 0
          ? `the trail is empty: it holds no signature by ${keys.expected.fingerprint} (wiped?)`
          : `no event of the trail is signed by ${keys.expected.fingerprint}: it was written, or rewritten, without the station's key`,
      );
    }
    return {
      ok: true,
      events: count,
      lastHash: prevHash,
      firstAt,
      lastAt,
      checkpoints,
      signedBy,
      keySource: keys.expected ? 'expected' : signedBy ? 'file' : 'none',
      lastCheckpoint,
      unsignedTail: count - (lastCheckpoint?.seq ?? 0),
      anchorsChecked: 0,
    };
  };
  return { push, finish };
}

/** Why a checkpoint does not verify with `key`, or null when it does. */
function checkSignature(
  fields: EventRowFields,
  key: { publicKey: Buffer; fingerprint: string } | null,
): { reason: TamperReason; message: string } | null {
  const seq = fields.seq;
  const claimed = String(fields.details.publicKeyFp ?? '');
  if (!key) {
    return {
      reason: 'forged',
      message: `checkpoint at seq ${seq} comes before any station identity: it cannot be checked`,
    };
  }
  const signature = Buffer.from(String(fields.details.signature ?? ''), 'base64');
  const message = checkpointMessage(fields.station_id, seq - 1, fields.prev_hash);
  if (verifyCheckpoint(key.publicKey, message, signature)) return null;
  if (claimed !== key.fingerprint) {
    return {
      reason: 'wrong-key',
      message: `checkpoint at seq ${seq} is signed by another key (${claimed || 'unnamed'}), not ${key.fingerprint}`,
    };
  }
  return {
    reason: 'forged',
    message: `checkpoint at seq ${seq} does not verify with ${key.fingerprint}: the events before it were changed after it was signed, or it was forged`,
  };
}

/** Each anchor kept outside the file must still be in it, with the same hash. */
function checkAnchors(
  db: Database.Database,
  walked: Extract<VerifyResult, { ok: true }>,
  anchors: ReadonlyArray<{ seq: number; hash: string }>,
): VerifyResult {
  const hashAt = db.prepare<[number], { hash: string }>('SELECT hash FROM events WHERE seq = ?');
  for (const anchor of anchors) {
    const row = hashAt.get(anchor.seq);
    if (!row) {
      return bad(
        anchor.seq,
        'anchor',
        `anchor seq ${anchor.seq} (${anchor.hash.slice(0, 16)}…) is not in the trail, which ends at seq ${walked.events}: events were cut off or the trail was wiped`,
      );
    }
    if (row.hash !== anchor.hash) {
      return bad(
        anchor.seq,
        'anchor',
        `event seq ${anchor.seq} has hash ${row.hash.slice(0, 16)}…, not the anchor's ${anchor.hash.slice(0, 16)}…: the trail was rewritten`,
      );
    }
  }
  return { ...walked, anchorsChecked: anchors.length };
}

/**
 * The chain alone cannot see its newest events cut off. The unit and batch views are written in the same
 * transaction as each event and remember the last seq that changed them, so a view pointing past the end of the
 * chain means events were removed from the tail.
 */
function checkTail(db: Database.Database, walked: Extract<VerifyResult, { ok: true }>): VerifyResult {
  const newest = (table: string): number => {
    try {
      const row = db.prepare(`SELECT MAX(last_seq) AS seq FROM ${table}`).get() as
        { seq: number | null } | undefined;
      return row?.seq ?? 0;
    } catch {
      return 0;
    }
  };
  const referenced = Math.max(newest('units'), newest('batches'));
  if (referenced > walked.events) {
    return bad(
      walked.events + 1,
      'deleted',
      `events after seq ${walked.events} were deleted (the unit and batch views refer to seq ${referenced})`,
    );
  }
  return walked;
}

function bad(
  firstBadSeq: number,
  reason: TamperReason,
  message: string,
): Extract<VerifyResult, { ok: false }> {
  return { ok: false, firstBadSeq, reason, message };
}

/** The row as hash input, or a description of what is wrong with it. */
function parseRow(row: Record<string, unknown>): { fields: EventRowFields; hash: string } | string {
  const text = (name: string, nullable: boolean): string | null | undefined => {
    const value = row[name];
    if (value === null && nullable) return null;
    return typeof value === 'string' ? value : undefined;
  };
  const int = (name: string): number | null | undefined => {
    const value = row[name];
    if (value === null) return null;
    return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
  };
  const hash = text('hash', false);
  const prevHash = text('prev_hash', false);
  const eventId = text('event_id', false);
  const at = text('at', false);
  const stationId = text('station_id', false);
  const kind = text('kind', false);
  const detailsText = text('details', false);
  if (typeof hash !== 'string' || !HEX64.test(hash)) return 'hash is not 64 lowercase hex characters';
  if (typeof prevHash !== 'string' || !HEX64.test(prevHash))
    return 'prev_hash is not 64 lowercase hex characters';
  if (typeof eventId !== 'string' || !UUID.test(eventId)) return 'event_id is not a UUID';
  if (typeof at !== 'string' || !AUDIT_TIMESTAMP.test(at)) return 'at is not a UTC timestamp';
  if (typeof stationId !== 'string' || stationId === '') return 'station_id is missing';
  if (typeof kind !== 'string' || kind === '') return 'kind is missing';
  if (typeof detailsText !== 'string') return 'details is not text';
  let details: unknown;
  try {
    details = JSON.parse(detailsText);
  } catch {
    return 'details is not JSON';
  }
  if (typeof details !== 'object' || details === null || Array.isArray(details))
    return 'details is not an object';
  // The store writes canonical JSON; other text for the same value would slip past the hash, so it counts as bad.
  if (canonicalJson(details) !== detailsText) return 'details is not in canonical form';
  const operator = text('operator', true);
  const batchId = text('batch_id', true);
  const unitId = text('unit_id', true);
  const step = text('step', true);
  const outcome = text('outcome', true);
  const slot = int('slot');
  const supersedes = int('supersedes');
  for (const [name, value] of Object.entries({
    operator,
    batchId,
    unitId,
    step,
    outcome,
    slot,
    supersedes,
  })) {
    if (value === undefined) return `${name} has the wrong type`;
  }
  return {
    hash,
    fields: {
      seq: row.seq as number,
      event_id: eventId,
      at,
      station_id: stationId,
      operator: operator ?? null,
      batch_id: batchId ?? null,
      unit_id: unitId ?? null,
      slot: slot ?? null,
      step: step ?? null,
      kind,
      outcome: outcome ?? null,
      details: details as Record<string, unknown>,
      supersedes: supersedes ?? null,
      prev_hash: prevHash,
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
