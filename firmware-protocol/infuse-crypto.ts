/**
 * Infuse key material as the board, the cloud (or the sandbox standing in for it) and the station compute it.
 * PROTOCOL.md section "Cryptography" is the normative text; every constant here is quoted there with a worked
 * example, and test/unit/firmware-protocol/infuse-crypto.test.ts pins the vectors.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { crc32 } from './codec/crc32';

export const KEY_BYTES = 32;
export const CHALLENGE_BYTES = 16;
export const HARDWARE_ID_BYTES = 16;
export const DEVICE_ID_BYTES = 8;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;
export const VERIFY_NONCE_BYTES = 16;

/** The device id a board reports before it holds one (infuse-facts: "not provisioned"). */
export const UNPROVISIONED_DEVICE_ID = 'ffffffffffffffff';

/** Salt of the "sign" key: the four bytes 34 12 00 00 (infuse-facts "Keys"). */
export const SIGN_KEY_SALT = Buffer.from([0x34, 0x12, 0x00, 0x00]);
export const SIGN_KEY_INFO = 'sign';

export const KEY_INTERFACES = ['serial', 'udp', 'bt_adv', 'bt_gatt'] as const;

/** The vendor's public default network (infuse-facts "Keys"): id 0 with key bytes 00..1f. Anyone can read it. */
export const VENDOR_DEFAULT_NETWORK_ID = 0;
export const VENDOR_DEFAULT_NETWORK_KEY: Buffer = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

/** The public default network, reached by its id or by its well-known key under any id. */
export function isVendorDefaultNetwork(networkId: number, key: Uint8Array | undefined): boolean {
  return (
    networkId === VENDOR_DEFAULT_NETWORK_ID ||
    (key !== undefined && Buffer.from(key).equals(VENDOR_DEFAULT_NETWORK_KEY))
  );
}
export type KeyInterface = (typeof KEY_INTERFACES)[number];

/** Domain separation for the VERIFY proof, so a VERIFY MAC can never be replayed as anything else. */
export const VERIFY_LABEL = Buffer.from('INFUSE-STATION-VERIFY-1', 'ascii');

// DER prefixes that wrap a raw 32-byte X25519 key (RFC 8410) so node:crypto can import it.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export interface X25519KeyPair {
  /** Raw 32-byte private scalar. Never leaves the party that made it. */
  privateKey: Buffer;
  /** Raw 32-byte public key. */
  publicKey: Buffer;
}

function expectLength(name: string, value: Uint8Array, length: number): void {
  if (value.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}

function privateKeyObject(raw: Uint8Array): KeyObject {
  expectLength('X25519 private key', raw, KEY_BYTES);
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  expectLength('X25519 public key', raw, KEY_BYTES);
  return createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function generateX25519KeyPair(): X25519KeyPair {
  const { privateKey } = generateKeyPairSync('x25519');
  return x25519KeyPairFromPrivate(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-KEY_BYTES));
}

/** Rebuild a key pair from its raw private half (a board's flash, the sandbox's key file, a test vector). */
export function x25519KeyPairFromPrivate(privateKey: Uint8Array): X25519KeyPair {
  const priv = privateKeyObject(privateKey);
  const publicKey = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(-KEY_BYTES);
  return { privateKey: Buffer.from(privateKey), publicKey: Buffer.from(publicKey) };
}

/** X25519(own private, peer public): the raw 32-byte shared secret. */
export function x25519SharedSecret(ownPrivateKey: Uint8Array, peerPublicKey: Uint8Array): Buffer {
  return diffieHellman({
    privateKey: privateKeyObject(ownPrivateKey),
    publicKey: publicKeyObject(peerPublicKey),
  });
}

export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: string | Uint8Array,
  length = KEY_BYTES,
): Buffer {
  return Buffer.from(
    hkdfSync('sha256', ikm, salt, typeof info === 'string' ? Buffer.from(info) : info, length),
  );
}

export function deriveSignKey(sharedSecret: Uint8Array): Buffer {
  return hkdfSha256(sharedSecret, SIGN_KEY_SALT, SIGN_KEY_INFO);
}

/** Seconds between the Unix epoch and the GPS epoch (1980-01-06T00:00:00Z). */
const GPS_EPOCH_UNIX_SECONDS = 315_964_800;
/** GPS time runs ahead of UTC by the leap seconds since 1980; 18 since 2017-01-01 and still so. */
export const GPS_LEAP_SECONDS = 18;

/** The GPS day number (GPS seconds / 86400) that salts per-interface keys. */
export function gpsDayNumber(at: Date): number {
  const gpsSeconds = Math.floor(at.getTime() / 1000) - GPS_EPOCH_UNIX_SECONDS + GPS_LEAP_SECONDS;
  return Math.floor(gpsSeconds / 86_400);
}

export function interfaceKeySalt(gpsDay: number): Buffer {
  const salt = Buffer.alloc(4);
  salt.writeUInt32LE(gpsDay >>> 0);
  return salt;
}

export function deriveInterfaceKey(
  sharedSecret: Uint8Array,
  keyInterface: KeyInterface,
  gpsDay: number,
): Buffer {
  return hkdfSha256(sharedSecret, interfaceKeySalt(gpsDay), keyInterface);
}

/** Device key id: CRC-32 (IEEE) of cloudPublicKey || devicePublicKey, low 24 bits. */
export function deviceKeyId(cloudPublicKey: Uint8Array, devicePublicKey: Uint8Array): number {
  return crc32(Buffer.concat([cloudPublicKey, devicePublicKey])) & 0xffffff;
}

/**
 * Fingerprint of a secret: the first 8 bytes of its SHA-256, as 16 lowercase hex characters. Safe to log, store
 * and show; it identifies a key without revealing it.
 */
export function secretFingerprint(secret: Uint8Array | string): string {
  return createHash('sha256').update(secret).digest().subarray(0, 8).toString('hex');
}

export function deviceIdBytes(deviceId: string): Buffer {
  if (!/^[0-9a-f]{16}$/.test(deviceId)) {
    throw new RangeError('deviceId must be 16 lowercase hex characters');
  }
  return Buffer.from(deviceId, 'hex');
}

/** The 16-byte hardware id: the board's raw mcuId bytes, zero-padded on the left. */
export function hardwareIdFromMcuId(mcuId: string): Buffer {
  const raw = Buffer.from(mcuId, 'hex');
  if (raw.length === 0 || raw.length > HARDWARE_ID_BYTES || raw.toString('hex') !== mcuId.toLowerCase()) {
    throw new RangeError('mcuId must be 1..16 bytes of hex');
  }
  return Buffer.concat([Buffer.alloc(HARDWARE_ID_BYTES - raw.length), raw]);
}

/** The security state of the Infuse API (all byte fields as raw bytes here; base64 in JSON). */
export interface SecurityStateBytes {
  cloudPublicKey: Buffer;
  devicePublicKey: Buffer;
  networkId: number;
  challenge: Buffer;
  challengeResponseType: number;
  /** nonce (12) || ciphertext (40) || tag (16) for type 0. */
  challengeResponse: Buffer;
}

/** The security state in the JSON shape of the Infuse API's `SecurityState` schema. */
export interface SecurityStateJson {
  cloudPublicKey: string;
  devicePublicKey: string;
  networkId: number;
  challenge: string;
  challengeResponseType: number;
  challengeResponse: string;
}

export const CHALLENGE_RESPONSE_TYPE_SEALED = 0;

/** Associated data of a type-0 challenge response: every security-state field that precedes it. */
export function challengeResponseAad(
  cloudPublicKey: Uint8Array,
  devicePublicKey: Uint8Array,
  networkId: number,
  challenge: Uint8Array,
  challengeResponseType: number,
): Buffer {
  const networkIdLe = Buffer.alloc(4);
  networkIdLe.writeUInt32LE(networkId >>> 0);
  return Buffer.concat([
    cloudPublicKey,
    devicePublicKey,
    networkIdLe,
    challenge,
    Buffer.from([challengeResponseType]),
  ]);
}

export interface SealChallengeInput {
  devicePrivateKey: Uint8Array;
  cloudPublicKey: Uint8Array;
  networkId: number;
  challenge: Uint8Array;
  hardwareId: Uint8Array;
  deviceId: string;
  /** Fixed only in test vectors; a board draws a fresh one every time. */
  nonce?: Uint8Array;
}

/** What the board does for CHALLENGE: seal challenge || hardware id || device id under its sign key. */
export function sealChallengeResponse(input: SealChallengeInput): SecurityStateBytes {
  expectLength('challenge', input.challenge, CHALLENGE_BYTES);
  expectLength('hardware id', input.hardwareId, HARDWARE_ID_BYTES);
  const devicePublicKey = x25519KeyPairFromPrivate(input.devicePrivateKey).publicKey;
  const cloudPublicKey = Buffer.from(input.cloudPublicKey);
  const nonce = input.nonce ? Buffer.from(input.nonce) : randomBytes(AEAD_NONCE_BYTES);
  expectLength('nonce', nonce, AEAD_NONCE_BYTES);
  const signKey = deriveSignKey(x25519SharedSecret(input.devicePrivateKey, cloudPublicKey));
  const plaintext = Buffer.concat([input.challenge, input.hardwareId, deviceIdBytes(input.deviceId)]);
  const aad = challengeResponseAad(
    cloudPublicKey,
    devicePublicKey,
    input.networkId,
    input.challenge,
    CHALLENGE_RESPONSE_TYPE_SEALED,
  );
  const cipher = createCipheriv('chacha20-poly1305', signKey, nonce, { authTagLength: AEAD_TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  signKey.fill(0);
  return {
    cloudPublicKey,
    devicePublicKey,
    networkId: input.networkId,
    challenge: Buffer.from(input.challenge),
    challengeResponseType: CHALLENGE_RESPONSE_TYPE_SEALED,
    challengeResponse: Buffer.concat([nonce, sealed]),
  };
}

export interface OpenedChallengeResponse {
  challenge: Buffer;
  hardwareId: Buffer;
  deviceId: string;
}

export type OpenChallengeResult =
  | { ok: true; value: OpenedChallengeResponse }
  | { ok: false; reason: 'unsupported-type' | 'malformed' | 'authentication-failed' | 'challenge-mismatch' };

/**
 * What the cloud does with a security state: recompute the sign key from its own private key and the device's
 * public key, open the sealed response, and check that it answers the challenge it claims to answer.
 */
export function openChallengeResponse(
  state: SecurityStateBytes,
  cloudPrivateKey: Uint8Array,
): OpenChallengeResult {
  if (state.challengeResponseType !== CHALLENGE_RESPONSE_TYPE_SEALED)
    return { ok: false, reason: 'unsupported-type' };
  const plaintextLength = CHALLENGE_BYTES + HARDWARE_ID_BYTES + DEVICE_ID_BYTES;
  if (
    state.challengeResponse.length !== AEAD_NONCE_BYTES + plaintextLength + AEAD_TAG_BYTES ||
    state.challenge.length !== CHALLENGE_BYTES ||
    state.devicePublicKey.length !== KEY_BYTES ||
    state.cloudPublicKey.length !== KEY_BYTES
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const nonce = state.challengeResponse.subarray(0, AEAD_NONCE_BYTES);
  const ciphertext = state.challengeResponse.subarray(AEAD_NONCE_BYTES, AEAD_NONCE_BYTES + plaintextLength);
  const tag = state.challengeResponse.subarray(AEAD_NONCE_BYTES + plaintextLength);
  let signKey: Buffer;
  try {
    signKey = deriveSignKey(x25519SharedSecret(cloudPrivateKey, state.devicePublicKey));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const aad = challengeResponseAad(
    state.cloudPublicKey,
    state.devicePublicKey,
    state.networkId,
    state.challenge,
    state.challengeResponseType,
  );
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('chacha20-poly1305', signKey, nonce, { authTagLength: AEAD_TAG_BYTES });
    decipher.setAAD(aad, { plaintextLength });
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return { ok: false, reason: 'authentication-failed' };
  } finally {
    signKey.fill(0);
  }
  const challenge = plaintext.subarray(0, CHALLENGE_BYTES);
  if (!timingSafeEqual(challenge, state.challenge)) return { ok: false, reason: 'challenge-mismatch' };
  return {
    ok: true,
    value: {
      challenge: Buffer.from(challenge),
      hardwareId: Buffer.from(plaintext.subarray(CHALLENGE_BYTES, CHALLENGE_BYTES + HARDWARE_ID_BYTES)),
      deviceId: plaintext.subarray(CHALLENGE_BYTES + HARDWARE_ID_BYTES).toString('hex'),
    },
  };
}

export function securityStateToJson(state: SecurityStateBytes): SecurityStateJson {
  return {
    cloudPublicKey: state.cloudPublicKey.toString('base64'),
    devicePublicKey: state.devicePublicKey.toString('base64'),
    networkId: state.networkId,
    challenge: state.challenge.toString('base64'),
    challengeResponseType: state.challengeResponseType,
    challengeResponse: state.challengeResponse.toString('base64'),
  };
}

export function securityStateFromJson(state: SecurityStateJson): SecurityStateBytes {
  return {
    cloudPublicKey: Buffer.from(state.cloudPublicKey, 'base64'),
    devicePublicKey: Buffer.from(state.devicePublicKey, 'base64'),
    networkId: state.networkId,
    challenge: Buffer.from(state.challenge, 'base64'),
    challengeResponseType: state.challengeResponseType,
    challengeResponse: Buffer.from(state.challengeResponse, 'base64'),
  };
}

/**
 * The VERIFY proof: HMAC-SHA256(key, VERIFY_LABEL || nonce || deviceId bytes). The board computes it with the
 * key it derived itself; the station recomputes it with the key the backend derived. Equal MACs prove both sides
 * hold the same key without the key crossing the wire.
 */
export function verifyProof(key: Uint8Array, nonce: Uint8Array, deviceId: string): Buffer {
  expectLength('verify nonce', nonce, VERIFY_NONCE_BYTES);
  return createHmac('sha256', key)
    .update(VERIFY_LABEL)
    .update(nonce)
    .update(deviceIdBytes(deviceId))
    .digest();
}

export function proofsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
