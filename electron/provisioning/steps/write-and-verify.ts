import { randomBytes } from 'node:crypto';
import { unwrap } from '../../backend';
import {
  VERIFY_NONCE_BYTES,
  deriveSignKey,
  deviceKeyId,
  proofsEqual,
  verifyProof,
} from '../../../firmware-protocol';
import type { CredentialWrite } from '../../serial';
import { fail } from '../errors';
import type { StepDetails } from '../journal';
import { require, type StepResult, type UnitContext } from '../unit-context';

/** ISO 8601 UTC to the second, as PROTOCOL.md's `mqttTokenExpiresAt` is written. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Step 8: stage, commit and read back. The intent names the device id and the fingerprint of every secret about
 * to be written, so a crash after the board commits leaves a record of exactly what it may hold.
 */
export async function writeCredentials(unit: UnitContext): Promise<StepResult> {
  const device = require(unit.device, 'device');
  const { batch } = unit;
  const { credentials } = batch.recipe;
  const fields: CredentialWrite = { deviceId: device.deviceId };
  const expected: StepDetails = { deviceId: device.deviceId };

  if (credentials.cloudPublicKey) {
    const key = (await batch.cloudPublicKey()).toString('base64');
    fields.cloudPublicKey = key;
    expected.cloudPublicKey = key;
  }
  if (credentials.network && batch.network) {
    fields.networkId = String(batch.network.id);
    fields.networkKey = batch.network.key.revealBase64();
    expected.networkId = batch.network.id;
    expected.networkKeyFp = batch.network.key.fingerprint;
  }
  if (unit.mqttToken) {
    fields.mqttToken = unit.mqttToken.token.revealText();
    fields.mqttTokenExpiresAt = isoSeconds(unit.mqttToken.expiresAt);
    expected.mqttTokenFp = unit.mqttToken.token.fingerprint;
    expected.mqttExpiresAt = fields.mqttTokenExpiresAt;
  }
  if (unit.derivedKey && credentials.derivedKey) {
    fields.derivedKey = unit.derivedKey.revealBase64();
    fields.derivedKeyInterface = credentials.derivedKey.interface;
    expected.derivedKeyFp = unit.derivedKey.fingerprint;
    expected.derivedInterface = credentials.derivedKey.interface;
  }

  unit.journal.intent('write-credentials', 'write-and-commit', expected);
  try {
    await unit.session.write(fields);
  } finally {
    // The frame is on the wire; drop our copies of the secret strings at once.
    fields.networkKey = fields.mqttToken = fields.derivedKey = undefined;
  }
  const commit = await unit.session.commit();
  unit.committedAt = unit.now();
  const readback = await unit.session.readback();

  const actual: StepDetails = {
    deviceId: readback.deviceId,
    ...(expected.cloudPublicKey !== undefined && {
      cloudPublicKey: readback.cloudPublicKey.toString('base64'),
    }),
    ...(expected.networkId !== undefined && { networkId: readback.networkId ?? null }),
    ...(expected.networkKeyFp !== undefined && { networkKeyFp: readback.networkKeyFp ?? null }),
    ...(expected.mqttTokenFp !== undefined && { mqttTokenFp: readback.mqttTokenFp ?? null }),
    ...(expected.mqttExpiresAt !== undefined && { mqttExpiresAt: readback.mqttTokenExpiresAt ?? null }),
    ...(expected.derivedKeyFp !== undefined && { derivedKeyFp: readback.derivedKeyFp ?? null }),
    ...(expected.derivedInterface !== undefined && {
      derivedInterface: readback.derivedKeyInterface ?? null,
    }),
  };
  const mismatched = Object.keys(expected).filter((key) => actual[key] !== expected[key]);
  if (mismatched.length > 0) {
    throw fail(
      'READBACK_MISMATCH',
      `The board did not keep what was written (${mismatched.join(', ')}): press Retry once; if it fails again set the board aside as faulty.`,
      true,
    );
  }
  return { details: { ...expected, boardState: readback.state, changed: commit.changed } };
}

/**
 * Step 8 (continued): the board proves it derives the same keys as the cloud. The sign key comes from the
 * backend's shared secret for this device and security state; a written derived key is checked against the
 * board's own derivation for the same GPS day.
 */
export async function verify(unit: UnitContext): Promise<StepResult> {
  const device = require(unit.device, 'device');
  const identity = require(unit.identity, 'identity');
  const state = require(unit.securityState, 'security state');
  const { batch } = unit;
  const details: StepDetails = {};

  const nonce = randomBytes(VERIFY_NONCE_BYTES);
  const proof = await unit.session.verify(nonce, 'sign');
  const shared = unwrap(await batch.backend(() => batch.client.deviceSharedSecret(device.deviceId, state)));
  try {
    const expected = shared.use((secret) => {
      const signKey = deriveSignKey(secret);
      const mac = verifyProof(signKey, nonce, device.deviceId);
      signKey.fill(0);
      return mac;
    });
    if (proof.deviceId !== device.deviceId || !proofsEqual(proof.mac, expected)) {
      throw fail(
        'VERIFY_FAILED',
        'The board does not derive the same key as the cloud: set it aside; it may hold another key pair or the wrong cloud key.',
        false,
      );
    }
    details.sharedSecretFp = shared.fingerprint;
  } finally {
    shared.wipe();
  }
  const cloudPublicKey = await batch.cloudPublicKey();
  const keyId = deviceKeyId(cloudPublicKey, identity.devicePublicKey).toString(16).padStart(6, '0');
  if (proof.keyId !== keyId) {
    throw fail(
      'VERIFY_FAILED',
      `The board reports key id ${proof.keyId}, the cloud's keys give ${keyId}: set it aside.`,
      false,
    );
  }
  details.keyId = keyId;
  details.signProofOk = true;

  const derived = batch.recipe.credentials.derivedKey;
  if (derived && unit.derivedKey && unit.derivedKeyGpsDay !== undefined) {
    const day = unit.derivedKeyGpsDay;
    // The backend salted with its own clock's day; around midnight that may be the day before or after ours.
    let matchedDay: number | undefined;
    for (const candidate of [day, day - 1, day + 1]) {
      const dayNonce = randomBytes(VERIFY_NONCE_BYTES);
      const answer = await unit.session.verify(dayNonce, derived.interface, candidate);
      const expected = unit.derivedKey.use((key) => verifyProof(key, dayNonce, device.deviceId));
      if (proofsEqual(answer.mac, expected)) {
        matchedDay = candidate;
        break;
      }
    }
    if (matchedDay === undefined) {
      throw fail(
        'VERIFY_FAILED',
        `The board's ${derived.interface} key differs from the cloud's derived key: press Retry once; if it fails again set the board aside.`,
        true,
      );
    }
    details.derivedProofOk = true;
    details.derivedGpsDay = matchedDay;
  }
  return { details };
}
