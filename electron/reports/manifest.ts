/**
 * `manifest.json`: what a report folder holds and proof the station made it. It lists every file with its SHA-256
 * and size, names the batch, its counts and the audit chain head the export covers (seq + hash of the trail's last
 * event when it was read), and is signed with the station's Ed25519 identity key:
 *
 *   signature = Ed25519( RFC 8785 canonical JSON of the manifest without its `signature` field )
 *
 * The public key and its fingerprint are inside what is signed. The signature alone shows the folder is as that key
 * left it; that the key is this station's comes from the trail (its station.identity events, `verify --db`) or a
 * registered fingerprint (`--expect-key`), and the chain head ties the export to the trail as it stood.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, keyFingerprint, verifyCheckpoint, type TrailSigner } from '../audit';
import { openAuditReadOnly } from './data';
import { messageOf, ReportError } from './errors';
import type { UnitCounts } from './stats';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'infuse-station.report-manifest/1';

export interface ManifestFile {
  name: string;
  sha256: string;
  bytes: number;
}

export interface ReportManifest {
  format: typeof MANIFEST_FORMAT;
  batch: { id: string; name: string };
  stationId: string;
  generatedAt: string;
  counts: UnitCounts & { firstPass: number };
  /** The trail's last event when the export read it. */
  chainHead: { seq: number; hash: string } | null;
  files: ManifestFile[];
  algorithm: 'ed25519';
  /** The station's raw 32-byte public key, base64. */
  publicKey: string;
  keyFingerprint: string;
  /** Ed25519 over the canonical JSON of every other field, base64. */
  signature: string;
}

export type UnsignedManifest = Omit<
  ReportManifest,
  'signature' | 'algorithm' | 'publicKey' | 'keyFingerprint'
>;

/** The bytes the signature covers. */
export function manifestMessage(manifest: Omit<ReportManifest, 'signature'>): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

export function signManifest(unsigned: UnsignedManifest, signer: TrailSigner): ReportManifest {
  const withKey: Omit<ReportManifest, 'signature'> = {
    ...unsigned,
    algorithm: 'ed25519',
    publicKey: signer.publicKey.toString('base64'),
    keyFingerprint: signer.fingerprint,
  };
  return { ...withKey, signature: signer.sign(manifestMessage(withKey)).toString('base64') };
}

/** SHA-256 and size of a file, read in chunks (a 10,000-unit units.json is ~100 MB). */
export function hashFile(path: string): { sha256: string; bytes: number } {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

// --- verification ------------------------------------------------------------------------------------------------

export type ReportProblemCode =
  'manifest' | 'signature' | 'missing' | 'size' | 'hash' | 'wrong-key' | 'head' | 'station' | 'batch';

export interface ReportProblem {
  code: ReportProblemCode;
  /** The file concerned, when it is about one. */
  file: string | null;
  message: string;
}

export interface ReportVerifyOptions {
  /** The station's audit file: the head must still be in it and the key must be the one it records. */
  dbFile?: string;
  /** A registered key fingerprint (`station identity`) the manifest must be signed with. */
  expectKey?: string;
}

export interface ReportVerifyResult {
  ok: boolean;
  dir: string;
  manifest: ReportManifest | null;
  /** Files whose hash and size were checked and matched. */
  filesChecked: number;
  problems: ReportProblem[];
  /** Files in the folder the manifest does not list (not covered by the signature; not an error). */
  unlisted: string[];
  /** What the trail said, with dbFile. */
  trail: { headHeld: boolean; keyRecorded: boolean } | null;
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HEX64 = /^[0-9a-f]{64}$/;

function readManifest(dir: string): unknown {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ReportError(
      'REPORT_NO_MANIFEST',
      `${dir}: no such folder (give the folder a report was written to)`,
    );
  }
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) {
    throw new ReportError(
      'REPORT_NO_MANIFEST',
      `${dir} holds no ${MANIFEST_FILE}: it is not a report folder, or the export did not finish (run station report again)`,
    );
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { unreadable: messageOf(error) };
  }
}

/** The shape problems of a manifest, or null when it has the fields a manifest must have. */
function shapeProblem(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'it is not a JSON object';
  const m = value as Record<string, unknown>;
  if ('unreadable' in m && Object.keys(m).length === 1)
    return `it is not valid JSON (${String(m.unreadable)})`;
  if (m.format !== MANIFEST_FORMAT)
    return `its format is ${JSON.stringify(m.format)}, not ${MANIFEST_FORMAT}`;
  if (m.algorithm !== 'ed25519') return 'its algorithm is not ed25519';
  for (const field of ['publicKey', 'keyFingerprint', 'signature', 'stationId', 'generatedAt'])
    if (typeof m[field] !== 'string') return `its ${field} is missing`;
  const batch = m.batch as Record<string, unknown> | undefined;
  if (typeof batch?.id !== 'string' || typeof batch.name !== 'string') return 'its batch is missing';
  if (!Array.isArray(m.files)) return 'its file list is missing';
  for (const entry of m.files as unknown[]) {
    const f = entry as Record<string, unknown> | null;
    if (
      typeof f?.name !== 'string' ||
      typeof f.sha256 !== 'string' ||
      typeof f.bytes !== 'number' ||
      !HEX64.test(f.sha256)
    )
      return 'a file entry is malformed (name, sha256, bytes)';
    if (!SAFE_NAME.test(f.name) || f.name === MANIFEST_FILE)
      return `it lists ${JSON.stringify(f.name)}, which is not a plain file name of this folder`;
  }
  const head = m.chainHead as Record<string, unknown> | null | undefined;
  if (head !== null && (typeof head?.seq !== 'number' || typeof head.hash !== 'string'))
    return 'its chainHead is malformed';
  return null;
}

/**
 * Checks a report folder: the manifest's signature, every listed file's size and SHA-256 (and that none is
 * missing), and with `dbFile` that the trail still holds the chain head and records the signing key as the
 * station's. Throws ReportError when there is nothing to check (no folder, no manifest, no such database).
 */
export function verifyReportDir(dir: string, options: ReportVerifyOptions = {}): ReportVerifyResult {
  const raw = readManifest(dir);
  const problems: ReportProblem[] = [];
  const result: ReportVerifyResult = {
    ok: false,
    dir,
    manifest: null,
    filesChecked: 0,
    problems,
    unlisted: [],
    trail: null,
  };
  const shape = shapeProblem(raw);
  if (shape) {
    problems.push({
      code: 'manifest',
      file: MANIFEST_FILE,
      message: `${MANIFEST_FILE} is not a report manifest: ${shape}`,
    });
    return result;
  }
  const manifest = raw as ReportManifest;
  result.manifest = manifest;

  // The signature, over everything but itself, with the key the manifest names.
  const publicKey = Buffer.from(manifest.publicKey, 'base64');
  const { signature, ...signed } = manifest;
  if (publicKey.length !== 32) {
    problems.push({
      code: 'signature',
      file: MANIFEST_FILE,
      message: 'the manifest public key is not a 32-byte Ed25519 key',
    });
  } else if (keyFingerprint(publicKey) !== manifest.keyFingerprint) {
    problems.push({
      code: 'signature',
      file: MANIFEST_FILE,
      message: `the manifest's key fingerprint ${manifest.keyFingerprint} is not that of its public key (${keyFingerprint(publicKey)})`,
    });
  } else if (!signatureHolds(publicKey, manifestMessage(signed), signature)) {
    problems.push({
      code: 'signature',
      file: MANIFEST_FILE,
      message: `the manifest's signature does not verify with ${manifest.keyFingerprint}: manifest.json was changed after the station signed it`,
    });
  }
  if (options.expectKey !== undefined && options.expectKey !== manifest.keyFingerprint) {
    problems.push({
      code: 'wrong-key',
      file: MANIFEST_FILE,
      message: `the export is signed by ${manifest.keyFingerprint}, not the expected station key ${options.expectKey}`,
    });
  }

  // Every listed file, as it was when signed.
  const listed = new Set<string>([MANIFEST_FILE]);
  for (const file of manifest.files) {
    listed.add(file.name);
    const path = join(dir, file.name);
    if (!existsSync(path) || !statSync(path).isFile()) {
      problems.push({
        code: 'missing',
        file: file.name,
        message: `${file.name} is listed in the manifest but missing`,
      });
      continue;
    }
    const actual = hashFile(path);
    if (actual.bytes !== file.bytes) {
      problems.push({
        code: 'size',
        file: file.name,
        message: `${file.name} is ${actual.bytes} bytes, the manifest says ${file.bytes}: the file was changed`,
      });
    } else if (actual.sha256 !== file.sha256) {
      problems.push({
        code: 'hash',
        file: file.name,
        message: `${file.name} does not match its SHA-256 in the manifest: the file was changed`,
      });
    } else {
      result.filesChecked++;
    }
  }
  result.unlisted = readdirSync(dir)
    .filter((name) => !listed.has(name))
    .sort();

  if (options.dbFile !== undefined) result.trail = checkAgainstTrail(options.dbFile, manifest, problems);
  result.ok = problems.length === 0;
  return result;
}

function signatureHolds(publicKey: Buffer, message: Buffer, signature: string): boolean {
  try {
    return verifyCheckpoint(publicKey, message, Buffer.from(signature, 'base64'));
  } catch {
    // Bytes that are no Ed25519 point: no signature by anyone verifies with them.
    return false;
  }
}

function checkAgainstTrail(
  dbFile: string,
  manifest: ReportManifest,
  problems: ReportProblem[],
): { headHeld: boolean; keyRecorded: boolean } {
  const db = openAuditReadOnly(dbFile);
  try {
    let headHeld = true;
    if (manifest.chainHead) {
      const row = db
        .prepare<[number], { hash: string }>('SELECT hash FROM events WHERE seq = ?')
        .get(manifest.chainHead.seq);
      headHeld = row?.hash === manifest.chainHead.hash;
      if (!headHeld) {
        problems.push({
          code: 'head',
          file: null,
          message: row
            ? `the trail's event seq ${manifest.chainHead.seq} is not the one the export covers (hash ${row.hash.slice(0, 16)}…, the manifest says ${manifest.chainHead.hash.slice(0, 16)}…): the trail was rewritten, or this is another station's trail`
            : `the trail has no event seq ${manifest.chainHead.seq}, the head the export covers: the trail was cut, or this is another trail`,
        });
      }
    }
    const keys = db
      .prepare<[], { details: string }>(
        "SELECT details FROM events WHERE kind = 'station.identity' ORDER BY seq",
      )
      .all()
      .map((row) => {
        try {
          return String((JSON.parse(row.details) as { stationPublicKey?: unknown }).stationPublicKey ?? '');
        } catch {
          return '';
        }
      });
    const keyRecorded = keys.includes(manifest.publicKey);
    if (!keyRecorded) {
      problems.push({
        code: 'wrong-key',
        file: MANIFEST_FILE,
        message:
          keys.length === 0
            ? `the trail records no station key, so nothing ties ${manifest.keyFingerprint} to this station`
            : `the export is signed by ${manifest.keyFingerprint}, which is not the station key the trail records (${keys
                .map((k) => keyFingerprint(Buffer.from(k, 'base64')))
                .join(', ')})`,
      });
    }
    const stationId =
      db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'station_id'").get()?.value ??
      null;
    if (stationId !== manifest.stationId) {
      problems.push({
        code: 'station',
        file: null,
        message: `the trail is station ${JSON.stringify(stationId)}'s, the export says ${JSON.stringify(manifest.stationId)}`,
      });
    }
    const batch = db
      .prepare<[string], { name: string }>('SELECT name FROM batches WHERE id = ?')
      .get(manifest.batch.id);
    if (!batch || batch.name !== manifest.batch.name) {
      problems.push({
        code: 'batch',
        file: null,
        message: batch
          ? `batch ${manifest.batch.id} is named ${JSON.stringify(batch.name)} in the trail, not ${JSON.stringify(manifest.batch.name)}`
          : `the trail has no batch ${manifest.batch.id}`,
      });
    }
    return { headHeld, keyRecorded };
  } finally {
    db.close();
  }
}
