/**
 * How an event is hashed. The hash covers the event's row exactly as stored, under the column names, so any tool
 * that can read the SQLite file (or the central PostgreSQL copy) can recompute it without this code:
 *
 *   hash = lowercase hex SHA-256( prev_hash || RFC 8785 canonical JSON of every column except `hash` )
 *
 * `prev_hash` is the previous event's hash as 64 hex characters (ASCII), 64 zeros for the first event; `details` is
 * embedded as the JSON object it holds, not as a string.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const GENESIS_HASH = '0'.repeat(64);

/** The stored columns of one event, with `details` parsed. */
export interface EventRowFields {
  seq: number;
  event_id: string;
  at: string;
  station_id: string;
  operator: string | null;
  batch_id: string | null;
  unit_id: string | null;
  slot: number | null;
  step: string | null;
  kind: string;
  outcome: string | null;
  details: Record<string, unknown>;
  supersedes: number | null;
  prev_hash: string;
}

export function canonicalJson(value: unknown): string {
  const json = canonicalize(value);
  if (json === undefined) throw new TypeError('value has no JSON form');
  return json;
}

export function eventHash(fields: EventRowFields): string {
  return createHash('sha256')
    .update(fields.prev_hash, 'utf8')
    .update(canonicalJson(fields), 'utf8')
    .digest('hex');
}
