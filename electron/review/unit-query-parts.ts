/**
 * What the units query means, whichever database answers it: a station's SQLite file (unit-query.ts) or the
 * central PostgreSQL (central-review/central-units.ts). The request's validation, the times compared, the search
 * rule and the keyset cursor are one thing; only the SQL differs.
 */
import { unitPageRequestSchema, type UnitPageRequest } from '../station-api';

export class UnitQueryError extends Error {
  override readonly name = 'UnitQueryError';
}

/** Shorter search text matches whole values only: a 1-character prefix would match a sixteenth of all units. */
export const SEARCH_MIN_PREFIX = 3;

/** The end of the range of strings that start with `prefix` (both databases compare UTF-8 bytes). */
export function searchPrefixEnd(prefix: string): string {
  return prefix + '\u{10FFFF}';
}

/** The request as the contract reads it, or UnitQueryError saying which field is wrong. */
export function parseUnitPageRequest(input: UnitPageRequest) {
  const parsed = unitPageRequestSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UnitQueryError(
      `bad unit query: ${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Audit times are stored as UTC with milliseconds and "+00:00"; a filter time is compared in the same form. */
export function normaliseAuditTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new UnitQueryError(`${iso} is not a time`);
  return date.toISOString().replace(/Z$/, '+00:00');
}

/** A cursor is the last row's key, opaque to clients (base64url JSON of its parts). */
export function encodeKeyCursor(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** The key's `arity` parts, or UnitQueryError naming `giver` (who hands out these cursors). */
export function decodeKeyCursor(text: string, arity: number, giver: string): string[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === arity && value.every((part) => typeof part === 'string')) {
      return value as string[];
    }
  } catch {
    // fall through to the error below
  }
  throw new UnitQueryError(`the page cursor is not one ${giver} gave out: start again from the first page`);
}
