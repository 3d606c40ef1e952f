import { randomBytes } from 'node:crypto';
import type { Device, MqttToken, SecretBytes } from '../../backend';
import {
  VERIFY_NONCE_BYTES,
  deriveSignKey,
  deviceKeyId,
  proofsEqual,
  verifyProof,
  type CommitReply,
  type ReadbackReply,
} from '../../../firmware-protocol';
import { isBoardRestart, type BoardIdentity, type CredentialWrite } from '../../serial';
import type { BatchContext } from '../batch-context';
import { fail } from '../errors';
import type { StepDetails } from '../journal';
import type { BoardPort } from '../ports';
import type { DerivedKey } from './keys';
import { passed, type Intent, type StepOutput } from './step';

/** ISO 8601 UTC to the second, as PROTOCOL.md's `mqttTokenExpiresAt` is written. */
function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Step 8: stage, commit and read back. The intent names the device id and the fingerprint of every secret about
 * to be written, so a crash after the board commits leaves a record of exactly what it may hold. Returns when the
 * board committed (the communication check wants news newer than that).
 */
/** The states a board may report once COMMIT succeeded: anything else means it did not keep the credentials. */
const COMMITTED_STATES: readonly string[] = ['committed', 'locked'];

/** How many restarts of the board the write step lives through (writing again each time) before it fails. */
const RESTARTS_PER_WRITE = 2;

export async function writeCredentials(input: {
  batch: BatchContext;
  board: BoardPort;
  device: Device;
  cloudPublicKey: Buffer;
  mqttToken: MqttToken | null;
  derivedKey: DerivedKey | null;
  intent: Intent;
  now: () => Date;
}): Promise<StepOutput<{ committedAt: Date }>> {
  const { batch, board, device } = input;
  const { credentials } = batch.recipe;
  const expected: StepDetails = { deviceId: device.deviceId };
  // The secret values are revealed per write, straight into the frame, and dropped after it (a restart of the
  // board means writing them again, from the held secrets, not from a copy kept here).
  const withSecrets = (): CredentialWrite => {
    const fields: CredentialWrite = { deviceId: device.deviceId };
    if (credentials.cloudPublicKey) fields.cloudPublicKey = input.cloudPublicKey.toString('base64');
    if (credentials.network && batch.network) {
      fields.networkId = String(batch.network.id);
      fields.networkKey = batch.network.key.revealBase64();
    }
    if (input.mqttToken) {
      fields.mqttToken = input.mqttToken.token.revealText();
      fields.mqttTokenExpiresAt = isoSeconds(input.mqttToken.expiresAt);
    }
    if (input.derivedKey && credentials.derivedKey) {
      fields.derivedKey = input.derivedKey.key.revealBase64();
      fields.derivedKeyInterface = credentials.derivedKey.interface;
    }
    return fields;
  };

  if (credentials.cloudPublicKey) expected.cloudPublicKey = input.cloudPublicKey.toString('base64');
  if (credentials.network && batch.network) {
    expected.networkId = batch.network.id;
    expected.networkKeyFp = batch.network.key.fingerprint;
  }
  if (input.mqttToken) {
    expected.mqttTokenFp = input.mqttToken.token.fingerprint;
    expected.mqttExpiresAt = isoSeconds(input.mqttToken.expiresAt);
  }
  if (input.derivedKey && credentials.derivedKey) {
    expected.derivedKeyFp = input.derivedKey.key.fingerprint;
    expected.derivedInterface = credentials.derivedKey.interface;
  }

  await input.intent('write-and-commit', expected);
  let commit: CommitReply | undefined;
  let readback: ReadbackReply | undefined;
  let restarts = 0;
  let keptThroughRestart = false;
  while (!readback) {
    try {
      const fields = withSecrets();
      try {
        await board.write(fields);
      } finally {
        // The frame is on the wire; drop our copies of the secret strings at once.
        fields.networkKey = fields.mqttToken = fields.derivedKey = undefined;
      }
      commit = await board.commit();
      checkCommitReply(commit, expected);
      readback = await board.readback();
    } catch (error) {
      // The board restarted by itself (PROTOCOL.md 3.2): staged fields are gone, but a COMMIT may have been
      // stored before the restart. What the board kept decides: carry on if it holds what was written, else
      // write it all again.
      if (!isBoardRestart(error) || restarts >= RESTARTS_PER_WRITE) throw error;
      restarts += 1;
      const kept = await board.readback();
      if (COMMITTED_STATES.includes(kept.state) && mismatchedFields(expected, kept).length === 0) {
        readback = kept;
        keptThroughRestart = true;
      }
    }
  }
  const committedAt = input.now();
  if (!COMMITTED_STATES.includes(readback.state)) {
    throw fail(
      'READBACK_MISMATCH',
      `After COMMIT the board says it is ${readback.state}: it did not keep the credentials; set it aside as faulty.`,
      false,
    );
  }
  const mismatched = mismatchedFields(expected, readback);
  if (mismatched.length > 0) {
    throw fail(
      'READBACK_MISMATCH',
      `The board did not keep what was written (${mismatched.join(', ')}): retry once; if it fails again set the board aside as faulty.`,
      true,
    );
  }
  return passed(
    { committedAt },
    {
      ...expected,
      boardState: readback.state,
      // A COMMIT stored before a restart is known from the read-back alone: its reply never arrived.
      changed: keptThroughRestart ? true : (commit?.changed ?? true),
      ...(restarts > 0 && { restartsDuringWrite: restarts, keptThroughRestart }),
    },
  );
}

/**
 * What COMMIT says it committed must be what was written, in a committed state, and it must say it changed
 * something: the station staged fields in this boot, so `changed=0` means the board stored nothing (PROTOCOL.md 5.5).
 */
function checkCommitReply(commit: CommitReply, expected: StepDetails): void {
  if (commit.deviceId !== expected.deviceId || !COMMITTED_STATES.includes(commit.state)) {
    throw fail(
      'COMMIT_MISMATCH',
      `The board answered COMMIT with ${commit.deviceId} in state ${commit.state}, not ${String(expected.deviceId)} committed: set it aside as faulty.`,
      false,
    );
  }
  if (!commit.changed) {
    throw fail(
      'COMMIT_MISMATCH',
      'The board answered COMMIT with changed=0 although the station had just staged the credentials: it stored nothing; set it aside as faulty.',
      false,
    );
  }
}

/** The values write-credentials records about what it wrote (and a read-back can confirm). */
export const WRITTEN_FIELDS = [
  'deviceId',
  'cloudPublicKey',
  'networkId',
  'networkKeyFp',
  'mqttTokenFp',
  'mqttExpiresAt',
  'derivedKeyFp',
  'derivedInterface',
] as const;

/** The expected fields the board's read-back does not match. */
export function mismatchedFields(expected: StepDetails, readback: ReadbackReply): string[] {
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
  return Object.keys(expected).filter((key) => actual[key] !== expected[key]);
}

/**
 * Step 8 (continued): the board proves it derives the same keys as the cloud. The sign key comes from the
 * backend's shared secret for this device and security state; a written derived key is checked against the
 * board's own derivation for the same GPS day.
 */
export async function verify(input: {
  batch: BatchContext;
  board: BoardPort;
  device: Device;
  identity: BoardIdentity;
  /** The backend's shared secret for this device (fetched in key agreement; the workflow wipes it). */
  sharedSecret: SecretBytes;
  cloudPublicKey: Buffer;
  derivedKey: DerivedKey | null;
}): Promise<StepOutput<null>> {
  const { batch, board, device } = input;
  const details: StepDetails = {};

  const nonce = randomBytes(VERIFY_NONCE_BYTES);
  const proof = await board.verify(nonce, 'sign');
  const shared = input.sharedSecret;
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
  const keyId = deviceKeyId(input.cloudPublicKey, input.identity.devicePublicKey)
    .toString(16)
    .padStart(6, '0');
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
  if (derived && input.derivedKey) {
    const { key, gpsDay } = input.derivedKey;
    // The backend salted with its own clock's day; around midnight that may be the day before or after ours.
    let matchedDay: number | undefined;
    for (const candidate of [gpsDay, gpsDay - 1, gpsDay + 1]) {
      const dayNonce = randomBytes(VERIFY_NONCE_BYTES);
      const answer = await board.verify(dayNonce, derived.interface, candidate);
      const expected = key.use((bytes) => verifyProof(bytes, dayNonce, device.deviceId));
      if (proofsEqual(answer.mac, expected)) {
        matchedDay = candidate;
        break;
      }
    }
    if (matchedDay === undefined) {
      throw fail(
        'VERIFY_FAILED',
        `The board's ${derived.interface} key differs from the cloud's derived key: retry once; if it fails again set the board aside.`,
        true,
      );
    }
    details.derivedProofOk = true;
    details.derivedGpsDay = matchedDay;
  }
  return passed(null, details);
}
