import { describe, expect, it } from 'vitest';
import { OpenApiContract } from '../../../electron/backend';

const contract = OpenApiContract.load();
const now = new Date().toISOString();
const device = {
  id: '6f1c1a43-4b6f-4d39-9c61-3c5a8f0f4a11',
  createdAt: now,
  updatedAt: now,
  mcuId: '0011223344556677',
  boardId: '6f1c1a43-4b6f-4d39-9c61-3c5a8f0f4a12',
  organisationId: '6f1c1a43-4b6f-4d39-9c61-3c5a8f0f4a13',
  deviceId: 'd291d4d66bf0a955',
  metadata: {},
};

describe('OpenApiContract (in-repo infuse-openapi.yaml)', () => {
  it('matches concrete paths to the most specific template', () => {
    expect(contract.matchPath('GET', '/device/deviceId/d291d4d66bf0a955/state')).toBe(
      '/device/deviceId/{deviceId}/state',
    );
    expect(contract.matchPath('GET', '/device/deviceId/d291d4d66bf0a955')).toBe(
      '/device/deviceId/{deviceId}',
    );
    expect(contract.matchPath('GET', '/organisation?limit=10')).toBe('/organisation');
    expect(contract.matchPath('DELETE', '/health')).toBeUndefined();
    expect(contract.matchPath('POST', '/sandbox/uplink')).toBeUndefined();
  });

  it('accepts a good body and ignores unknown fields', () => {
    expect(contract.validateResponse('GET', '/device/id/{id}', 200, { ...device, futureField: [1] })).toEqual(
      {
        ok: true,
      },
    );
  });

  it('catches a broken response (negative test of the validator itself)', () => {
    const { deviceId: _dropped, ...withoutDeviceId } = device;
    expect(contract.validateResponse('GET', '/device/id/{id}', 200, withoutDeviceId)).toEqual({
      ok: false,
      errors: ["(root) must have required property 'deviceId'"],
    });
    expect(contract.validateResponse('GET', '/device/id/{id}', 200, { ...device, id: 'not-a-uuid' })).toEqual(
      {
        ok: false,
        errors: ['/id must match format "uuid"'],
      },
    );
    expect(contract.validateResponse('GET', '/key/publicKey', 200, 'not json')).toEqual({
      ok: false,
      errors: ['(root) must be object'],
    });
  });

  it('holds undeclared statuses to the documented fallback', () => {
    expect(
      contract.validateResponse('POST', '/key/sharedSecret', 400, { code: 400, message: 'bad key' }),
    ).toEqual({
      ok: true,
    });
    expect(contract.validateResponse('GET', '/health', 503, { error: 'down' })).toEqual({
      ok: false,
      errors: ["(root) must have required property 'code'", "(root) must have required property 'message'"],
    });
    expect(contract.validateResponse('GET', '/health', 201, { health: 'ok' })).toEqual({
      ok: false,
      errors: ['status 201 is not declared for GET /health'],
    });
  });

  it('validates request bodies', () => {
    expect(
      contract.validateRequestBody('POST', '/mqtt/token', { organisationId: device.organisationId }),
    ).toEqual({
      ok: false,
      errors: ["(root) must have required property 'ttlSeconds'"],
    });
    expect(contract.validateRequestBody('GET', '/health', undefined)).toEqual({ ok: true });
  });
});
