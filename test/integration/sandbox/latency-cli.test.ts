/** `station sandbox --latency-ms/--jitter-ms` and its counters (GET /sandbox/stats, SIGUSR2), as a process. */
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxStats } from '../../../electron/sandbox';
import { runStation, startStation } from '../../support/cli';

const running: Array<ReturnType<typeof startStation>> = [];
afterEach(async () => {
  for (const sb of running.splice(0)) {
    if (sb.child.exitCode === null) sb.child.kill('SIGTERM');
    await sb.exited;
  }
});

describe('station sandbox --latency-ms', () => {
  it('delays every API request; GET /sandbox/stats and SIGUSR2 report the counters', async () => {
    const sb = startStation(['sandbox', '--latency-ms', '40', '--jitter-ms', '5']);
    running.push(sb);
    const start = JSON.parse((await sb.waitForLines(1))[0]!) as { url: string; apiKey: string };
    const headers = { 'x-api-key': `Bearer ${start.apiKey}` };
    const N = 5;
    const began = performance.now();
    for (let i = 0; i < N; i++) {
      const response = await fetch(`${start.url}/key/publicKey`, { headers });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    expect(performance.now() - began).toBeGreaterThanOrEqual(N * (40 - 5));

    const stats = (await (await fetch(`${start.url}/sandbox/stats`, { headers })).json()) as SandboxStats;
    expect(stats).toMatchObject({ latency: { latencyMs: 40, jitterMs: 5 }, requests: N });
    expect(stats.minLatencyMs).toBeGreaterThanOrEqual(35);
    expect(stats.maxLatencyMs).toBeLessThanOrEqual(45);

    sb.child.kill('SIGUSR2');
    const line = JSON.parse((await sb.waitForLines(2))[1]!) as { stats: SandboxStats };
    expect(line.stats.routes).toEqual(stats.routes);
    expect(JSON.stringify(line)).not.toContain(start.apiKey);
    expect(sb.stderr()).toContain('SANDBOX latency: 40 ms ± 5 ms on every Infuse API request');

    sb.child.kill('SIGTERM');
    expect(await sb.exited).toBe(0);
  });

  it.each([
    [
      ['--latency-ms', 'abc'],
      'station: --latency-ms must be a whole number of ms from 0 to 600000, got "abc"',
    ],
    [['--jitter-ms', '5'], 'station: --jitter-ms varies --latency-ms: give --latency-ms too'],
  ])('refuses %j with a usage error', async (args, message) => {
    const result = await runStation(['sandbox', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(message);
  });
});
