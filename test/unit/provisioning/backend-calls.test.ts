import { describe, expect, it } from 'vitest';
import pLimit from 'p-limit';
import { AsyncResource } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  collectBackendCalls,
  recordBackendCall,
  type BackendCall,
} from '../../../electron/provisioning/backend-calls';
import type { BackendLogEntry } from '../../../electron/backend';

const entry = (endpoint: string, status = 200): BackendLogEntry => ({
  event: 'backend.request',
  method: 'GET',
  endpoint,
  attempt: 1,
  outcome: 'ok',
  status,
  durationMs: 4.6,
});

describe('backend calls per step', () => {
  it('gives each concurrent step only its own requests, also through a shared concurrency limit', async () => {
    const limited = pLimit(1);
    const limit = <T>(work: () => Promise<T>) => limited(AsyncResource.bind(work));
    const request = (endpoint: string) =>
      limit(async () => {
        await sleep(5);
        recordBackendCall(entry(endpoint));
      });
    const a: BackendCall[] = [];
    const b: BackendCall[] = [];
    await Promise.all([
      collectBackendCalls(async () => {
        await request('/a/1');
        await request('/a/2');
      }, a),
      collectBackendCalls(async () => {
        await request('/b/1');
      }, b),
    ]);
    expect(a.map((call) => call.endpoint)).toEqual(['/a/1', '/a/2']);
    expect(b.map((call) => call.endpoint)).toEqual(['/b/1']);
    expect(a[0]).toEqual({
      method: 'GET',
      endpoint: '/a/1',
      attempt: 1,
      outcome: 'ok',
      status: 200,
      durationMs: 5,
      // When it started, relative to its step (a request that overlaps another ran beside it).
      startMs: expect.any(Number) as number,
    });
    expect(a[0]!.startMs).toBeGreaterThanOrEqual(0);
  });

  it('records nothing outside a step and at most 32 requests per step', async () => {
    recordBackendCall(entry('/outside'));
    const calls: BackendCall[] = [];
    await collectBackendCalls(async () => {
      for (let i = 0; i < 40; i += 1) recordBackendCall(entry(`/loop/${i}`, 503));
    }, calls);
    expect(calls).toHaveLength(32);
  });
});
