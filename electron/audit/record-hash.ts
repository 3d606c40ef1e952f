/**
 * What an electronic signature is bound to. A signature names its subject (a unit or a batch) and the trail seq it
 * covers; the record hash is
 *
 *   recordHash = lowercase hex SHA-256( RFC 8785 JSON of { subject: {type, id}, events: [h1, h2, ...] } )
 *
 * where h1.. are the hashes of the subject's events (a unit: events with that unit_id; a batch: events with that
 * batch_id, its units' included) with seq <= coversSeq, in seq order, each recomputed from the row's content
 * (hash-chain.ts) for a unit's record; a batch's record (hundreds of thousands of events) uses the stored hashes,
 * which the chain links and `audit verify` recomputes. `coversSeq` is not hashed: events elsewhere in the trail do not
 * change a record, so what a reviewer was shown still matches when they sign a moment later. So a signature cannot be moved to another record, and any change
 * to a signed event (its details, time, operator, even with the stored hash left alone) makes the signature fail.
 * Later events (a note, a correction after the signature) do not invalidate it: they are outside what was signed,
 * and the detail screen says the record has changed since.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { signatureDetails, type SignatureMeaning, type SignatureSubjectType } from './events';
import { canonicalJson, eventHash, type EventRowFields } from './hash-chain';

type ReviewDb = Database.Database;

export interface SignatureSubject {
  type: SignatureSubjectType;
  id: string;
}

interface RawEventRow extends Omit<EventRowFields, 'details'> {
  details: string;
  hash: string;
}

const COLUMNS =
  'seq, event_id, at, station_id, operator, batch_id, unit_id, slot, step, kind, outcome, details, supersedes, prev_hash, hash';

function subjectRows(db: ReviewDb, subject: SignatureSubject, coversSeq: number): Iterable<RawEventRow> {
  const column = subject.type === 'unit' ? 'unit_id' : 'batch_id';
  return db
    .prepare<[string, number], RawEventRow>(
      `SELECT ${COLUMNS} FROM events WHERE ${column} = ? AND seq <= ? ORDER BY seq`,
    )
    .iterate(subject.id, coversSeq);
}

function contentHash(row: RawEventRow): string {
  const { hash: _stored, details, ...rest } = row;
  return eventHash({ ...rest, details: JSON.parse(details) as Record<string, unknown> });
}

export interface RecordHash {
  recordHash: string;
  coversSeq: number;
  /** How many events the hash covers. */
  events: number;
  /** Events whose stored hash differs from their content (an edited row): the trail itself is broken there. */
  edited: number[];
}

export interface RecordHashOptions {
  /**
   * Recompute each event's hash from its content (default for a unit: a few dozen events) rather than trust the
   * stored one (default for a batch: a 10,000-unit batch has ~250,000 events, seconds of hashing). The stored hash
   * is what the chain links and `audit verify` recomputes, so only an edit that also breaks the chain is missed
   * without it, and verify reports that edit itself.
   */
  recompute?: boolean;
}

/** The hash of the subject's record as it stands at `coversSeq`. */
export function computeRecordHash(
  db: ReviewDb,
  subject: SignatureSubject,
  coversSeq: number,
  options: RecordHashOptions = {},
): RecordHash {
  const recompute = options.recompute ?? subject.type === 'unit';
  let hashes: string[] = [];
  const edited: number[] = [];
  if (recompute) {
    for (const row of subjectRows(db, subject, coversSeq)) {
      const recomputed = contentHash(row);
      if (recomputed !== row.hash) edited.push(row.seq);
      hashes.push(recomputed);
    }
  } else {
    // Only the hash column, read from the index's order: a 250,000-event batch in a fraction of a second.
    const column = subject.type === 'unit' ? 'unit_id' : 'batch_id';
    hashes = db
      .prepare<[string, number], string>(
        `SELECT hash FROM events WHERE ${column} = ? AND seq <= ? ORDER BY seq`,
      )
      .pluck()
      .all(subject.id, coversSeq);
  }
  const recordHash = createHash('sha256')
    .update(canonicalJson({ subject: { type: subject.type, id: subject.id }, events: hashes }), 'utf8')
    .digest('hex');
  return { recordHash, coversSeq, events: hashes.length, edited };
}

/** The record as it stands now: what a signature made at this moment would cover. */
export function currentRecordHash(
  db: ReviewDb,
  subject: SignatureSubject,
  options: RecordHashOptions = {},
): RecordHash {
  const head = db.prepare<[], { seq: number | null }>('SELECT max(seq) AS seq FROM events').get()?.seq ?? 0;
  return computeRecordHash(db, subject, head, options);
}

export interface SignatureView {
  seq: number;
  at: string;
  signerId: string | null;
  signerName: string;
  meaning: SignatureMeaning;
  subject: SignatureSubject;
  reason: string | null;
  recordHash: string;
  coversSeq: number;
  /** The record hash recomputed now matches the one signed. */
  valid: boolean;
  /** Why not, in words, when it is not valid. */
  problem: string | null;
  /** Events about the subject appended after the signature (notes, corrections, a new attempt). */
  laterEvents: number;
}

interface SignatureRow {
  seq: number;
  at: string;
  operator: string | null;
  details: string;
}

/** Checks one signature event (a row of kind `signature`) against the record it names. */
export function checkSignature(
  db: ReviewDb,
  row: SignatureRow,
  options: RecordHashOptions = {},
): SignatureView {
  const parsed = signatureDetails.safeParse(JSON.parse(row.details));
  if (!parsed.success) {
    return {
      seq: row.seq,
      at: row.at,
      signerId: row.operator,
      signerName: '?',
      meaning: 'reviewed',
      subject: { type: 'unit', id: '?' },
      reason: null,
      recordHash: '',
      coversSeq: 0,
      valid: false,
      problem: `signature event ${row.seq} does not have the shape of a signature: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      laterEvents: 0,
    };
  }
  const details = parsed.data;
  const subject = { type: details.subject.type, id: details.subject.id };
  const now = computeRecordHash(db, subject, details.coversSeq, options);
  let problem: string | null = null;
  if (details.coversSeq >= row.seq) {
    problem = `the signature at seq ${row.seq} claims to cover seq ${details.coversSeq}, which is not before it`;
  } else if (now.edited.length > 0) {
    problem = `signed events were changed after signing (seq ${now.edited.slice(0, 5).join(', ')}${now.edited.length > 5 ? ', ...' : ''})`;
  } else if (now.recordHash !== details.recordHash) {
    problem = `the ${subject.type} record up to seq ${details.coversSeq} no longer hashes to what was signed (events were removed, added or changed)`;
  }
  const column = subject.type === 'unit' ? 'unit_id' : 'batch_id';
  const later =
    db
      .prepare<[string, number], { n: number }>(
        `SELECT count(*) AS n FROM events WHERE ${column} = ? AND seq > ? AND kind <> 'signature'`,
      )
      .get(subject.id, row.seq)?.n ?? 0;
  return {
    seq: row.seq,
    at: row.at,
    signerId: row.operator,
    signerName: details.signerName,
    meaning: details.meaning,
    subject,
    reason: details.reason ?? null,
    recordHash: details.recordHash,
    coversSeq: details.coversSeq,
    valid: problem === null,
    problem,
    laterEvents: later,
  };
}

/** Every signature on a unit or a batch, oldest first, each checked. */
export function signaturesOf(db: ReviewDb, subject: SignatureSubject): SignatureView[] {
  const column = subject.type === 'unit' ? 'unit_id' : 'batch_id';
  const extra = subject.type === 'batch' ? ' AND unit_id IS NULL' : '';
  return db
    .prepare<[string], SignatureRow>(
      `SELECT seq, at, operator, details FROM events WHERE ${column} = ? AND kind = 'signature'${extra} ORDER BY seq`,
    )
    .all(subject.id)
    .map((row) => checkSignature(db, row));
}

/** Checks every signature in the trail: the part of `audit verify` that binds signatures to records. */
export function verifyAllSignatures(
  db: ReviewDb,
  afterSeq = 0,
): { checked: number; invalid: SignatureView[] } {
  const invalid: SignatureView[] = [];
  let checked = 0;
  for (const row of db
    .prepare<[number], SignatureRow>(
      "SELECT seq, at, operator, details FROM events WHERE kind = 'signature' AND seq > ? ORDER BY seq",
    )
    .all(afterSeq)) {
    checked += 1;
    // Called after the chain walk has recomputed every event's hash: the stored ones are the content's.
    const view = checkSignature(db, row, { recompute: false });
    if (!view.valid) invalid.push(view);
  }
  return { checked, invalid };
}
