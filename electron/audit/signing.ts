/**
 * The station's signature on its own trail: Ed25519 over (station id, seq, head hash) at each checkpoint. The chain
 * shows an edit; a signature shows who wrote the chain up to that point, which a rewrite of the file cannot fake
 * without the station's private key (held in the secret store, never in the trail).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
} from 'node:crypto';
import { canonicalJson } from './hash-chain';

/** What the store needs to sign checkpoints; the private key never leaves the implementation. */
export interface TrailSigner {
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
  readonly fingerprint: string;
  sign(message: Buffer): Buffer;
}

/** A public key's fingerprint as operators compare it: `ed25519:` + the first 16 bytes of its SHA-256, in hex. */
export function keyFingerprint(publicKey: Buffer): string {
  return `ed25519:${createHash('sha256').update(publicKey).digest('hex').slice(0, 32)}`;
}

/** The bytes a checkpoint signs: canonical JSON of the station, the seq it covers and the chain head there. */
export function checkpointMessage(stationId: string, seq: number, headHash: string): Buffer {
  return Buffer.from(canonicalJson({ headHash, seq, stationId }), 'utf8');
}

// DER prefixes of Ed25519 keys (RFC 8410): what node:crypto wraps a raw 32-byte key in.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function verifyCheckpoint(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return verify(null, message, key, signature);
}

/** A new key pair: the 32-byte private seed (for the secret store) and the raw public key. */
export function generateStationKey(): { seed: Buffer; publicKey: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return {
    seed: Buffer.from(pkcs8.subarray(PKCS8_PREFIX.length)),
    publicKey: Buffer.from(spki.subarray(SPKI_PREFIX.length)),
  };
}

/**
 * A signer over a 32-byte private seed. The caller wipes its seed; this module keeps no copy beyond the KeyObject
 * node:crypto holds, and the signer prints as its fingerprint only.
 */
export function signerFromSeed(seed: Buffer): TrailSigner {
  if (seed.length !== 32) throw new RangeError('an Ed25519 private seed is 32 bytes');
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  const publicKey = Buffer.from(
    createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length),
  );
  return {
    publicKey,
    fingerprint: keyFingerprint(publicKey),
    sign: (message) => sign(null, message, privateKey),
    // A signer printed by accident says what it is, not what it holds.
    toString: () => `[station signing key ${keyFingerprint(publicKey)}]`,
    toJSON: () => ({ signer: keyFingerprint(publicKey) }),
  } as TrailSigner;
}
