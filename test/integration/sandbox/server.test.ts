import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  generateX25519KeyPair,
  hardwareIdFromMcuId,
  sealChallengeResponse,
  securityStateToJson,
} from '../../../firmware-protocol';
import {
  SANDBOX_CLOUD_PUBLIC_KEY,
  sealUplink,
  sendUplink,
  startSandbox,
  type SandboxHandle,
} from '../../../electron/sandbox';

let sb: SandboxHandle;
beforeAll(async () => {
  sb = await startSandbox({ contractCheck: true });
});
afterEach(() => {
  sb.faults.clear();
  expect(sb.contractViolations).toEqual([]);
});
afterAll(async () => {
  await sb.close();
});

interface Reply {
  status: number;
  body: unknown;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> | null = { authorization: `Bearer ${sb.apiKey}` },
  target: SandboxHandle = sb,
): Promise<Reply> {
  const response = await fetch(target.url + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(headers ?? {}) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text.length ? (JSON.parse(text) as unknown) : undefined };
}

const err = (code: number, message: string): Reply => ({ status: code, body: { code, message } });
let mcuCounter = 0;
const mcu = () => (0x1000_0000_0000 + ++mcuCounter).toString(16).padStart(16, '0');

describe('auth', () => {
  it('/health needs no key; everything else does, in any of the three header styles', async () => {
    expect(await call('GET', '/health', undefined, null)).toEqual({ status: 200, body: { health: 'ok' } });
    expect(await call('GET', '/organisation', undefined, null)).toEqual(
      err(
        401,
        'missing API key: send x-api-key: Bearer <key>, Authorization: Bearer <key> or Authorization: ApiKey <key>',
      ),
    );
    for (const headers of <Array<Record<string, string>>>[
      { 'x-api-key': `Bearer ${sb.apiKey}` },
      { authorization: `Bearer ${sb.apiKey}` },
      { authorization: `ApiKey ${sb.apiKey}` },
    ]) {
      expect((await call('GET', '/organisation', undefined, headers)).status).toBe(200);
    }
    expect(await call('GET', '/organisation', undefined, { authorization: 'Bearer nope' })).toEqual(
      err(401, 'invalid API key'),
    );
    expect(await call('GET', '/organisation', undefined, { authorization: `Basic ${sb.apiKey}` })).toEqual(
      err(401, 'unsupported Authorization scheme: use "Bearer <key>" or "ApiKey <key>"'),
    );
    expect((await call('GET', '/sandbox/faults', undefined, null)).status).toBe(401);
    expect((await call('POST', '/sandbox/uplink', {}, null)).status).toBe(401);
  });
});

describe('seed and defaults', () => {
  it('one organisation, one nRF52840 board, one non-default network; the published dev cloud key', async () => {
    expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sb.cloudPublicKey).toBe(SANDBOX_CLOUD_PUBLIC_KEY);
    expect(await call('GET', '/key/publicKey')).toEqual({
      status: 200,
      body: { key: SANDBOX_CLOUD_PUBLIC_KEY },
    });
    expect(sb.networkId).toBeGreaterThan(0);
    expect(sb.apiKey).toMatch(/^sbx_[A-Za-z0-9_-]{32}$/);
    const board = await call('GET', `/board/id/${sb.boardId}`);
    expect(board.body).toMatchObject({ soc: 'nRF52840', organisationId: sb.organisationId });
    const networks = await call('GET', `/network?organisationId=${sb.organisationId}`);
    expect(networks.body).toMatchObject([{ id: sb.networkUuid, networkId: sb.networkId }]);
  });
});

describe('validation and errors ({code, message}, code = status)', () => {
  it('malformed ids and bodies are 400', async () => {
    expect(await call('GET', '/organisation/id/not-a-uuid')).toEqual(
      err(400, 'organisation id must be a UUID'),
    );
    expect(await call('GET', '/board?organisationId=nope')).toEqual(
      err(400, 'organisationId must be a UUID'),
    );
    expect(await call('GET', '/device/deviceId/XYZ')).toEqual(
      err(400, 'deviceId must be 16 lowercase hex characters and not start with ffff'),
    );
    expect(await call('GET', '/device/soc/nRF52840/mcuId/0011')).toEqual(
      err(400, 'mcuId must be 16 or 24 lowercase hex characters'),
    );
    expect(await call('GET', `/organisation?limit=abc`)).toEqual(
      err(400, 'limit must be an integer from 0 to 1000'),
    );
    expect(await call('POST', '/organisation', '{"name":')).toMatchObject({
      status: 400,
      body: { code: 400 },
    });
    expect(await call('POST', '/organisation', {})).toEqual(
      err(400, "invalid request body: (root) must have required property 'name'"),
    );
    expect(await call('GET', '/nowhere')).toEqual(err(404, 'no route GET /nowhere'));
  });

  it('devices: unknown board/org, formats, soc from the board, duplicates per soc', async () => {
    const base = { boardId: sb.boardId, organisationId: sb.organisationId };
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await call('POST', '/device', { ...base, mcuId: mcu(), boardId: unknown })).toEqual(
      err(400, `board ${unknown} does not exist`),
    );
    expect(await call('POST', '/device', { ...base, mcuId: mcu(), organisationId: unknown })).toEqual(
      err(400, `organisation ${unknown} does not exist`),
    );
    expect(await call('POST', '/device', { ...base, mcuId: 'AABBCCDDEEFF0011' })).toEqual(
      err(400, 'mcuId must be 16 or 24 lowercase hex characters'),
    );
    for (const deviceId of ['ffffffffffffffff', 'ffff123456789abc', 'D291D4D66BF0A955', 'd291d4']) {
      expect((await call('POST', '/device', { ...base, mcuId: mcu(), deviceId })).status).toBe(400);
    }
    const stm = '00112233445566778899aabb';
    const otherBoard = await call('POST', '/board', {
      name: 'STM board',
      description: 'x',
      soc: 'stm32l4x',
      organisationId: sb.organisationId,
    });
    const stmBoardId = (otherBoard.body as { id: string }).id;
    expect((await call('POST', '/device', { ...base, boardId: stmBoardId, mcuId: stm })).status).toBe(201);
    expect((await call('GET', `/device/soc/stm32l4x/mcuId/${stm}`)).status).toBe(200);
    expect((await call('GET', `/device/soc/nRF52840/mcuId/${stm}`)).status).toBe(404);

    const mcuId = mcu();
    const first = await call('POST', '/device', { ...base, mcuId, deviceId: 'a1a2a3a4a5a6a7a8' });
    expect(first.status).toBe(201);
    // Same chip id on another soc is another chip; on the same soc it is a duplicate.
    expect((await call('POST', '/device', { ...base, boardId: stmBoardId, mcuId })).status).toBe(201);
    expect(await call('POST', '/device', { ...base, mcuId })).toEqual(
      err(409, `a device with mcuId ${mcuId} on soc nRF52840 already exists`),
    );
    expect(await call('POST', '/device', { ...base, mcuId: mcu(), deviceId: 'a1a2a3a4a5a6a7a8' })).toEqual(
      err(409, 'deviceId a1a2a3a4a5a6a7a8 is already in use'),
    );
    expect(await call('GET', '/device/deviceId/a1a2a3a4a5a6a7a9')).toEqual(
      err(404, 'device a1a2a3a4a5a6a7a9 not found'),
    );
    expect(await call('GET', '/device/deviceId/a1a2a3a4a5a6a7a8/state')).toEqual(
      err(404, 'device a1a2a3a4a5a6a7a8 not yet seen'),
    );
    expect(await call('GET', '/device/deviceId/a1a2a3a4a5a6a7a8/lastRoute')).toEqual(
      err(404, 'device a1a2a3a4a5a6a7a8 not yet seen'),
    );
  });

  it('boards and networks: unknown org, unknown soc, bad key, duplicates', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const board = { name: 'B', description: 'd', soc: 'nRF5340', organisationId: sb.organisationId };
    expect(await call('POST', '/board', { ...board, organisationId: unknown })).toEqual(
      err(400, `organisation ${unknown} does not exist`),
    );
    expect(await call('POST', '/board', { ...board, soc: 'esp32' })).toEqual(err(400, 'unknown soc "esp32"'));
    expect((await call('POST', '/board', board)).status).toBe(201);
    expect(await call('POST', '/board', board)).toEqual(
      err(409, 'a board named "B" already exists in this organisation'),
    );
    const network = {
      name: 'N',
      description: 'd',
      key: Buffer.alloc(32, 1).toString('base64'),
      organisationId: sb.organisationId,
      networkId: 77,
      public: false,
    };
    expect(await call('POST', '/network', { ...network, key: 'AAAA' })).toEqual(
      err(400, 'key must be 32 bytes of base64'),
    );
    expect((await call('POST', '/network', network)).status).toBe(201);
    expect(await call('POST', '/network', { ...network, name: 'N2' })).toEqual(
      err(409, 'a network with name "N2" or networkId 77 already exists'),
    );
  });

  it('MQTT token lifetime bounds and organisation', async () => {
    const body = (ttlSeconds: number, organisationId = sb.organisationId) => ({ organisationId, ttlSeconds });
    expect(await call('POST', '/mqtt/token', body(59))).toEqual(
      err(400, 'ttlSeconds must be from 60 to 86400'),
    );
    expect(await call('POST', '/mqtt/token', body(86_401))).toEqual(
      err(400, 'ttlSeconds must be from 60 to 86400'),
    );
    expect((await call('POST', '/mqtt/token', body(60))).status).toBe(200);
    expect((await call('POST', '/mqtt/token', body(86_400))).status).toBe(200);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await call('POST', '/mqtt/token', body(600, unknown))).toEqual(
      err(400, `organisation ${unknown} does not exist`),
    );
  });

  it('keys: a bad public key is 400', async () => {
    expect(await call('POST', '/key/sharedSecret', { key: 'AAAA' })).toEqual(
      err(400, 'key must be 32 bytes of base64'),
    );
    expect(await call('POST', '/key/sharedSecret', { key: Buffer.alloc(32).toString('base64') })).toEqual(
      err(400, 'key is not a usable X25519 public key'),
    );
  });

  it('lists default to 10 items and honour limit/offset', async () => {
    for (let i = 0; i < 12; i++) await call('POST', '/organisation', { name: `Org ${i}` });
    expect(((await call('GET', '/organisation')).body as unknown[]).length).toBe(10);
    expect(((await call('GET', '/organisation?limit=3&offset=11')).body as unknown[]).length).toBe(2);
  });
});

describe('fault routes', () => {
  it('GET/PUT/POST rules/DELETE, never faulting the /sandbox routes themselves', async () => {
    expect(await call('GET', '/sandbox/faults')).toEqual({
      status: 200,
      body: { latencyMs: 0, errorRate: 0, rules: [] },
    });
    expect((await call('PUT', '/sandbox/faults', { errorRate: 1 })).status).toBe(200);
    expect(await call('GET', '/health')).toEqual(err(503, 'sandbox fault: injected HTTP 503'));
    expect((await call('GET', '/sandbox/faults')).body).toMatchObject({ errorRate: 1 });
    expect((await call('DELETE', '/sandbox/faults')).status).toBe(204);
    expect((await call('GET', '/health')).status).toBe(200);

    const rule = { method: 'GET', route: '/health', action: { kind: 'status', status: 418 }, times: 2 };
    expect((await call('POST', '/sandbox/faults/rules', rule)).body).toMatchObject({ rules: [rule] });
    expect((await call('GET', '/health')).status).toBe(418);
    expect((await call('GET', '/health')).status).toBe(418);
    expect((await call('GET', '/health')).status).toBe(200);

    expect((await call('PUT', '/sandbox/faults', { errorRate: 2 })).status).toBe(400);
    expect((await call('POST', '/sandbox/faults/rules', { action: { kind: 'explode' } })).status).toBe(400);
  });

  it('start-time faults apply from the first request', async () => {
    const faulty = await startSandbox({
      faults: { rules: [{ route: '/health', action: { kind: 'malformed' } }] },
    });
    try {
      const response = await fetch(`${faulty.url}/health`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('{"truncated": ');
    } finally {
      await faulty.close();
    }
  });
});

describe('persistence in a SQLite file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-data-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the API key, cloud key, seed, devices, bound keys and "seen" across restarts, seeding once', async () => {
    const file = join(dir, 'sandbox.sqlite');
    const first = await startSandbox({ dataFile: file, contractCheck: true });
    const auth = { authorization: `ApiKey ${first.apiKey}` };
    const board = generateX25519KeyPair();
    const mcuId = '00aa00bb00cc00dd';
    const device = (
      await call(
        'POST',
        '/device',
        { mcuId, boardId: first.boardId, organisationId: first.organisationId },
        auth,
        first,
      )
    ).body as { deviceId: string };
    const state = securityStateToJson(
      sealChallengeResponse({
        devicePrivateKey: board.privateKey,
        cloudPublicKey: Buffer.from(first.cloudPublicKey, 'base64'),
        networkId: first.networkId,
        challenge: Buffer.alloc(16, 3),
        hardwareId: hardwareIdFromMcuId(mcuId),
        deviceId: device.deviceId,
      }),
    );
    const shared = await call(
      'POST',
      '/key/sharedSecret/device',
      { deviceId: device.deviceId, securityState: state },
      auth,
      first,
    );
    expect(shared.status).toBe(200);
    const uplink = sealUplink(
      board.privateKey,
      Buffer.from(first.cloudPublicKey, 'base64'),
      device.deviceId,
      new Date(),
    );
    expect((await sendUplink(first.url, uplink, first.apiKey)).ok).toBe(true);
    const snapshot = {
      apiKey: first.apiKey,
      cloudPublicKey: first.cloudPublicKey,
      organisationId: first.organisationId,
      boardId: first.boardId,
      networkId: first.networkId,
      networkUuid: first.networkUuid,
    };
    await first.close();

    const second = await startSandbox({ dataFile: file, cloudKey: 'random', contractCheck: true });
    try {
      expect({
        apiKey: second.apiKey,
        cloudPublicKey: second.cloudPublicKey,
        organisationId: second.organisationId,
        boardId: second.boardId,
        networkId: second.networkId,
        networkUuid: second.networkUuid,
      }).toEqual(snapshot);
      const orgs = (await call('GET', '/organisation', undefined, auth, second)).body as Array<{
        name: string;
      }>;
      expect(orgs.filter((o) => o.name === 'Sandbox Organisation')).toHaveLength(1);
      expect((await call('GET', `/device/soc/nRF52840/mcuId/${mcuId}`, undefined, auth, second)).status).toBe(
        200,
      );
      // The stored security state is used when none is sent.
      expect(
        await call('POST', '/key/sharedSecret/device', { deviceId: device.deviceId }, auth, second),
      ).toEqual(shared);
      expect(
        (await call('GET', `/device/deviceId/${device.deviceId}/state`, undefined, auth, second)).status,
      ).toBe(200);
      expect(second.contractViolations).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('--cloud-key random makes a fresh key for new data and keeps it after', async () => {
    const file = join(dir, 'random.sqlite');
    const first = await startSandbox({ dataFile: file, cloudKey: 'random', contractCheck: true });
    const key = first.cloudPublicKey;
    await first.close();
    expect(key).not.toBe(SANDBOX_CLOUD_PUBLIC_KEY);
    const second = await startSandbox({ dataFile: file, contractCheck: true });
    try {
      expect(second.cloudPublicKey).toBe(key);
    } finally {
      await second.close();
    }
  });

  it('in-memory sandboxes start fresh', async () => {
    const a = await startSandbox();
    const b = await startSandbox();
    try {
      expect(a.apiKey).not.toBe(b.apiKey);
      expect(a.organisationId).not.toBe(b.organisationId);
      expect(a.cloudPublicKey).toBe(b.cloudPublicKey);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
