/**
 * The sandbox's stand-in for a device's first packet ("comes online"). A virtual board seals a tiny JSON report
 * under its sign key and posts it to the sandbox-only route POST /sandbox/uplink; the sandbox opens it with its
 * cloud private key, which proves the board holds the private key matching the public key the cloud knows.
 * Format (README.md in this folder): ChaCha20-Poly1305, key = sign key, aad = the 8 deviceId bytes,
 * plaintext = UTF-8 JSON {"deviceId","sentAt"}, payload = ciphertext || tag.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  AEAD_NONCE_BYTES,
  AEAD_TAG_BYTES,
  KEY_BYTES,
  deriveSignKey,
  deviceIdBytes,
  x25519KeyPairFromPrivate,
  x25519SharedSecret,
} from '../../firmware-protocol';

export interface UplinkBody {
  deviceId: string;
  /** base64, 32 bytes */
  devicePublicKey: string;
  /** base64, 12 bytes */
  nonce: string;
  /** base64 of ciphertext || 16-byte tag */
  payload: string;
}

export function sealUplink(
  devicePrivateKey: Uint8Array,
  cloudPublicKey: Uint8Array,
  deviceId: string,
  sentAt: Date | string,
  nonce: Uint8Array = randomBytes(AEAD_NONCE_BYTES),
): UplinkBody {
  const devicePublicKey = x25519KeyPairFromPrivate(devicePrivateKey).publicKey;
  const signKey = deriveSignKey(x25519SharedSecret(devicePrivateKey, cloudPublicKey));
  try {
    const plaintext = Buffer.from(
      JSON.stringify({ deviceId, sentAt: typeof sentAt === 'string' ? sentAt : sentAt.toISOString() }),
      'utf8',
    );
    const cipher = createCipheriv('chacha20-poly1305', signKey, nonce, { authTagLength: AEAD_TAG_BYTES });
    cipher.setAAD(deviceIdBytes(deviceId), { plaintextLength: plaintext.length });
    const payload = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return {
      deviceId,
      devicePublicKey: devicePublicKey.toString('base64'),
      nonce: Buffer.from(nonce).toString('base64'),
      payload: payload.toString('base64'),
    };
  } finally {
    signKey.fill(0);
  }
}

export type OpenedUplink =
  | { ok: true; deviceId: string; sentAt: string }
  | { ok: false; reason: 'malformed' | 'authentication-failed' | 'wrong-device' };

/** What the sandbox does with an uplink body whose shape it has already checked. */
export function openUplink(body: UplinkBody, cloudPrivateKey: Uint8Array): OpenedUplink {
  const devicePublicKey = Buffer.from(body.devicePublicKey, 'base64');
  const nonce = Buffer.from(body.nonce, 'base64');
  const payload = Buffer.from(body.payload, 'base64');
  if (
    devicePublicKey.length !== KEY_BYTES ||
    nonce.length !== AEAD_NONCE_BYTES ||
    payload.length <= AEAD_TAG_BYTES
  ) {
    return { ok: false, reason: 'malformed' };
  }
  let signKey: Buffer;
  try {
    signKey = deriveSignKey(x25519SharedSecret(cloudPrivateKey, devicePublicKey));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('chacha20-poly1305', signKey, nonce, { authTagLength: AEAD_TAG_BYTES });
    const ciphertext = payload.subarray(0, payload.length - AEAD_TAG_BYTES);
    decipher.setAAD(deviceIdBytes(body.deviceId), { plaintextLength: ciphertext.length });
    decipher.setAuthTag(payload.subarray(payload.length - AEAD_TAG_BYTES));
    plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return { ok: false, reason: 'authentication-failed' };
  } finally {
    signKey.fill(0);
  }
  let report: unknown;
  try {
    report = JSON.parse(plaintext.toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof report !== 'object' || report === null) return { ok: false, reason: 'malformed' };
  const { deviceId, sentAt } = report as { deviceId?: unknown; sentAt?: unknown };
  if (typeof sentAt !== 'string' || Number.isNaN(Date.parse(sentAt)))
    return { ok: false, reason: 'malformed' };
  if (deviceId !== body.deviceId) return { ok: false, reason: 'wrong-device' };
  return { ok: true, deviceId, sentAt };
}

export interface UplinkOutcome {
  ok: boolean;
  status: number;
  /** The sandbox's `{message}` on failure. */
  message?: string;
}

/** Post an uplink to a sandbox at `baseUrl` (the `url` the sandbox printed); sandbox routes need its API key. */
export async function sendUplink(baseUrl: string, body: UplinkBody, apiKey: string): Promise<UplinkOutcome> {
  const response = await fetch(new URL('/sandbox/uplink', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(body),
  });
  if (response.status === 204) return { ok: true, status: 204 };
  const text = await response.text();
  let message: string | undefined;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    message = typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    message = undefined;
  }
  return { ok: false, status: response.status, ...(message === undefined ? {} : { message }) };
}
