/** The renderer's station store over a fake bridge: the reducer over the stream, loss and resume after the last seq. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Snapshot, StationBridge, StreamMessage, StreamPosition } from '../../../electron/station-api';
import { createStationStore } from '../../../renderer/src/store/station-store';

const snapshot = (seq: number, runId = 'run-1'): Snapshot => ({
  seq,
  runId,
  station: {
    id: 's',
    name: 'S',
    line: null,
    site: null,
    environment: 'sandbox',
    startMode: 'on-plug',
    softwareVersion: '0',
    demoAccounts: null,
    needsFirstAdmin: false,
  },
  recipes: [],
  session: null,
  batch: null,
  slots: [],
  recentUnits: [],
  lastScan: null,
  stopped: null,
  central: null,
  centralRecord: null,
});

class FakeBridge implements StationBridge {
  readonly subscriptions: Array<{
    from: StreamPosition | null;
    send: (message: StreamMessage) => void;
    close: (reason: string) => void;
  }> = [];
  execute = vi.fn(async () => ({ ok: true as const }));
  subscribe(from: StreamPosition | null, send: (m: StreamMessage) => void, close: (reason: string) => void) {
    this.subscriptions.push({ from, send, close });
    return () => undefined;
  }
  get last() {
    return this.subscriptions.at(-1)!;
  }
}

const stopped = (seq: number): StreamMessage => ({
  type: 'event',
  event: { seq, kind: 'station.stopped', at: '2026-12-01T08:00:00.000Z', reason: `r${seq}` },
});

afterEach(() => vi.useRealTimers());

describe('the station store', () => {
  it('reduces the stream, and after a loss resumes after the last event it holds', async () => {
    vi.useFakeTimers();
    const bridge = new FakeBridge();
    const store = createStationStore(bridge, { retryMs: 100, now: () => 42 });
    expect(store.getState().connection).toBe('connecting');
    expect(bridge.last.from).toBeNull();
    bridge.last.send({ type: 'snapshot', snapshot: snapshot(3) });
    bridge.last.send(stopped(4));
    bridge.last.send(stopped(4)); // a duplicate is ignored
    expect(store.getState()).toMatchObject({
      connection: 'live',
      snapshot: { seq: 4, stopped: { reason: 'r4' } },
    });

    bridge.last.close('gone');
    expect(store.getState().connection).toBe('lost');
    await vi.advanceTimersByTimeAsync(100);
    expect(bridge.subscriptions).toHaveLength(2);
    expect(bridge.last.from).toEqual({ runId: 'run-1', seq: 4 });
    bridge.last.send({ type: 'resume', after: 4 });
    bridge.last.send(stopped(5));
    expect(store.getState()).toMatchObject({ connection: 'live', reconnectedAt: 42, snapshot: { seq: 5 } });

    // The station restarted: a new run's snapshot replaces the old state.
    bridge.last.close('gone');
    await vi.advanceTimersByTimeAsync(100);
    bridge.last.send({ type: 'snapshot', snapshot: snapshot(1, 'run-2') });
    expect(store.getState().snapshot).toMatchObject({ runId: 'run-2', seq: 1, stopped: null });
    store.stop();
  });

  it('backs off between reconnects, up to its limit', async () => {
    vi.useFakeTimers();
    const bridge = new FakeBridge();
    const store = createStationStore(bridge, { retryMs: 100, maxRetryMs: 300 });
    for (const wait of [100, 200, 300, 300]) {
      bridge.last.close('gone');
      const before = bridge.subscriptions.length;
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(bridge.subscriptions).toHaveLength(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(bridge.subscriptions).toHaveLength(before + 1);
    }
    store.stop();
  });
});
