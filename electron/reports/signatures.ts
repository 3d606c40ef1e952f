/**
 * Whether a person's electronic signature (an event of kind `signature`) still binds the record it names: the record
 * hash recomputed from the signed events (electron/audit record-hash.ts). Reports only show the answer.
 */
import type Database from 'better-sqlite3';
import { checkSignature } from '../audit';

export type SignatureValidity = 'valid' | 'invalid' | 'unchecked';

/** A `signature` row as the events table holds it (details still the stored JSON text). */
export interface SignatureEventRow {
  seq: number;
  at: string;
  operator: string | null;
  details: string;
}

export interface SignatureCheck {
  validity: SignatureValidity;
  /** Why not, in words, when invalid. */
  problem: string | null;
}

export function signatureValidity(db: Database.Database, signature: SignatureEventRow): SignatureCheck {
  const view = checkSignature(db, signature);
  return { validity: view.valid ? 'valid' : 'invalid', problem: view.problem };
}
