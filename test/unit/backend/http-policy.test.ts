import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  decideRetry,
  isRepeatable,
  parseRetryAfterMs,
} from '../../../electron/backend';
import { backoffDelayMs } from '../../../electron/backend/http-policy';

const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000 };
const base = { attempt: 1, elapsedMs: 0, policy, random: () => 0.5 };

describe('which calls may be repeated', () => {
  it.each([
    ['GET', '/device/soc/{soc}/mcuId/{mcuId}', true],
    ['POST', '/key/sharedSecret', true],
    ['POST', '/key/sharedSecret/device', true],
    ['POST', '/key/derived/device', true],
    ['POST', '/mqtt/token', true],
    ['POST', '/device', false],
    ['POST', '/organisation', false],
    ['POST', '/board', false],
    ['POST', '/network', false],
    ['PUT', '/device/id/{id}', false],
  ])('%s %s -> %s', (method, template, expected) => {
    expect(isRepeatable(method, template)).toBe(expected);
  });
});

describe('decideRetry', () => {
  const get = { method: 'GET', template: '/health' };
  it('retries transient failures with jittered exponential backoff', () => {
    expect(decideRetry({ ...base, ...get, outcome: { kind: 'timeout' } })).toEqual({
      retry: true,
      delayMs: 50,
    });
    expect(decideRetry({ ...base, ...get, attempt: 3, outcome: { kind: 'network' } })).toEqual({
      retry: true,
      delayMs: 200,
    });
    expect(decideRetry({ ...base, ...get, outcome: { kind: 'response', status: 503 } }).retry).toBe(true);
  });
  it('never retries 4xx other than 429', () => {
    for (const status of [400, 401, 403, 404, 409, 422]) {
      expect(decideRetry({ ...base, ...get, outcome: { kind: 'response', status } })).toEqual({
        retry: false,
      });
    }
  });
  it('never retries creating POSTs, even on 503', () => {
    expect(
      decideRetry({
        ...base,
        method: 'POST',
        template: '/device',
        outcome: { kind: 'response', status: 503 },
      }),
    ).toEqual({ retry: false });
  });
  it('stops at maxAttempts and at the time budget', () => {
    expect(decideRetry({ ...base, ...get, attempt: 4, outcome: { kind: 'timeout' } })).toEqual({
      retry: false,
    });
    expect(
      decideRetry({ ...base, ...get, elapsedMs: policy.budgetMs, outcome: { kind: 'timeout' } }),
    ).toEqual({
      retry: false,
    });
  });
  it('honours Retry-After up to the cap', () => {
    expect(
      decideRetry({ ...base, ...get, outcome: { kind: 'response', status: 429, retryAfterMs: 1000 } }),
    ).toEqual({ retry: true, delayMs: 1000 });
    expect(
      decideRetry({
        ...base,
        ...get,
        outcome: { kind: 'response', status: 429, retryAfterMs: policy.maxRetryAfterMs + 1 },
      }),
    ).toEqual({ retry: false });
  });
  it('caps the backoff ceiling', () => {
    expect(backoffDelayMs(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelayMs(1, policy, () => 0)).toBe(0);
  });
});

describe('parseRetryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    expect(parseRetryAfterMs('2', now)).toBe(2000);
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });
});
