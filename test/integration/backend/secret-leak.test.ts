import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  generateX25519KeyPair,
  hardwareIdFromMcuId,
  sealChallengeResponse,
  x25519SharedSecret,
} from '../../../firmware-protocol';
import {
  InfuseClient,
  SecretBytes,
  resolveNetwork,
  unwrap,
  type BackendResult,
  type HttpExchange,
} from '../../../electron/backend';
import { freshMcuId, startHarness, type Harness } from './contract-harness';

/**
 * Drives every secret-bearing call, and a set of failures around them, with logging on; then searches everything
 * a human or a log file could ever see (log lines, console output, error messages, stacks, JSON and inspect
 * renderings of errors, results and the client) for every secret in every common encoding.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

function encodings(secret: Buffer, isText: boolean): string[] {
  const out = [
    secret.toString('hex'),
    secret.toString('hex').toUpperCase(),
    secret.toString('base64'),
    secret.toString('base64url'),
    secret.toString('base64').replace(/=+$/, ''),
  ];
  if (isText) out.push(secret.toString('utf8'));
  else out.push(secret.toString('latin1'));
  return out;
}

describe('no secret reaches a log line, an error or a printed result', () => {
  it('searches every rendering for the API key, shared secret, derived key, network key and MQTT token', async () => {
    const texts: string[] = [];
    const consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
        texts.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 10 }))).join(' '));
      }),
    );
    const fnLogger = (entry: object) => texts.push(JSON.stringify(entry));
    const pinoLike = { info: (obj: object, msg?: string) => texts.push(JSON.stringify(obj), msg ?? '') };
    const sleep = async () => {};
    // Normal calls get a generous timeout (a loaded CI machine must not turn them into failures); only the call
    // that meets a hang fault uses a short one.
    const clientSpecs = [
      { logger: fnLogger, authMode: 'x-api-key-bearer' as const },
      { logger: pinoLike, authMode: 'authorization-apikey' as const },
      { logger: fnLogger, authMode: 'authorization-bearer' as const },
    ];
    const results: Array<BackendResult<unknown>> = [];
    const record = <T>(result: BackendResult<T>): BackendResult<T> => {
      results.push(result as BackendResult<unknown>);
      return result;
    };

    const secrets: Array<{ name: string; value: Buffer; isText: boolean }> = [
      { name: 'API key', value: Buffer.from(h.sandbox.apiKey), isText: true },
    ];
    const faults = h.sandbox.faults;

    for (const spec of clientSpecs) {
      const client = h.newClient({ ...spec, sleep, timeoutMs: 10_000 });
      const hurried = h.newClient({ ...spec, sleep, timeoutMs: 300 });
      const board = generateX25519KeyPair();
      const mcuId = freshMcuId();
      const device = unwrap(
        record(
          await client.createDevice({
            mcuId,
            boardId: h.sandbox.boardId,
            organisationId: h.sandbox.organisationId,
          }),
        ),
      );
      const state = sealChallengeResponse({
        devicePrivateKey: board.privateKey,
        cloudPublicKey: Buffer.from(h.sandbox.cloudPublicKey, 'base64'),
        networkId: h.sandbox.networkId,
        challenge: Buffer.alloc(16, 1),
        hardwareId: hardwareIdFromMcuId(mcuId),
        deviceId: device.deviceId,
      });

      const shared = unwrap(record(await client.deviceSharedSecret(device.deviceId, state)));
      secrets.push({ name: 'shared secret', value: shared.reveal(), isText: false });
      expect(
        shared.equals(x25519SharedSecret(board.privateKey, Buffer.from(h.sandbox.cloudPublicKey, 'base64'))),
      ).toBe(true);
      const plainShared = unwrap(record(await client.sharedSecret(board.publicKey)));
      secrets.push({ name: 'shared secret (public-key form)', value: plainShared.reveal(), isText: false });
      const derived = unwrap(record(await client.deriveDeviceKey(device.deviceId, 'serial')));
      secrets.push({ name: 'derived key', value: derived.reveal(), isText: false });
      const token = unwrap(record(await client.mqttToken(h.sandbox.organisationId, 300)));
      secrets.push({ name: 'MQTT token', value: Buffer.from(token.token.revealText()), isText: true });
      const networks = unwrap(record(await client.listAllNetworks(h.sandbox.organisationId)));
      for (const n of networks)
        secrets.push({ name: `network key ${n.name}`, value: n.key.reveal(), isText: false });
      const made = unwrap(
        record(
          await resolveNetwork(client, {
            create: { name: `Leak test ${mcuId}`, organisationId: h.sandbox.organisationId },
          }),
        ),
      );
      secrets.push({ name: 'created network key', value: made.value.key.reveal(), isText: false });

      // Failures around the secret-bearing calls.
      faults.addRule({
        route: '/key/sharedSecret/device',
        action: { kind: 'status', status: 503 },
        times: 1,
      });
      record(await client.deviceSharedSecret(device.deviceId, state));
      faults.addRule({ route: '/key/derived/device', action: { kind: 'hang' }, times: 3 });
      record(await hurried.deriveDeviceKey(device.deviceId, 'udp', state));
      faults.addRule({ route: '/mqtt/token', action: { kind: 'malformed' }, times: 1 });
      record(await client.mqttToken(h.sandbox.organisationId, 300));
      // A reply that echoes secrets in fields that break the schema: the validator's error must not quote them.
      faults.addRule({
        route: '/key/sharedSecret',
        action: {
          kind: 'status',
          status: 200,
          body: { key: 12345, echoed: shared.revealBase64(), token: token.token.revealText() },
        },
        times: 1,
      });
      record(await client.sharedSecret(board.publicKey));
      // A server that echoes the API key in its error message.
      faults.addRule({
        route: '/network',
        method: 'POST',
        action: {
          kind: 'status',
          status: 400,
          body: { code: 400, message: `bad key header Bearer ${h.sandbox.apiKey}` },
        },
        times: 1,
      });
      const echoed = record(
        await client.createNetwork({
          name: `Echo ${mcuId}`,
          description: 'x',
          organisationId: h.sandbox.organisationId,
          networkId: 0x654321,
          key: SecretBytes.fromBytes(Buffer.alloc(32, 0x42)),
        }),
      );
      secrets.push({ name: 'network key sent', value: Buffer.alloc(32, 0x42), isText: false });
      expect(echoed.ok ? undefined : echoed.error.apiMessage).toBe('bad key header Bearer [redacted]');
      record(await client.getDeviceByDeviceId('0badc0de0badc0de'));
      faults.clear();
      texts.push(inspect(client, { depth: 10 }), JSON.stringify(client), String(client));
    }
    const unreachable = new InfuseClient({
      baseUrl: 'http://127.0.0.1:9',
      apiKey: h.sandbox.apiKey,
      authMode: 'authorization-bearer',
      retry: { maxAttempts: 1 },
      logger: fnLogger,
    });
    record(await unreachable.mqttToken(h.sandbox.organisationId, 300));
    texts.push(inspect(unreachable, { depth: 10 }));

    const failures = results.filter((r) => !r.ok);
    expect(failures.length).toBe(3 * 5 + 1);
    for (const result of results) {
      texts.push(JSON.stringify(result), inspect(result, { depth: 10 }));
      if (!result.ok) {
        const e = result.error;
        texts.push(
          e.message,
          e.stack ?? '',
          String(e),
          JSON.stringify(e),
          inspect(e, { depth: 10 }),
          e.operatorMessage,
        );
      }
    }
    for (const spy of consoleSpies) spy.mockRestore();

    // Sanity: the search space really holds the log lines and errors.
    expect(texts.some((t) => t.includes('"event":"backend.request"'))).toBe(true);
    expect(texts.some((t) => t.includes('BACKEND_TIMEOUT'))).toBe(true);
    expect(secrets.length).toBeGreaterThan(10);

    const hits: string[] = [];
    for (const secret of secrets) {
      for (const needle of encodings(secret.value, secret.isText)) {
        for (const text of texts) {
          if (needle.length >= 8 && text.includes(needle))
            hits.push(`${secret.name} found in: ${text.slice(0, 200)}`);
        }
      }
    }
    expect(hits).toEqual([]);
    // Broken replies served on purpose above are also seen by the contract hook; they are expected here.
    h.takeViolations();
    expect(h.sandbox.contractViolations).toEqual([]);
  });

  it('the exchange hook is the one place bodies are visible, and it never sees headers', async () => {
    const seen: HttpExchange[] = [];
    const client = h.newClient({ onExchange: (x) => seen.push(x) });
    unwrap(await client.health());
    expect(Object.keys(seen[0] ?? {}).sort()).toEqual(
      ['method', 'path', 'requestBody', 'responseBody', 'responseIsJson', 'status', 'template'].sort(),
    );
    expect(JSON.stringify(seen)).not.toContain(h.sandbox.apiKey);
  });
});
