import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  UNPROVISIONED_DEVICE_ID,
  deriveInterfaceKey,
  deriveSignKey,
  generateX25519KeyPair,
  gpsDayNumber,
  hardwareIdFromMcuId,
  sealChallengeResponse,
  securityStateToJson,
  x25519KeyPairFromPrivate,
  x25519SharedSecret,
  type SecurityStateBytes,
} from '../../../firmware-protocol';
import { unwrap, type Device } from '../../../electron/backend';
import { SANDBOX_CLOUD_PUBLIC_KEY, sealUplink, sendUplink } from '../../../electron/sandbox';
import { freshMcuId, startHarness, type Harness, errorOf } from './contract-harness';

/**
 * Fixed inputs so the derived keys are fixed vectors. The hex literals below were computed once with the
 * firmware-protocol crypto and cross-checked with an independent implementation (Python `cryptography` X25519 and
 * an RFC 5869 HKDF written over hmac/hashlib); they pin the sandbox's behaviour, not just agreement with itself.
 */
const DEVICE_PRIVATE = createHash('sha256').update('crypto test device key 1').digest();
const DEVICE = x25519KeyPairFromPrivate(DEVICE_PRIVATE);
const FIXED_NOW = new Date('2025-06-01T12:00:00Z');
const VECTORS = {
  devicePublicKey: '2a220c95c55f434f475951b2b5c915b57a95c48b9fa2f90cac5d8ef01db6c66f',
  cloudPublicKey: 'd2970c719eb7d1ee72bcb7cb3c120bcaf1156072d1b429f7ff8dc4d4cdb58c03',
  sharedSecret: 'f33d51a95944f3a8bbed71787a0a7b53ec8c5b95d2dccc057e3a861d06cac711',
  signKey: 'c89ff8f5d40c01ff6f98c140f294307998b6db974187a4563cdd8b1d3bd38b04',
  gpsDay: 16583,
  udp: '2c204361c55dd13114df4822bdd76477d0ba065ea312e7d0a49f476f816188c6',
  serial: '67fb7de09e072391a3d1accb2becf3cd57d1c8feb98f3730d6a4583b0f29f4b3',
  bt_adv: 'f235b9ef1c6de5095b095e55dead5129255717e241709514c5c87825789d55a9',
  bt_gatt: '9504bace1dfebfad59060a901568aeaa02fd983cc82702c9a05818450c6ffa7c',
} as const;

let clock = new Date(FIXED_NOW);
let h: Harness;
const cloudPublicKey = Buffer.from(SANDBOX_CLOUD_PUBLIC_KEY, 'base64');

beforeAll(async () => {
  h = await startHarness({ now: () => clock });
});
afterEach(() => {
  clock = new Date(FIXED_NOW);
  h.expectClean();
});
afterAll(async () => {
  await h.close();
});

async function newDevice(mcuId = freshMcuId()): Promise<Device> {
  return unwrap(
    await h.client.createDevice({
      mcuId,
      boardId: h.sandbox.boardId,
      organisationId: h.sandbox.organisationId,
    }),
  );
}

/** What a board answers to CHALLENGE, as the firmware-protocol defines it. */
function boardState(
  devicePrivateKey: Buffer,
  deviceId: string,
  mcuId: string,
  overrides: { cloudPublicKey?: Buffer; networkId?: number } = {},
): SecurityStateBytes {
  return sealChallengeResponse({
    devicePrivateKey,
    cloudPublicKey: overrides.cloudPublicKey ?? cloudPublicKey,
    networkId: overrides.networkId ?? h.sandbox.networkId,
    challenge: Buffer.alloc(16, 0x5a),
    hardwareId: hardwareIdFromMcuId(mcuId),
    deviceId,
  });
}

describe('key agreement', () => {
  it('the fixed vectors hold for the sandbox development cloud key', () => {
    expect(DEVICE.publicKey.toString('hex')).toBe(VECTORS.devicePublicKey);
    expect(cloudPublicKey.toString('hex')).toBe(VECTORS.cloudPublicKey);
    const shared = x25519SharedSecret(DEVICE_PRIVATE, cloudPublicKey);
    expect(shared.toString('hex')).toBe(VECTORS.sharedSecret);
    expect(deriveSignKey(shared).toString('hex')).toBe(VECTORS.signKey);
    expect(gpsDayNumber(FIXED_NOW)).toBe(VECTORS.gpsDay);
  });

  it('POST /key/sharedSecret equals the secret the device computes itself', async () => {
    const secret = unwrap(await h.client.sharedSecret(DEVICE.publicKey));
    expect(secret.use((b) => b.toString('hex'))).toBe(VECTORS.sharedSecret);
    const other = generateX25519KeyPair();
    const otherSecret = unwrap(await h.client.sharedSecret(other.publicKey));
    expect(otherSecret.equals(x25519SharedSecret(other.privateKey, cloudPublicKey))).toBe(true);
  });

  it('device shared secret and derived keys (every interface) match the device side and the pinned vectors', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    const state = boardState(DEVICE_PRIVATE, device.deviceId, mcuId);
    const shared = unwrap(await h.client.deviceSharedSecret(device.deviceId, state));
    expect(shared.use((b) => b.toString('hex'))).toBe(VECTORS.sharedSecret);
    for (const keyInterface of ['udp', 'serial', 'bt_adv', 'bt_gatt'] as const) {
      // Without a state in the body the sandbox uses the one it stored above.
      const key = unwrap(await h.client.deriveDeviceKey(device.deviceId, keyInterface));
      expect(key.use((b) => b.toString('hex'))).toBe(VECTORS[keyInterface]);
      const deviceSide = deriveInterfaceKey(
        x25519SharedSecret(DEVICE_PRIVATE, cloudPublicKey),
        keyInterface,
        gpsDayNumber(FIXED_NOW),
      );
      expect(key.equals(deviceSide)).toBe(true);
    }
  });

  it('the derived key follows the GPS day of the injected clock', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    const board = generateX25519KeyPair();
    const state = securityStateToJson(boardState(board.privateKey, device.deviceId, mcuId));
    clock = new Date(FIXED_NOW.getTime() + 86_400_000);
    const key = unwrap(await h.client.deriveDeviceKey(device.deviceId, 'udp', state));
    const expected = deriveInterfaceKey(
      x25519SharedSecret(board.privateKey, cloudPublicKey),
      'udp',
      VECTORS.gpsDay + 1,
    );
    expect(key.equals(expected)).toBe(true);
  });

  it('a blank board (deviceId ffffffffffffffff) may prove itself before its id is written', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    const board = generateX25519KeyPair();
    const state = boardState(board.privateKey, UNPROVISIONED_DEVICE_ID, mcuId);
    const shared = unwrap(await h.client.deviceSharedSecret(device.deviceId, state));
    expect(shared.equals(x25519SharedSecret(board.privateKey, cloudPublicKey))).toBe(true);
  });
});

describe('security states the sandbox refuses (400)', () => {
  const refused = async (deviceId: string, state: SecurityStateBytes | undefined, message: string) => {
    const error = errorOf(await h.client.deviceSharedSecret(deviceId, state));
    expect(error.code).toBe('BACKEND_BAD_REQUEST');
    expect(error.httpStatus).toBe(400);
    expect(error.apiMessage).toBe(message);
    const derived = errorOf(await h.client.deriveDeviceKey(deviceId, 'serial', state));
    expect(derived.apiMessage).toBe(message);
  };

  it('a tampered challenge response', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    const state = boardState(generateX25519KeyPair().privateKey, device.deviceId, mcuId);
    state.challengeResponse[20] = (state.challengeResponse[20] ?? 0) ^ 0x01;
    await refused(device.deviceId, state, 'security state refused: challenge response authentication-failed');
  });

  it('a state whose network id was changed after sealing (associated data)', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    const state = boardState(generateX25519KeyPair().privateKey, device.deviceId, mcuId);
    state.networkId ^= 1;
    await refused(device.deviceId, state, 'security state refused: challenge response authentication-failed');
  });

  it('a state that names another device', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    const state = boardState(generateX25519KeyPair().privateKey, '0123456789abcdef', mcuId);
    await refused(
      device.deviceId,
      state,
      `security state belongs to device 0123456789abcdef, not ${device.deviceId}`,
    );
  });

  it('a second device key after the first state bound one', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    unwrap(
      await h.client.deviceSharedSecret(device.deviceId, boardState(DEVICE_PRIVATE, device.deviceId, mcuId)),
    );
    const impostor = boardState(generateX25519KeyPair().privateKey, device.deviceId, mcuId);
    await refused(
      device.deviceId,
      impostor,
      `security state device public key differs from the one bound to device ${device.deviceId}`,
    );
  });

  it('a state made for another cloud key', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    const state = boardState(generateX25519KeyPair().privateKey, device.deviceId, mcuId, {
      cloudPublicKey: generateX25519KeyPair().publicKey,
    });
    await refused(
      device.deviceId,
      state,
      'security state was made for a different cloud public key (the board holds another cloud key)',
    );
  });

  it('no state in the request and none stored', async () => {
    const device = await newDevice();
    await refused(
      device.deviceId,
      undefined,
      `device ${device.deviceId} has no stored security state; send the board's securityState (challenge response) with this request`,
    );
  });

  it('an unknown device is 404', async () => {
    const error = errorOf(await h.client.deviceSharedSecret('0badc0de0badc0de'));
    expect(error.code).toBe('BACKEND_NOT_FOUND');
    expect(error.apiMessage).toBe('device 0badc0de0badc0de not found');
  });
});

describe('a device comes online (sandbox uplink)', () => {
  it('state and lastRoute are "not yet seen" until a genuine uplink, then carry its time', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    const board = generateX25519KeyPair();
    unwrap(
      await h.client.deviceSharedSecret(
        device.deviceId,
        boardState(board.privateKey, device.deviceId, mcuId),
      ),
    );
    expect(unwrap(await h.client.getDeviceState(device.deviceId))).toBeNull();
    expect(unwrap(await h.client.getDeviceLastRoute(device.deviceId))).toBeNull();

    clock = new Date('2025-06-01T12:05:00.000Z');
    const body = sealUplink(board.privateKey, cloudPublicKey, device.deviceId, clock);
    expect(await sendUplink(h.sandbox.url, body, h.sandbox.apiKey)).toEqual({ ok: true, status: 204 });

    const state = unwrap(await h.client.getDeviceState(device.deviceId));
    expect(state).toMatchObject({
      createdAt: '2025-06-01T12:05:00.000Z',
      updatedAt: '2025-06-01T12:05:00.000Z',
      lastRouteInterface: 'udp',
      lastRouteTime: '2025-06-01T12:05:00.000Z',
      lastRoute: { interface: 'udp', interfaceData: { sequence: 1 } },
    });
    const route = unwrap(await h.client.getDeviceLastRoute(device.deviceId));
    expect(route).toMatchObject({ interface: 'udp', udp: { time: '2025-06-01T12:05:00.000Z' } });
    expect(route?.udp?.address).toMatch(/^127\.0\.0\.1:\d+$/);

    clock = new Date('2025-06-01T12:06:00.000Z');
    await sendUplink(
      h.sandbox.url,
      sealUplink(board.privateKey, cloudPublicKey, device.deviceId, clock),
      h.sandbox.apiKey,
    );
    expect(unwrap(await h.client.getDeviceState(device.deviceId))).toMatchObject({
      createdAt: '2025-06-01T12:05:00.000Z',
      updatedAt: '2025-06-01T12:06:00.000Z',
      lastRoute: { interfaceData: { sequence: 2 } },
    });
  });

  it('forged, tampered and mismatched uplinks are refused and change nothing', async () => {
    const mcuId = freshMcuId();
    const device = await newDevice(mcuId);
    const board = generateX25519KeyPair();
    unwrap(
      await h.client.deviceSharedSecret(
        device.deviceId,
        boardState(board.privateKey, device.deviceId, mcuId),
      ),
    );
    const send = (body: ReturnType<typeof sealUplink>) => sendUplink(h.sandbox.url, body, h.sandbox.apiKey);

    // An impostor claims the bound public key but seals with its own private key.
    const impostor = generateX25519KeyPair();
    const forged = {
      ...sealUplink(impostor.privateKey, cloudPublicKey, device.deviceId, clock),
      devicePublicKey: board.publicKey.toString('base64'),
    };
    expect(await send(forged)).toEqual({
      ok: false,
      status: 401,
      message: 'uplink refused: authentication-failed',
    });

    // An impostor with its own (unbound) key.
    expect(await send(sealUplink(impostor.privateKey, cloudPublicKey, device.deviceId, clock))).toEqual({
      ok: false,
      status: 401,
      message: `uplink device public key does not match the key bound to device ${device.deviceId}`,
    });

    // A genuine uplink with one payload bit flipped.
    const genuine = sealUplink(board.privateKey, cloudPublicKey, device.deviceId, clock);
    const payload = Buffer.from(genuine.payload, 'base64');
    payload[0] = (payload[0] ?? 0) ^ 0x80;
    expect(await send({ ...genuine, payload: payload.toString('base64') })).toEqual({
      ok: false,
      status: 401,
      message: 'uplink refused: authentication-failed',
    });

    // A wrong-length nonce, and an unknown device.
    expect(await send({ ...genuine, nonce: Buffer.alloc(8).toString('base64') })).toEqual({
      ok: false,
      status: 400,
      message: 'uplink is malformed',
    });
    expect((await send(sealUplink(board.privateKey, cloudPublicKey, '0badc0de0badc0de', clock))).status).toBe(
      404,
    );

    expect(unwrap(await h.client.getDeviceState(device.deviceId))).toBeNull();
  });
});
