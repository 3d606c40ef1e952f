import { randomBytes } from 'node:crypto';
import { unwrap } from '../../backend';
import { CHALLENGE_BYTES, gpsDayNumber } from '../../../firmware-protocol';
import { fail } from '../errors';
import { require, type StepResult, type UnitContext } from '../unit-context';

/**
 * Step 6: the board answers a fresh challenge with its security state; with it the backend can derive keys for a
 * device it has never heard from. The derived key is fetched here only when the recipe writes one.
 */
export async function keyAgreement(unit: UnitContext): Promise<StepResult> {
  const identity = require(unit.identity, 'identity');
  const device = require(unit.device, 'device');
  const { batch } = unit;
  const state = await unit.session.challenge(randomBytes(CHALLENGE_BYTES));
  if (!state.devicePublicKey.equals(identity.devicePublicKey)) {
    throw fail(
      'VERIFY_FAILED',
      'The board answered the challenge with another public key than it reported: set it aside as faulty.',
      false,
    );
  }
  unit.securityState = state;
  const derived = batch.recipe.credentials.derivedKey;
  if (!derived)
    return { details: { challengeResponseType: state.challengeResponseType, networkId: state.networkId } };
  const day = gpsDayNumber(unit.now());
  unit.derivedKey = unwrap(
    await batch.backend(() => batch.client.deriveDeviceKey(device.deviceId, derived.interface, state)),
  );
  unit.derivedKeyGpsDay = day;
  return {
    details: {
      challengeResponseType: state.challengeResponseType,
      networkId: state.networkId,
      derivedInterface: derived.interface,
      derivedKeyFp: unit.derivedKey.fingerprint,
    },
  };
}

/** Step 7: an MQTT token scoped to the organisation, when the recipe asks for one. */
export async function mqttToken(unit: UnitContext): Promise<StepResult> {
  const ask = unit.batch.recipe.credentials.mqttToken;
  if (!ask) return { skipped: true, details: {} };
  const { batch } = unit;
  const token = unwrap(
    await batch.backend(() => batch.client.mqttToken(batch.organisationId, ask.ttlSeconds)),
  );
  unit.mqttToken = token;
  return {
    details: {
      mqttTokenFp: token.token.fingerprint,
      issuedAt: token.issuedAt.toISOString(),
      expiresAt: token.expiresAt.toISOString(),
    },
  };
}
