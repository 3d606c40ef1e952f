import { describe, expect, it } from 'vitest';
import { findSecretLikeKey, isSecretLikeKey } from '../../../electron/audit/index';

describe('the secret-key rule', () => {
  it.each([
    'apiKey',
    'sharedSecret',
    'derivedKey',
    'networkKey',
    'mqttToken',
    'token',
    'key',
    'secret',
    'password',
    'API_KEY',
    'Password',
    'keySlot',
    'apiKeySecret',
    'tokens',
  ])('%s is refused', (name) => expect(isSecretLikeKey(name)).toBe(true));

  it.each([
    'derivedKeyFp',
    'networkKeyId',
    'apiKeyFingerprint',
    'secretFingerprints',
    'keyIds',
    'mqtt_token_id',
    'shared_secret_fp',
    'deviceId',
    'mcuId',
    'reason',
    'durationMs',
    'devicePublicKey',
    'cloud_public_key',
  ])('%s is allowed', (name) => expect(isSecretLikeKey(name)).toBe(false));

  it('looks at every depth and names the path', () => {
    expect(findSecretLikeKey({ a: [{ b: { 'odd name': { Token: 1 } } }] })).toBe(
      'details.a[0].b["odd name"].Token',
    );
    expect(findSecretLikeKey({ a: [1, 'key', { keyFp: 'x' }] })).toBeNull();
  });
});
