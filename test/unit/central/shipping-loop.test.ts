/**
 * The shipping loop's states, with a stand-in shipper (the real one is tested against PostgreSQL in
 * test/e2e/central): what the station reports while it ships, while the database is down, and once refused.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CentralRefusedError,
  ShippingLoop,
  type CentralStatus,
  type ShipResult,
  type TrailShipper,
} from '../../../electron/central';

type Round = ShipResult | Error;

function shipperAnswering(rounds: Round[], localSeq = () => 40) {
  let calls = 0;
  const shipper = {
    localSeq,
    shipPending: () => {
      const round = rounds[Math.min(calls++, rounds.length - 1)]!;
      return round instanceof Error ? Promise.reject(round) : Promise.resolve(round);
    },
  } as unknown as TrailShipper;
  return { shipper, calls: () => calls };
}

/** The loop as the station runs it, over a stand-in shipper. */
const loopOver = (
  shipper: ConstructorParameters<typeof ShippingLoop>[0]['shipper'],
  intervalMs: number,
  onStatus: ConstructorParameters<typeof ShippingLoop>[0]['onStatus'],
) => new ShippingLoop({ shipper, url: 'postgres://s@db/x', intervalMs, onStatus });

const round = (centralSeq: number, localSeq: number): ShipResult => ({
  shipped: centralSeq,
  centralSeq,
  localSeq,
  behind: localSeq - centralSeq,
});

describe('the shipping loop', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('reports starting, then caught up, and only what changes', async () => {
    const { shipper, calls } = shipperAnswering([round(40, 40)]);
    const seen: CentralStatus[] = [];
    const loop = loopOver(shipper, 100, (s) => seen.push(s));
    expect(loop.status.state).toBe('starting');
    loop.start();
    await vi.advanceTimersByTimeAsync(1000);
    // Ten rounds, one change: nothing to tell after the first.
    expect(calls()).toBeGreaterThanOrEqual(10);
    expect(seen.map((s) => [s.state, s.centralSeq, s.behind])).toEqual([['caught-up', 40, 0]]);
    await loop.stop();
  });

  it('while the database is down it says so with the backlog, waits longer each time, and catches up after', async () => {
    let local = 40;
    const down = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const { shipper, calls } = shipperAnswering(
      [round(40, 40), down, down, down, round(45, 45)],
      () => local,
    );
    const seen: CentralStatus[] = [];
    const loop = loopOver(shipper, 100, (s) => seen.push(s));
    loop.start();
    await vi.advanceTimersByTimeAsync(50);
    local = 45;
    await vi.advanceTimersByTimeAsync(100); // round 2: down
    expect(seen.at(-1)).toMatchObject({ state: 'down', centralSeq: 40, localSeq: 45, behind: 5 });
    expect(seen.at(-1)!.problem).toBe(
      'connect ECONNREFUSED 127.0.0.1:5432; the station keeps provisioning and ships once the database is back',
    );
    // Backoff: 1 s, then 2 s, then 4 s before the next tries (round 2 was at 100 ms).
    await vi.advanceTimersByTimeAsync(949);
    expect(calls()).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls()).toBe(3);
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls()).toBe(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls()).toBe(4);
    await vi.advanceTimersByTimeAsync(4000);
    expect(calls()).toBe(5);
    expect(seen.at(-1)).toMatchObject({ state: 'caught-up', centralSeq: 45, behind: 0, problem: null });
    await loop.stop();
  });

  it('stops for good when refused, and the reason stays in the status', async () => {
    const refusal = new CentralRefusedError(
      'the central database refuses station "s1": seq 7 is the first that differs',
      7,
    );
    const { shipper, calls } = shipperAnswering([refusal]);
    const loop = loopOver(shipper, 100, () => undefined);
    loop.start();
    await loop.finished;
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls()).toBe(1);
    expect(loop.status).toMatchObject({ state: 'refused', problem: refusal.message });
  });

  it('stop ends a wait at once', async () => {
    const { shipper } = shipperAnswering([round(1, 1)]);
    const loop = loopOver(shipper, 60_000, () => undefined);
    loop.start();
    await vi.advanceTimersByTimeAsync(10);
    let stopped = false;
    void loop.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(true);
  });
});
