/**
 * Proof the trail was not altered: re-walks the chain from seq 1, recomputing every hash. Opens the file read-only
 * and trusts nothing in it (not the triggers, not the column types), so it works on a copy an auditor was handed.
 *
 * What it cannot see on its own: the newest events cut off the end (the remaining chain is still whole). Comparing
 * `lastHash` with one recorded elsewhere (the central copy, a batch report) closes that gap.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AuditOpenError } from './errors';
import { AUDIT_TIMESTAMP } from './events';
import { canonicalJson, eventHash, GENESIS_HASH, type EventRowFields } from './hash-chain';
import { EVENT_COLUMNS } from './store';

export type TamperReason = 'changed' | 'deleted' | 'inserted' | 'malformed';

export type VerifyResult =
  | { ok: true; events: number; lastHash: string; firstAt: string | null; lastAt: string | null }
  | { ok: false; firstBadSeq: number; reason: TamperReason; message: string };

const HEX64 = /^[0-9a-f]{64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function verifyAuditChain(dbFile: string): VerifyResult {
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
    let rows: IterableIterator<unknown>;
    try {
      rows = db.prepare(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY seq`).raw(false).iterate();
    } catch (error) {
      throw new AuditOpenError(
        'AUDIT_NOT_AN_AUDIT_DB',
        `${dbFile} is not an audit trail (${messageOf(error)})`,
        {
          cause: error,
        },
      );
    }
    const walked = walk(rows);
    return walked.ok ? checkTail(db, walked) : walked;
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

function walk(rows: IterableIterator<unknown>): VerifyResult {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  // Every hash seen so far, to tell a row spliced onto an earlier event from one whose predecessor vanished.
  const seen = new Map<string, number>();
  let firstAt: string | null = null;
  let lastAt: string | null = null;
  let count = 0;

  for (const raw of rows) {
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
    seen.set(hash, seq);
    prevHash = hash;
    firstAt ??= fields.at;
    lastAt = fields.at;
    count++;
    expectedSeq++;
  }
  return { ok: true, events: count, lastHash: prevHash, firstAt, lastAt };
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

function bad(firstBadSeq: number, reason: TamperReason, message: string): VerifyResult {
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
