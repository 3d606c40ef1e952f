import { randomBytes } from 'node:crypto';
import type { Device, MqttToken, SecretBytes } from '../../backend';
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
  derivedKey: DerivedKey | null;
}

/**
 * Step 6: the board answers a fresh challenge with its security state; with it the backend can derive keys for a
 * device it has never heard from. The derived key is fetched here only when the recipe writes one.
 */
export async function keyAgreement(input: {
  batch: BatchContext;
  board: BoardPort;
  identity: BoardIdentity;
  device: Device;
  now: () => Date;
}): Promise<StepOutput<KeyAgreement>> {
  const { batch, identity, device } = input;
  const state = await input.board.challenge(randomBytes(CHALLENGE_BYTES));
  if (!state.devicePublicKey.equals(identity.devicePublicKey)) {
    throw fail(
      'VERIFY_FAILED',
      'The board answered the challenge with another public key than it reported: set it aside as faulty.',
      false,
    );
  }
  const details = { challengeResponseType: state.challengeResponseType, networkId: state.networkId };
  const derived = batch.recipe.credentials.derivedKey;
  if (!derived) return passed({ securityState: state, derivedKey: null }, details);
  const gpsDay = gpsDayNumber(input.now());
  const key = await batch.cloud.deriveDeviceKey(device.deviceId, derived.interface, state);
  return passed(
    { securityState: state, derivedKey: { key, gpsDay } },
    { ...details, derivedInterface: derived.interface, derivedKeyFp: key.fingerprint },
  );
}

/** Step 7: an MQTT token scoped to the organisation, when the recipe asks for one. */
export async function mqttToken(input: { batch: BatchContext }): Promise<StepOutput<MqttToken | null>> {
  const ask = input.batch.recipe.credentials.mqttToken;
  if (!ask) return skipped(null);
  const token = await input.batch.cloud.mqttToken(ask.ttlSeconds);
  return passed(token, {
    mqttTokenFp: token.token.fingerprint,
    issuedAt: token.issuedAt.toISOString(),
    expiresAt: token.expiresAt.toISOString(),
  });
}
