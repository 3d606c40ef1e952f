import { describe, expect, it } from 'vitest';
import { AUTH_MODES, InfuseClient, SecretBytes, unwrap } from '../../../electron/backend';
import { freshMcuId, type Harness, errorOf, useHarness } from './contract-harness';

let h: Harness;
useHarness((harness) => (h = harness));

describe('InfuseClient against the sandbox: every endpoint', () => {
  it('health', async () => {
    expect(unwrap(await h.client.health())).toEqual({ health: 'ok' });
  });

  it('organisations: list, create, by id, by name (null when absent)', async () => {
    const created = unwrap(await h.client.createOrganisation({ name: 'Acme Widgets' }));
    expect(created.name).toBe('Acme Widgets');
    expect(unwrap(await h.client.getOrganisationById(created.id))).toEqual(created);
    expect(unwrap(await h.client.getOrganisationByName('Acme Widgets'))).toEqual(created);
    expect(unwrap(await h.client.getOrganisationByName('No Such Org'))).toBeNull();
    const all = unwrap(await h.client.listAllOrganisations());
    expect(all.map((o) => o.id)).toContain(created.id);
    expect(all.map((o) => o.id)).toContain(h.sandbox.organisationId);
  });

  it('boards: list, create, by id', async () => {
    const board = unwrap(
      await h.client.createBoard({
        name: 'Sensor v2',
        description: 'Sensor board rev 2',
        soc: 'nRF52833',
        organisationId: h.sandbox.organisationId,
      }),
    );
    expect(board).toMatchObject({ soc: 'nRF52833', public: false, metadataFields: [] });
    expect(unwrap(await h.client.getBoardById(board.id))).toEqual(board);
    const boards = unwrap(await h.client.listBoards(h.sandbox.organisationId));
    expect(boards.map((b) => b.id)).toEqual(expect.arrayContaining([board.id, h.sandbox.boardId]));
  });

  it('networks: list and create, keys wrapped as SecretBytes', async () => {
    const key = SecretBytes.fromBytes(Buffer.alloc(32, 7), 'network-key');
    const network = unwrap(
      await h.client.createNetwork({
        name: 'Line 3',
        description: 'Line 3 network',
        organisationId: h.sandbox.organisationId,
        networkId: 0x123456,
        key,
      }),
    );
    expect(network.key).toBeInstanceOf(SecretBytes);
    expect(network.key.equals(key)).toBe(true);
    const networks = unwrap(await h.client.listNetworks(h.sandbox.organisationId));
    const seeded = networks.find((n) => n.id === h.sandbox.networkUuid);
    expect(seeded?.networkId).toBe(h.sandbox.networkId);
    expect(seeded?.key.length).toBe(32);
    expect(networks.map((n) => n.networkId)).toContain(0x123456);
  });

  it('devices: create, by deviceId, by id, by soc+mcuId (null when absent), state and lastRoute (null before seen)', async () => {
    const mcuId = freshMcuId();
    const device = unwrap(
      await h.client.createDevice({
        mcuId,
        boardId: h.sandbox.boardId,
        organisationId: h.sandbox.organisationId,
        metadata: { batch: 'B-1' },
      }),
    );
    expect(device.deviceId).toMatch(/^[0-9a-f]{16}$/);
    expect(device.deviceId.startsWith('ffff')).toBe(false);
    expect(device.metadata).toEqual({ batch: 'B-1' });
    expect(unwrap(await h.client.getDeviceByDeviceId(device.deviceId))).toEqual(device);
    expect(unwrap(await h.client.getDeviceById(device.id))).toEqual(device);
    expect(unwrap(await h.client.getDeviceBySocAndMcuId('nRF52840', mcuId))).toEqual(device);
    expect(unwrap(await h.client.getDeviceBySocAndMcuId('nRF52840', freshMcuId()))).toBeNull();
    // The soc is the board's: the same chip id on another soc is another chip.
    expect(unwrap(await h.client.getDeviceBySocAndMcuId('nRF5340', mcuId))).toBeNull();
    expect(unwrap(await h.client.getDeviceState(device.deviceId))).toBeNull();
    expect(unwrap(await h.client.getDeviceLastRoute(device.deviceId))).toBeNull();
    const listed = unwrap(await h.client.listAllDevices(h.sandbox.organisationId));
    expect(listed.map((d) => d.id)).toContain(device.id);
  });

  it('devices: a caller-chosen deviceId is kept', async () => {
    const device = unwrap(
      await h.client.createDevice({
        mcuId: freshMcuId(),
        deviceId: 'd291d4d66bf0a955',
        boardId: h.sandbox.boardId,
        organisationId: h.sandbox.organisationId,
      }),
    );
    expect(device.deviceId).toBe('d291d4d66bf0a955');
  });

  it('keys: cloud public key, shared secret from a device public key', async () => {
    const cloud = unwrap(await h.client.getCloudPublicKey());
    expect(cloud.toString('base64')).toBe(h.sandbox.cloudPublicKey);
    const secret = unwrap(await h.client.sharedSecret(Buffer.alloc(32, 9)));
    expect(secret).toBeInstanceOf(SecretBytes);
    expect(secret.length).toBe(32);
  });

  it('MQTT token: opaque secret with issue and expiry times', async () => {
    const token = unwrap(await h.client.mqttToken(h.sandbox.organisationId, 600));
    expect(token.token.revealText()).toMatch(/^sbx_mqtt_[A-Za-z0-9_-]{43}$/);
    expect(token.expiresAt.getTime() - token.issuedAt.getTime()).toBe(600_000);
  });
});

describe('auth modes', () => {
  it.each(AUTH_MODES)('%s is accepted by the sandbox', async (authMode) => {
    const client = h.newClient({ authMode });
    expect(unwrap(await client.listOrganisations({ limit: 1 }))).toHaveLength(1);
  });

  it.each(AUTH_MODES)(
    '%s with a wrong key gives BACKEND_UNAUTHORIZED with the operator text',
    async (authMode) => {
      const client = h.newClient({ authMode, apiKey: 'sbx_wrong' });
      const error = errorOf(await client.listOrganisations());
      expect(error.code).toBe('BACKEND_UNAUTHORIZED');
      expect(error.httpStatus).toBe(401);
      expect(error.apiCode).toBe(401);
      expect(error.apiMessage).toBe('invalid API key');
      expect(error.endpoint).toBe('GET /organisation');
      expect(error.attempts).toBe(1);
      expect(error.message).toBe(
        "BACKEND_UNAUTHORIZED GET /organisation (HTTP 401): The provisioning backend rejected the station's API key. Ask IT to check the API key stored for this station and the auth header mode in the station config.",
      );
    },
  );
});

describe('observers', () => {
  it('a throwing exchange observer or logger does not turn a call into a rejection', async () => {
    const client = h.newClient({
      onExchange: () => {
        throw new Error('observer broke');
      },
      logger: () => {
        throw new Error('logger broke');
      },
    });
    expect(unwrap(await client.health())).toEqual({ health: 'ok' });
  });
});

describe('paging', () => {
  it('the default page is 10, and listAll pages through more than 10 items', async () => {
    const org = unwrap(await h.client.createOrganisation({ name: 'Paging Org' }));
    const names = Array.from({ length: 23 }, (_, i) => `Board ${String(i).padStart(2, '0')}`);
    for (const name of names) {
      unwrap(await h.client.createBoard({ name, description: name, soc: 'rp2040', organisationId: org.id }));
    }
    expect(unwrap(await h.client.listBoards(org.id))).toHaveLength(10);
    expect(unwrap(await h.client.listBoards(org.id, { limit: 5, offset: 20 })).map((b) => b.name)).toEqual(
      names.slice(20),
    );
    for (const pageSize of [10, 7, 23, 100]) {
      const all = unwrap(await h.client.listAllBoards(org.id, pageSize));
      expect(all.map((b) => b.name)).toEqual(names);
    }
    for (let i = 0; i < 12; i++) unwrap(await h.client.createOrganisation({ name: `Paging Org ${i}` }));
    const orgs = unwrap(await h.client.listAllOrganisations(10));
    expect(orgs.length).toBeGreaterThan(12);
    expect(new Set(orgs.map((o) => o.id)).size).toBe(orgs.length);
  });
});

describe('error texts', () => {
  it('404 on a lookup by id', async () => {
    const error = errorOf(await h.client.getOrganisationById('6f1c1a43-4b6f-4d39-9c61-3c5a8f0f4a11'));
    expect(error.toJSON()).toEqual({
      name: 'BackendError',
      code: 'BACKEND_NOT_FOUND',
      endpoint: 'GET /organisation/id/{id}',
      httpStatus: 404,
      apiCode: 404,
      apiMessage: 'organisation 6f1c1a43-4b6f-4d39-9c61-3c5a8f0f4a11 not found',
      attempts: 1,
      operatorMessage:
        'The provisioning backend has no such record: "organisation 6f1c1a43-4b6f-4d39-9c61-3c5a8f0f4a11 not found". Check the ids in the recipe or work order.',
      message:
        'BACKEND_NOT_FOUND GET /organisation/id/{id} (HTTP 404): The provisioning backend has no such record: "organisation 6f1c1a43-4b6f-4d39-9c61-3c5a8f0f4a11 not found". Check the ids in the recipe or work order.',
    });
  });

  it('409 on a duplicate mcuId and a duplicate deviceId', async () => {
    const mcuId = freshMcuId();
    const body = { mcuId, boardId: h.sandbox.boardId, organisationId: h.sandbox.organisationId };
    const first = unwrap(await h.client.createDevice(body));
    const again = errorOf(await h.client.createDevice(body));
    expect(again.code).toBe('BACKEND_CONFLICT');
    expect(again.operatorMessage).toBe(
      `The provisioning backend already has a record with this identity: "a device with mcuId ${mcuId} on soc nRF52840 already exists". Look the record up instead of creating it again; if it belongs to another unit, set this board aside for QA.`,
    );
    const sameId = errorOf(
      await h.client.createDevice({ ...body, mcuId: freshMcuId(), deviceId: first.deviceId }),
    );
    expect(sameId.code).toBe('BACKEND_CONFLICT');
    expect(sameId.apiMessage).toBe(`deviceId ${first.deviceId} is already in use`);
  });

  it('400 on bad input, with the server message quoted', async () => {
    const error = errorOf(
      await h.client.createDevice({
        mcuId: 'XYZ',
        boardId: h.sandbox.boardId,
        organisationId: h.sandbox.organisationId,
      }),
    );
    expect(error.code).toBe('BACKEND_BAD_REQUEST');
    expect(error.operatorMessage).toBe(
      'The provisioning backend refused the request as invalid: "mcuId must be 16 or 24 lowercase hex characters". Check the recipe and the board\'s identity; report it to engineering if it repeats.',
    );
    const blank = errorOf(
      await h.client.createDevice({
        mcuId: freshMcuId(),
        deviceId: 'ffff000000000001',
        boardId: h.sandbox.boardId,
        organisationId: h.sandbox.organisationId,
      }),
    );
    expect(blank.apiMessage).toBe('deviceId must be 16 lowercase hex characters and not start with ffff');
  });

  it('MQTT ttl out of range is refused before any request', async () => {
    const before = h.exchanges;
    const error = errorOf(await h.client.mqttToken(h.sandbox.organisationId, 59));
    expect(h.exchanges).toBe(before);
    expect(error.message).toBe(
      'BACKEND_INVALID_ARGUMENT POST /mqtt/token: MQTT token lifetime must be a whole number of seconds from 60 to 86400, got 59. Fix the value in the recipe or station config.',
    );
  });

  it('an unreachable backend gives BACKEND_UNREACHABLE after retries', async () => {
    const client = new InfuseClient({
      baseUrl: 'http://127.0.0.1:9',
      apiKey: 'k',
      authMode: 'x-api-key-bearer',
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const error = errorOf(await client.health());
    expect(error.code).toBe('BACKEND_UNREACHABLE');
    expect(error.attempts).toBe(2);
    expect(error.message).toBe(
      "BACKEND_UNREACHABLE GET /health: Cannot reach the provisioning backend (connection refused) after 2 attempts. Check the station's network connection and the backend URL in the station config, then retry the unit.",
    );
  });
});
