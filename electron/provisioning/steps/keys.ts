import { randomBytes } from 'node:crypto';
import { SecretBytes, type Device, type MqttToken } from '../../backend';
import type { BoardIdentity } from '../../serial';
import { CHALLENGE_BYTES, gpsDayNumber, type SecurityStateBytes } from '../../../firmware-protocol';
import type { BatchContext } from '../batch-context';
import { fail } from '../errors';
import type { BoardPort } from '../ports';
import { passed, skipped, type StepOutput } from './step';

/** A derived device key and the GPS day that salted it. Wiped by the workflow when the unit ends. */
export interface DerivedKey {
  key: SecretBytes;
  gpsDay: number;
}

export interface KeyAgreement {
  securityState: SecurityStateBytes;
  /** The backend's shared secret for this device and state: the verify step checks the board's proof with it. */
  sharedSecret: SecretBytes;
  derivedKey: DerivedKey | null;
  /** Fetched beside the keys (it is organisation-scoped, needs nothing of the device). */
  mqttToken: MqttToken | null;
}

/**
 * Sends the board a fresh challenge and returns its answer to come. The workflow starts it while the backend
 * creates the device record: the board's security state needs nothing of the record and the record nothing of
 * the board's answer, so the serial round trip hides behind the backend's. A failure is the key-agreement step's
 * (it awaits the answer); a unit that stops before then leaves the answer unread, without an unhandled rejection.
 */
export function challengeBoard(board: BoardPort): Promise<SecurityStateBytes> {
  const answer = board.challenge(randomBytes(CHALLENGE_BYTES));
  answer.catch(() => undefined);
  return answer;
}

/**
 * Step 6: the board's answer to a fresh challenge (sent beside the device record, see `challengeBoard`) carries
 * its security state; with it the backend can derive keys for a device it has never heard from. Everything the
 * unit needs from the backend after the device record is asked at once, side by side: the shared secret, the
 * derived key (when the recipe writes one) and the MQTT token (when it asks for one), so a unit waits on the
 * device record, then on these as one round trip.
 */
export async function keyAgreement(input: {
  batch: BatchContext;
  /** The board's answer to the challenge, from `challengeBoard`. */
  challenged: Promise<SecurityStateBytes>;
  identity: BoardIdentity;
  device: Device;
  now: () => Date;
}): Promise<StepOutput<KeyAgreement>> {
  const { batch, identity, device } = input;
  const state = await input.challenged;
  if (!state.devicePublicKey.equals(identity.devicePublicKey)) {
    throw fail(
      'VERIFY_FAILED',
      'The board answered the challenge with another public key than it reported: set it aside as faulty.',
      false,
    );
  }
  const derived = batch.recipe.credentials.derivedKey;
  const token = batch.recipe.credentials.mqttToken;
  const gpsDay = gpsDayNumber(input.now());
  const [shared, key, mqtt] = await settleAll([
    batch.cloud.deviceSharedSecret(device.deviceId, state),
    derived ? batch.cloud.deriveDeviceKey(device.deviceId, derived.interface, state) : Promise.resolve(null),
    token ? batch.cloud.mqttToken(token.ttlSeconds) : Promise.resolve(null),
  ]);
  return passed(
    {
      securityState: state,
      sharedSecret: shared,
      derivedKey: key ? { key, gpsDay } : null,
      mqttToken: mqtt,
    },
    {
      challengeResponseType: state.challengeResponseType,
      challengedInStep: 'device-record',
      networkId: state.networkId,
      sharedSecretFp: shared.fingerprint,
      ...(derived && key && { derivedInterface: derived.interface, derivedKeyFp: key.fingerprint }),
    },
  );
}

/**
 * Promise.all for secrets: when one request fails, the secrets the others returned are wiped (nothing else holds
 * them), and the first failure is thrown.
 */
async function settleAll<T extends readonly unknown[]>(work: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((result) => result.status === 'rejected');
  if (!failed)
    return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
  for (const result of settled) {
    if (result.status !== 'fulfilled') continue;
    const value: unknown = result.value;
    if (value instanceof SecretBytes) value.wipe();
    if (value && typeof value === 'object' && 'token' in value && value.token instanceof SecretBytes)
      value.token.wipe();
  }
  throw (failed as PromiseRejectedResult).reason;
}

/** Step 7: the MQTT token (fetched beside the keys in step 6), when the recipe asks for one. */
export function mqttToken(input: { token: MqttToken | null }): Promise<StepOutput<MqttToken | null>> {
  const { token } = input;
  if (!token) return Promise.resolve(skipped(null));
  return Promise.resolve(
    passed(token, {
      mqttTokenFp: token.token.fingerprint,
      issuedAt: token.issuedAt.toISOString(),
      expiresAt: token.expiresAt.toISOString(),
      fetchedInStep: 'key-agreement',
    }),
  );
}
