import { describe, expect, it } from 'vitest';
import { FaultController, parseFaultFlag, parseFaultFlags } from '../../../electron/sandbox';

describe('--fault flags', () => {
  it.each([
    ['latency=250', { latencyMs: 250 }],
    ['error-rate=0.25', { errorRate: 0.25 }],
    [
      'status=503,method=GET,route=/key/publicKey,times=1',
      {
        rules: [
          { method: 'GET', route: '/key/publicKey', action: { kind: 'status', status: 503 }, times: 1 },
        ],
      },
    ],
    [
      'status=429,retry-after=2',
      { rules: [{ method: '*', route: '*', action: { kind: 'status', status: 429, retryAfterSeconds: 2 } }] },
    ],
    ['hang,route=/health', { rules: [{ method: '*', route: '/health', action: { kind: 'hang' } }] }],
    ['malformed,method=POST', { rules: [{ method: 'POST', route: '*', action: { kind: 'malformed' } }] }],
  ])('%s', (flag, expected) => {
    expect(parseFaultFlag(flag)).toEqual(expected);
  });

  it.each([
    [
      'explode',
      'fault "explode": start with latency=MS, error-rate=P, status=CODE, hang or malformed (options: method=, route=, times=, retry-after=)',
    ],
    ['latency=soon', 'fault "latency=soon": latency needs a number'],
    ['error-rate=2', 'fault "error-rate=2": errorRate Too big: expected number to be <=1'],
    ['hang,colour=red', 'fault "hang,colour=red": unknown option "colour"'],
    ['status=503,times=1,times=2', 'fault "status=503,times=1,times=2": "times" given twice'],
  ])('%s is refused with a clear message', (flag, message) => {
    expect(() => parseFaultFlag(flag)).toThrow(message);
  });

  it('several flags fold into one config', () => {
    expect(parseFaultFlags(['latency=5', 'hang,route=/a', 'status=500,route=/b'])).toEqual({
      latencyMs: 5,
      rules: [
        { method: '*', route: '/a', action: { kind: 'hang' } },
        { method: '*', route: '/b', action: { kind: 'status', status: 500 } },
      ],
    });
  });
});

describe('FaultController', () => {
  it('counted rules disappear after their calls; the first matching rule wins', () => {
    const faults = new FaultController({
      rules: [
        { method: 'GET', route: '/x', action: { kind: 'status', status: 500 }, times: 2 },
        { route: '*', action: { kind: 'hang' } },
      ],
    });
    expect(faults.decide('GET', '/x').action).toEqual({ kind: 'status', status: 500 });
    expect(faults.decide('get', '/x').action).toEqual({ kind: 'status', status: 500 });
    expect(faults.decide('GET', '/x').action).toEqual({ kind: 'hang' });
    expect(faults.get().rules).toHaveLength(1);
  });

  it('error rate uses the injected random source', () => {
    let next = 0.1;
    const faults = new FaultController({ errorRate: 0.5, latencyMs: 7 }, () => next);
    expect(faults.decide('GET', '/x')).toEqual({ latencyMs: 7, action: { kind: 'status', status: 503 } });
    next = 0.9;
    expect(faults.decide('GET', '/x')).toEqual({ latencyMs: 7 });
    faults.clear();
    expect(faults.get()).toEqual({ latencyMs: 0, errorRate: 0, rules: [] });
  });
});
