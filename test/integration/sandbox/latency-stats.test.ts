/**
 * The sandbox's latency model and its request counters, over real HTTP: N sequential requests take at least
 * N x (L - jitter), every added delay stays within L ± jitter, and GET /sandbox/stats counts what was asked.
 */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle, type SandboxStats } from '../../../electron/sandbox';

const open: SandboxHandle[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((sb) => sb.close()));
});

async function sandbox(options: Parameters<typeof startSandbox>[0] = {}): Promise<SandboxHandle> {
  const sb = await startSandbox(options);
  open.push(sb);
  return sb;
}

async function get(sb: SandboxHandle, path: string, method = 'GET'): Promise<Response> {
  return fetch(sb.url + path, { method, headers: { authorization: `Bearer ${sb.apiKey}` } });
}

describe('sandbox latency', () => {
  it('N sequential requests take at least N x (L - jitter); each added delay stays in L ± jitter', async () => {
    const L = 40;
    const J = 10;
    const N = 8;
    const sb = await sandbox({ latency: { latencyMs: L, jitterMs: J } });
    const each: number[] = [];
    const start = performance.now();
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      const response = await get(sb, '/key/publicKey');
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      each.push(performance.now() - t);
    }
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(N * (L - J));
    for (const ms of each) expect(ms).toBeGreaterThanOrEqual(L - J);

    const stats = sb.stats();
    expect(stats.latency).toEqual({ latencyMs: L, jitterMs: J });
    expect(stats.requests).toBe(N);
    expect(stats.minLatencyMs).toBeGreaterThanOrEqual(L - J);
    expect(stats.maxLatencyMs).toBeLessThanOrEqual(L + J);
    expect(stats.latencyMs).toBeGreaterThanOrEqual(N * (L - J));
    expect(stats.latencyMs).toBeLessThanOrEqual(N * (L + J));
    expect(stats.totalMs).toBeGreaterThanOrEqual(stats.latencyMs);
    expect(stats.routes).toEqual([
      {
        method: 'GET',
        route: '/key/publicKey',
        count: N,
        totalMs: stats.totalMs,
        latencyMs: stats.latencyMs,
      },
    ]);
  });

  it('jitter is uniform over L - J .. L + J and never below 0', async () => {
    let next = 0;
    const sb = await sandbox({ latency: { latencyMs: 30, jitterMs: 10, random: () => next } });
    await get(sb, '/health');
    next = 0.999_999;
    await get(sb, '/health');
    expect(sb.stats()).toMatchObject({ minLatencyMs: 20 });
    expect(sb.stats().maxLatencyMs).toBeCloseTo(40, 3);

    next = 0;
    const clamped = await sandbox({ latency: { latencyMs: 5, jitterMs: 10, random: () => next } });
    await get(clamped, '/health');
    expect(clamped.stats()).toMatchObject({ minLatencyMs: 0, maxLatencyMs: 0, latencyMs: 0 });
  });

  it('refuses a latency that is negative or not a number', async () => {
    await expect(startSandbox({ latency: { latencyMs: -1 } })).rejects.toThrow(
      'sandbox latency: latencyMs must be from 0 to 600000, not -1',
    );
    await expect(startSandbox({ latency: { latencyMs: 40, jitterMs: Number.NaN } })).rejects.toThrow(
      'sandbox latency: jitterMs must be from 0 to 600000, not NaN',
    );
  });
});

describe('GET /sandbox/stats', () => {
  it('counts requests by method and route template, not itself, with no secret in it; DELETE resets', async () => {
    const sb = await sandbox({ latency: { latencyMs: 2 } });
    expect((await get(sb, '/sandbox/stats')).status).toBe(200);
    await get(sb, '/key/publicKey');
    await get(sb, `/board/id/${sb.boardId}`);
    await get(sb, `/board/id/${sb.boardId}`);
    await get(sb, '/device/deviceId/0123456789abcdef');
    await get(sb, '/nowhere');
    await get(sb, '/sandbox/faults');
    // A request without the key is still a request the sandbox answered (401).
    await fetch(`${sb.url}/key/publicKey`);

    const unauthorised = await fetch(`${sb.url}/sandbox/stats`);
    expect(unauthorised.status).toBe(401);
    const response = await get(sb, '/sandbox/stats');
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain(sb.apiKey);
    const stats = JSON.parse(text) as SandboxStats;
    expect(stats).toEqual(sb.stats());
    const counts = Object.fromEntries(stats.routes.map((r) => [`${r.method} ${r.route}`, r.count]));
    expect(counts).toEqual({
      'GET /key/publicKey': 2,
      'GET /board/id/{id}': 2,
      'GET /device/deviceId/{deviceId}': 1,
      'GET (no route)': 1,
      'GET /sandbox/faults': 1,
    });
    expect(stats.requests).toBe(7);
    // The latency model is the network to the cloud; the sandbox's own routes do not get it.
    expect(stats.routes.find((r) => r.route === '/sandbox/faults')?.latencyMs).toBe(0);
    expect(stats.routes.find((r) => r.route === '/board/id/{id}')!.latencyMs).toBeGreaterThanOrEqual(4);

    expect((await get(sb, '/sandbox/stats', 'DELETE')).status).toBe(204);
    expect(sb.stats()).toMatchObject({ requests: 0, routes: [], minLatencyMs: null, maxLatencyMs: null });
  });

  it('is off by default: no latency, but the counters still count', async () => {
    const sb = await sandbox();
    await get(sb, '/key/publicKey');
    expect(sb.stats()).toMatchObject({
      latency: { latencyMs: 0, jitterMs: 0 },
      requests: 1,
      latencyMs: 0,
      minLatencyMs: null,
    });
    sb.resetStats();
    expect(sb.stats().requests).toBe(0);
  });
});
