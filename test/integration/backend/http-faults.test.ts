import { describe, expect, it } from 'vitest';
import { unwrap, type BackendLogEntry } from '../../../electron/backend';
import { freshMcuId, type Harness, errorOf, useHarness } from './contract-harness';

let h: Harness;
useHarness((harness) => (h = harness));

function loggingClient(overrides: Parameters<Harness['newClient']>[0] = {}) {
  const lines: BackendLogEntry[] = [];
  const sleeps: number[] = [];
  const client = h.newClient({
    logger: (entry) => lines.push(entry),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  return { client, lines, sleeps };
}

describe('timeouts', () => {
  it('a route that never answers times out, is retried, and succeeds when the hang clears', async () => {
    h.sandbox.faults.addRule({ route: '/key/publicKey', action: { kind: 'hang' }, times: 1 });
    // Long enough that the retry's real answer always arrives in time, even on a loaded machine.
    const { client, lines } = loggingClient({ timeoutMs: 1_000 });
    const started = Date.now();
    expect(unwrap(await client.getCloudPublicKey()).toString('base64')).toBe(h.sandbox.cloudPublicKey);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(lines.map((l) => [l.attempt, l.outcome, l.status])).toEqual([
      [1, 'timeout', undefined],
      [2, 'ok', 200],
    ]);
  });

  it('a route that keeps hanging gives BACKEND_TIMEOUT with the operator text', async () => {
    h.sandbox.faults.addRule({ route: '/health', action: { kind: 'hang' } });
    const { client } = loggingClient({ timeoutMs: 200, retry: { maxAttempts: 2 } });
    const error = errorOf(await client.health());
    expect(error.code).toBe('BACKEND_TIMEOUT');
    expect(error.attempts).toBe(2);
    expect(error.httpStatus).toBeUndefined();
    expect(error.message).toBe(
      "BACKEND_TIMEOUT GET /health: The provisioning backend did not answer within 200 ms (2 attempts). Check the station's network connection, then retry the unit; if it keeps happening, ask IT to check the backend.",
    );
  });
});

describe('retries', () => {
  it('503 once, then OK: the GET is retried after a jittered backoff', async () => {
    h.sandbox.faults.addRule({
      method: 'GET',
      route: '/organisation/id/{id}',
      action: { kind: 'status', status: 503 },
      times: 1,
    });
    const { client, lines, sleeps } = loggingClient({ random: () => 0.5, retry: { baseDelayMs: 100 } });
    const org = unwrap(await client.getOrganisationById(h.sandbox.organisationId));
    expect(org.id).toBe(h.sandbox.organisationId);
    expect(lines.map((l) => [l.attempt, l.status, l.code])).toEqual([
      [1, 503, 'BACKEND_UNAVAILABLE'],
      [2, 200, undefined],
    ]);
    expect(sleeps).toEqual([50]);
  });

  it('503 once on a repeatable POST (/key/sharedSecret) is retried', async () => {
    h.sandbox.faults.addRule({
      route: '/key/sharedSecret',
      action: { kind: 'status', status: 503 },
      times: 1,
    });
    const { client, lines } = loggingClient();
    expect(unwrap(await client.sharedSecret(Buffer.alloc(32, 3))).length).toBe(32);
    expect(lines.map((l) => l.status)).toEqual([503, 200]);
  });

  it('503 that persists gives BACKEND_UNAVAILABLE after maxAttempts', async () => {
    h.sandbox.faults.addRule({ route: '/health', action: { kind: 'status', status: 503 } });
    const { client, lines } = loggingClient({ retry: { maxAttempts: 3 } });
    const error = errorOf(await client.health());
    expect(lines).toHaveLength(3);
    expect(error.message).toBe(
      "BACKEND_UNAVAILABLE GET /health (HTTP 503): The provisioning backend is unavailable (3 attempts). Wait a few minutes and retry the unit; if it persists, ask IT to check the backend's status.",
    );
    expect(error.apiMessage).toBe('sandbox fault: injected HTTP 503');
  });

  it('creating POSTs are never retried, even on 503', async () => {
    h.sandbox.faults.addRule({
      method: 'POST',
      route: '/device',
      action: { kind: 'status', status: 503 },
      times: 1,
    });
    const { client, lines } = loggingClient();
    const error = errorOf(
      await client.createDevice({
        mcuId: freshMcuId(),
        boardId: h.sandbox.boardId,
        organisationId: h.sandbox.organisationId,
      }),
    );
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.attempts).toBe(1);
    expect(lines).toHaveLength(1);
  });

  it.each([400, 409])('%i is not retried', async (status) => {
    h.sandbox.faults.addRule({ route: '/health', action: { kind: 'status', status }, times: 5 });
    const { client, lines } = loggingClient();
    const error = errorOf(await client.health());
    expect(error.code).toBe(status === 400 ? 'BACKEND_BAD_REQUEST' : 'BACKEND_CONFLICT');
    expect(lines).toHaveLength(1);
  });

  it('429 with Retry-After waits what the server asked, then succeeds', async () => {
    h.sandbox.faults.addRule({
      route: '/key/publicKey',
      action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
      times: 1,
    });
    const { client, lines } = loggingClient({ sleep: undefined });
    const started = Date.now();
    expect(unwrap(await client.getCloudPublicKey())).toHaveLength(32);
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(lines.map((l) => l.status)).toEqual([429, 200]);
  });

  it('429 whose Retry-After is beyond the cap fails at once as BACKEND_RATE_LIMITED', async () => {
    h.sandbox.faults.addRule({
      route: '/health',
      action: { kind: 'status', status: 429, retryAfterSeconds: 3600 },
    });
    const { client, lines } = loggingClient();
    const error = errorOf(await client.health());
    expect(lines).toHaveLength(1);
    expect(error.message).toBe(
      "BACKEND_RATE_LIMITED GET /health (HTTP 429): The provisioning backend is limiting the station's request rate and 1 attempt did not get through. Wait a minute, then retry the unit.",
    );
  });

  it('an error rate of 1 answers every call with 503', async () => {
    h.sandbox.faults.set({ errorRate: 1 });
    const { client } = loggingClient({ retry: { maxAttempts: 2 } });
    expect(errorOf(await client.health()).code).toBe('BACKEND_UNAVAILABLE');
  });

  it('added latency slows the reply but it still arrives', async () => {
    h.sandbox.faults.set({ latencyMs: 150 });
    const { client, lines } = loggingClient();
    unwrap(await client.health());
    expect(lines[0]?.durationMs).toBeGreaterThanOrEqual(140);
  });
});

describe('bad replies', () => {
  it('malformed JSON gives BACKEND_BAD_RESPONSE, not a crash', async () => {
    h.sandbox.faults.addRule({
      method: 'GET',
      route: '/key/publicKey',
      action: { kind: 'malformed' },
      times: 1,
    });
    const { client, lines } = loggingClient();
    const error = errorOf(await client.getCloudPublicKey());
    expect(error.message).toBe(
      'BACKEND_BAD_RESPONSE GET /key/publicKey (HTTP 200): The provisioning backend sent a reply the station cannot use (the body is not valid JSON). Retry the unit; if it repeats, report it to engineering with this message.',
    );
    expect(lines.map((l) => l.outcome)).toEqual(['bad-response']);
    // The contract hook saw the same broken reply.
    expect(h.takeViolations()).toEqual([
      { side: 'response', endpoint: 'GET /key/publicKey', status: 200, errors: ['(root) must be object'] },
    ]);
  });

  it('a body that breaks the schema gives BACKEND_BAD_RESPONSE and a contract violation (negative test)', async () => {
    h.sandbox.faults.addRule({
      route: '/device/soc/{soc}/mcuId/{mcuId}',
      action: { kind: 'status', status: 200, body: { id: 'not-a-uuid', mcuId: 42 } },
      times: 1,
    });
    const error = errorOf(await h.client.getDeviceBySocAndMcuId('nRF52840', freshMcuId()));
    expect(error.code).toBe('BACKEND_BAD_RESPONSE');
    expect(error.operatorMessage).toBe(
      "The provisioning backend sent a reply the station cannot use (the body does not match the API: (root) must have required property 'createdAt'; (root) must have required property 'updatedAt'; (root) must have required property 'boardId'). Retry the unit; if it repeats, report it to engineering with this message.",
    );
    const violations = h.takeViolations();
    expect(violations).toHaveLength(1);
    expect(violations[0]?.errors).toEqual(
      expect.arrayContaining(['/id must match format "uuid"', '/mcuId must be string']),
    );
  });

  it('unknown fields in a reply are ignored', async () => {
    h.sandbox.faults.addRule({
      route: '/health',
      action: { kind: 'status', status: 200, body: { health: 'ok', region: 'eu', build: { sha: 'abc' } } },
      times: 1,
    });
    expect(unwrap(await h.client.health())).toMatchObject({ health: 'ok' });
  });

  it('an error reply that is not JSON still maps by status', async () => {
    h.sandbox.faults.addRule({
      route: '/health',
      action: { kind: 'status', status: 502, body: '<html>Bad Gateway</html>' },
      times: 3,
    });
    const { client } = loggingClient();
    const error = errorOf(await client.health());
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.apiMessage).toBeUndefined();
    // A proxy's HTML error page is not the API's Error body; the contract check says so.
    expect(h.takeViolations().map((v) => v.status)).toEqual([502, 502, 502]);
  });

  it('a key of the wrong length is refused', async () => {
    h.sandbox.faults.addRule({
      route: '/key/sharedSecret',
      action: { kind: 'status', status: 200, body: { key: Buffer.alloc(16).toString('base64') } },
      times: 1,
    });
    const error = errorOf(await h.client.sharedSecret(Buffer.alloc(32, 1)));
    expect(error.code).toBe('BACKEND_BAD_RESPONSE');
    expect(error.operatorMessage).toContain('the key is not 32 bytes of base64');
  });
});
