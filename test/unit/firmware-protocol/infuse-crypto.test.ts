import { describe, expect, it } from 'vitest';
import {
  deriveInterfaceKey,
  deriveSignKey,
  deviceKeyId,
  gpsDayNumber,
  hardwareIdFromMcuId,
  openChallengeResponse,
  sealChallengeResponse,
  secretFingerprint,
  securityStateFromJson,
  securityStateToJson,
  verifyProof,
  x25519KeyPairFromPrivate,
  x25519SharedSecret,
  generateX25519KeyPair,
} from '../../../firmware-protocol';
import {
  DEVELOPMENT_CLOUD_PUBLIC_KEY,
  developmentCloudPrivateKey,
} from '../../../firmware-protocol/virtual-board';
import { EXAMPLE } from '../../support/protocol-transcript';

// Pinned from PROTOCOL.md section 10: changing any of these changes bytes on the wire.
const DEVICE_PUBLIC = 'fMrFY8Wfu7pm+jn3V6ssrzCnAUj3yECMefvbXkFE9SM=';
const SHARED = '1e29b42ee4e2cae4160a425ea00e05c77ec344ab8c4d3cb2ae42616166e3be67';
const SIGN_KEY = '0f3798cb9594ac080f99e8e9c5e3782cbacf8a1defecb94e01e7b6e15c47b2cf';

describe('Infuse crypto vectors', () => {
  it('derives the example key pair, shared secret, sign key and key id', () => {
    expect(developmentCloudPrivateKey().toString('hex')).toBe(
      'be0de691257929338030be85e16a107a2fcec20b343a39041648162108a782cd',
    );
    expect(DEVELOPMENT_CLOUD_PUBLIC_KEY.toString('base64')).toBe(
      '0pcMcZ630e5yvLfLPBILyvEVYHLRtCn3/43E1M21jAM=',
    );
    const device = x25519KeyPairFromPrivate(EXAMPLE.devicePrivateKey);
    expect(device.publicKey.toString('base64')).toBe(DEVICE_PUBLIC);
    const shared = x25519SharedSecret(EXAMPLE.devicePrivateKey, DEVELOPMENT_CLOUD_PUBLIC_KEY);
    expect(shared.toString('hex')).toBe(SHARED);
    // Both ends of the key agreement meet.
    expect(x25519SharedSecret(developmentCloudPrivateKey(), device.publicKey).toString('hex')).toBe(SHARED);
    expect(deriveSignKey(shared).toString('hex')).toBe(SIGN_KEY);
    expect(deviceKeyId(DEVELOPMENT_CLOUD_PUBLIC_KEY, device.publicKey).toString(16)).toBe('25ba40');
  });

  it('derives interface keys salted by the GPS day', () => {
    const shared = Buffer.from(SHARED, 'hex');
    // 2026-11-25T12:00:00Z: Unix 1795608000; GPS seconds 1479643218; day 17125.
    expect(gpsDayNumber(new Date('2026-11-25T12:00:00Z'))).toBe(17125);
    expect(gpsDayNumber(new Date('1980-01-06T00:00:00Z'))).toBe(0);
    expect(deriveInterfaceKey(shared, 'serial', 17125).toString('hex')).toBe(
      '3f58151de318fa83eccb71e20624444c57d3b65435119781fa1fc4c8619fa993',
    );
    expect(deriveInterfaceKey(shared, 'serial', 16845).equals(deriveInterfaceKey(shared, 'udp', 16845))).toBe(
      false,
    );
    expect(
      deriveInterfaceKey(shared, 'serial', 16845).equals(deriveInterfaceKey(shared, 'serial', 16846)),
    ).toBe(false);
  });

  it('fingerprints are the first 8 bytes of SHA-256', () => {
    expect(secretFingerprint(Buffer.from(Array.from({ length: 32 }, (_, i) => 0x40 + i)))).toBe(
      'ca2a4fe727faaecf',
    );
    expect(secretFingerprint('abc')).toBe('ba7816bf8f01cfea');
  });

  it('computes the example VERIFY proof', () => {
    const nonce = Buffer.from('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'hex');
    expect(verifyProof(Buffer.from(SIGN_KEY, 'hex'), nonce, 'd291d4d66bf0a955').toString('base64')).toBe(
      'Oev9+EpMHun/jxk7gyNDi7r1tzWxyGA4gPYT/7TF7P0=',
    );
  });

  it('pads the hardware id on the left', () => {
    expect(hardwareIdFromMcuId('9c4a7e21d0b35f68').toString('hex')).toBe('00000000000000009c4a7e21d0b35f68');
    expect(() => hardwareIdFromMcuId('xyz')).toThrow(RangeError);
  });
});

describe('security state', () => {
  const device = generateX25519KeyPair();
  const seal = (deviceId = 'ffffffffffffffff') =>
    sealChallengeResponse({
      devicePrivateKey: device.privateKey,
      cloudPublicKey: DEVELOPMENT_CLOUD_PUBLIC_KEY,
      networkId: 1193046,
      challenge: Buffer.alloc(16, 7),
      hardwareId: hardwareIdFromMcuId('0011223344556677'),
      deviceId,
    });

  it('opens what a board sealed, through the JSON form the API carries', () => {
    const state = securityStateFromJson(securityStateToJson(seal('d291d4d66bf0a955')));
    const opened = openChallengeResponse(state, developmentCloudPrivateKey());
    expect(opened).toEqual({
      ok: true,
      value: {
        challenge: Buffer.alloc(16, 7),
        hardwareId: hardwareIdFromMcuId('0011223344556677'),
        deviceId: 'd291d4d66bf0a955',
      },
    });
  });

  it('refuses a tampered response, a changed field, a wrong cloud key and a swapped challenge', () => {
    const state = seal();
    const flipped = Buffer.from(state.challengeResponse);
    flipped[20]! ^= 1;
    expect(
      openChallengeResponse({ ...state, challengeResponse: flipped }, developmentCloudPrivateKey()),
    ).toEqual({
      ok: false,
      reason: 'authentication-failed',
    });
    expect(openChallengeResponse({ ...state, networkId: 1 }, developmentCloudPrivateKey())).toMatchObject({
      ok: false,
    });
    expect(openChallengeResponse(state, generateX25519KeyPair().privateKey)).toMatchObject({ ok: false });
    expect(
      openChallengeResponse({ ...state, challenge: Buffer.alloc(16, 8) }, developmentCloudPrivateKey()),
    ).toMatchObject({
      ok: false,
    });
    expect(
      openChallengeResponse({ ...state, challengeResponseType: 1 }, developmentCloudPrivateKey()),
    ).toEqual({
      ok: false,
      reason: 'unsupported-type',
    });
    expect(
      openChallengeResponse({ ...state, challengeResponse: Buffer.alloc(3) }, developmentCloudPrivateKey()),
    ).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });
});
