/**
 * The station's guard over its own audit trail. Before anything is appended, the trail is verified: the schema and
 * triggers, and the chain from the last checkpoint the station verified (remembered beside the database, outside
 * it) to the end, every checkpoint against the station's own key. A trail that does not verify stops the station
 * with a message for a supervisor. Afterwards every checkpoint moves that remembered point forward.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { verifyAuditChain, type CheckpointAnchor, type TrailSigner } from '../audit';

export class TrailRefusedError extends Error {
  override name = 'TrailRefusedError';
}

/** Where the last verified checkpoint is remembered: beside the database, so a wiped or cut trail is noticed. */
export function anchorFileOf(databaseFile: string): string {
  return `${databaseFile}.verified`;
}

function readAnchor(file: string): { seq: number; hash: string } | null {
  if (!existsSync(file)) return null;
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as { seq?: unknown; hash?: unknown };
    if (typeof value.seq === 'number' && typeof value.hash === 'string')
      return { seq: value.seq, hash: value.hash };
  } catch {
    // Unreadable: treated as missing below, and the whole trail is verified instead.
  }
  return null;
}

export function writeAnchor(databaseFile: string, anchor: CheckpointAnchor): void {
  const file = anchorFileOf(databaseFile);
  writeFileSync(
    `${file}.new`,
    JSON.stringify({ seq: anchor.seq, hash: anchor.hash, at: new Date().toISOString() }) + '\n',
    {
      mode: 0o640,
    },
  );
  renameSync(`${file}.new`, file);
}

/** The identity keys (fingerprints) the trail names; empty for a trail written before the station signed it. */
function identitiesIn(databaseFile: string): string[] {
  const db = new Database(databaseFile, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
    if (!table) return [];
    return db
      .prepare<[], { details: string }>("SELECT details FROM events WHERE kind = 'station.identity'")
      .all()
      .map((row) => String((JSON.parse(row.details) as { publicKeyFp?: unknown }).publicKeyFp));
  } finally {
    db.close();
  }
}

/**
 * Throws TrailRefusedError (nothing appended) when the trail does not verify. A trail the station never signed
 * (older software) is checked as a chain and then adopted, the station's first checkpoint signing it, but only by
 * a key made on this very start (`mayAdopt`): once a station has a key, every trail it wrote names it, so a
 * non-empty trail without an identity is one rewritten without it.
 */
export function guardTrail(
  databaseFile: string,
  signer: TrailSigner,
  options: { mayAdopt: boolean },
): { verifiedEvents: number } {
  const remembered = readAnchor(anchorFileOf(databaseFile));
  const refuse = (why: string) =>
    new TrailRefusedError(
      `The audit trail ${databaseFile} failed verification: ${why}. The station will not provision and has written nothing to it: a supervisor must investigate (\`station audit verify\` shows the details) before this station is used again.`,
    );
  if (!existsSync(databaseFile)) {
    if (remembered)
      throw refuse(`the file is missing, but this station had verified it up to seq ${remembered.seq}`);
    return { verifiedEvents: 0 };
  }
  const identities = identitiesIn(databaseFile);
  if (identities.length > 0 && !identities.includes(signer.fingerprint)) {
    throw refuse(`it is signed by ${identities.join(', ')}, not by this station's key ${signer.fingerprint}`);
  }
  const result = verifyAuditChain(databaseFile, {
    ...(identities.length > 0 && { expectKey: { publicKey: signer.publicKey } }),
    ...(remembered && { from: remembered }),
    replayViews: false,
  });
  if (!result.ok) throw refuse(result.message);
  if (identities.length === 0 && result.events > 0 && !options.mayAdopt) {
    throw refuse(
      `it holds ${result.events} events but no station identity, though this station has had its key ${signer.fingerprint} since before this start: the trail was replaced or rewritten without its signatures`,
    );
  }
  return { verifiedEvents: result.events };
}
