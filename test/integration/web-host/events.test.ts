/**
 * GET /api/events: snapshot then events; a reconnect with `after` and the right run gets exactly what it missed,
 * while the station keeps publishing; anything else gets a fresh snapshot; slow, dead and chatty sockets go.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StationEvent } from '../../../electron/station-api';
import { CLOSE_TOO_SLOW, startWebHost, type WebHost, type WebHostOptions } from '../../../electron/web-host';
import { rawRequest, WebHostClient, type EventSocket } from '../../support/web-host-client';
import { StationDouble } from './station-double';

let station: StationDouble;
let host: WebHost | null = null;
let client: WebHostClient;
let logs: string[] = [];
const sockets: EventSocket[] = [];
let stopPublishing: (() => Promise<void>) | null = null;

type StartOptions = { retain?: number; delivery?: 'sync' | 'queued' } & Partial<WebHostOptions>;

async function start({ retain, delivery, ...options }: StartOptions = {}): Promise<void> {
  station = new StationDouble({ retain, delivery });
  logs = [];
  host = await startWebHost({ station, log: (line) => logs.push(line), ...options });
  client = new WebHostClient(host.origin, host.token);
}

function open(options: Parameters<WebHostClient['events']>[0] = {}): EventSocket {
  const socket = client.events(options);
  sockets.push(socket);
  return socket;
}

afterEach(async () => {
  await stopPublishing?.();
  stopPublishing = null;
  for (const socket of sockets.splice(0)) socket.terminate();
  await client.close();
  await host?.close();
  host = null;
});

const seqs = (events: StationEvent[]) => events.map((event) => event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const eventCount = (count: number) => (messages: readonly { type: string }[]) =>
  messages.filter((message) => message.type === 'event').length >= count;

/** Publishes `perTick` events on every turn of the event loop until `total`, as a busy station does. */
function publishContinuously(total: number, perTick: number): { done: Promise<void> } {
  let stopped = false;
  const done = new Promise<void>((resolve) => {
    const tick = () => {
      for (let i = 0; i < perTick && station.bus.seq < total; i++)
        station.publishLog([`line ${station.bus.seq + 1}`]);
      if (stopped || station.bus.seq >= total) resolve();
      else setImmediate(tick);
    };
    setImmediate(tick);
  });
  stopPublishing = async () => {
    stopped = true;
    await done;
  };
  return { done };
}

describe('a new client', () => {
  it('gets the snapshot first, then every event in seq order', async () => {
    await start();
    const socket = open();
    await socket.waitFor((messages) => messages.length === 1);
    expect(socket.messages[0]).toEqual({ type: 'snapshot', snapshot: station.snapshot() });

    const published = [station.publishLog(['a']), station.publishLog(['b']), station.publishLog(['c'])];
    await socket.waitFor(eventCount(3));
    expect(socket.messages.slice(1)).toEqual(published.map((event) => ({ type: 'event', event })));
    expect(socket.unreadable).toEqual([]);
  });

  it('joining late, gets the snapshot at the current seq and only the events after it', async () => {
    await start();
    for (let i = 0; i < 5; i++) station.publishLog();
    const socket = open();
    await socket.waitFor((messages) => messages.length === 1);
    expect(socket.messages[0]).toMatchObject({
      type: 'snapshot',
      snapshot: { seq: 5, runId: station.runId },
    });
    station.publishLog();
    await socket.waitFor(eventCount(1));
    expect(seqs(socket.events())).toEqual([6]);
  });

  it('several clients each get every event', async () => {
    await start();
    const clients = [open(), open({ auth: 'header' }), open({ auth: 'cookie' })];
    await Promise.all(clients.map((socket) => socket.waitFor((messages) => messages.length === 1)));
    for (let i = 0; i < 50; i++) station.publishLog();
    for (const socket of clients) {
      await socket.waitFor(eventCount(50));
      expect(seqs(socket.events())).toEqual(range(1, 50));
    }
  });

  it('never gets an event its snapshot already holds, when the station delivers events late', async () => {
    await start({ delivery: 'queued' });
    station.hold();
    for (let i = 0; i < 5; i++) station.publishLog();
    // The five events are still on their way to listeners as this client subscribes.
    const socket = open();
    await socket.waitFor((messages) => messages.length === 1);
    expect(socket.messages[0]).toMatchObject({ type: 'snapshot', snapshot: { seq: 5 } });
    station.release();
    station.publishLog();
    await socket.waitFor(eventCount(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seqs(socket.events())).toEqual([6]);
  });
});

describe('resuming', () => {
  it.each(['sync', 'queued'] as const)(
    'after drops mid-stream, the union of what was received is exactly 1..N, once each, in order (%s delivery)',
    async (delivery) => {
      await start({ delivery });
      const N = 3_000;
      let socket = open();
      await socket.waitFor((messages) => messages.length === 1);
      expect(socket.messages[0]).toMatchObject({ type: 'snapshot', snapshot: { seq: 0 } });
      const received: StationEvent[] = [];
      const publishing = publishContinuously(N, 7);

      // Drop at growing points of the stream, alternately without a close frame and with one, and come back at once.
      for (const [index, dropAt] of [200, 700, 1_300, 2_000, 2_600].entries()) {
        await socket.waitFor(() => received.length + socket.events().length >= dropAt, 10_000);
        if (index % 2 === 0) socket.terminate();
        else await socket.close();
        received.push(...socket.events());
        const after = received.at(-1)?.seq ?? 0;
        socket = open({ after, run: station.runId });
        await socket.waitFor((messages) => messages.length >= 1);
        expect(socket.messages[0]).toEqual({ type: 'resume', after });
        expect(socket.messages.some((message) => message.type === 'snapshot')).toBe(false);
      }
      await publishing.done;
      await socket.waitFor(() => received.length + socket.events().length >= N, 10_000);
      received.push(...socket.events());

      expect(seqs(received)).toEqual(range(1, N));
      for (const socket of sockets) expect(socket.unreadable).toEqual([]);
    },
  );

  it('a resumed client never gets an event it had, when the station delivers events late', async () => {
    await start({ delivery: 'queued' });
    station.hold();
    for (let i = 0; i < 8; i++) station.publishLog();
    const socket = open({ after: 3, run: station.runId });
    await socket.waitFor(eventCount(5));
    station.release();
    station.publishLog();
    await socket.waitFor(eventCount(6));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(socket.messages[0]).toEqual({ type: 'resume', after: 3 });
    expect(seqs(socket.events())).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('resuming at the current seq sends resume and then only live events', async () => {
    await start();
    for (let i = 0; i < 4; i++) station.publishLog();
    const socket = open({ after: 4, run: station.runId });
    await socket.waitFor((messages) => messages.length === 1);
    expect(socket.messages).toEqual([{ type: 'resume', after: 4 }]);
    station.publishLog();
    await socket.waitFor(eventCount(1));
    expect(seqs(socket.events())).toEqual([5]);
  });

  it('resumes with exactly the retained events after a recent seq', async () => {
    await start({ retain: 10 });
    for (let i = 0; i < 30; i++) station.publishLog();
    const socket = open({ after: 25, run: station.runId });
    await socket.waitFor(eventCount(5));
    expect(socket.messages[0]).toEqual({ type: 'resume', after: 25 });
    expect(seqs(socket.events())).toEqual([26, 27, 28, 29, 30]);
  });

  const freshSnapshotCases: [string, (station: StationDouble) => Parameters<WebHostClient['events']>[0]][] = [
    ['a seq too old to be still retained', (s) => ({ after: 5, run: s.runId })],
    ['another run', () => ({ after: 25, run: 'a-previous-run' })],
    ['no run', () => ({ after: 25 })],
    ['a seq this run never reached', (s) => ({ after: 31, run: s.runId })],
  ];
  for (const [what, options] of freshSnapshotCases) {
    it(`gets a fresh snapshot for ${what}`, async () => {
      await start({ retain: 10 });
      for (let i = 0; i < 30; i++) station.publishLog();
      const socket = open(options(station));
      await socket.waitFor((messages) => messages.length === 1);
      expect(socket.messages[0]).toMatchObject({ type: 'snapshot', snapshot: { seq: 30 } });
      station.publishLog();
      await socket.waitFor(eventCount(1));
      expect(seqs(socket.events())).toEqual([31]);
    });
  }

  it('a malformed after is no resume point', async () => {
    await start();
    station.publishLog();
    for (const after of ['abc', '-1', '1.5', '1e3', '', '0x1', '99999999999999999999']) {
      const socket = open({ after, run: station.runId });
      await socket.waitFor((messages) => messages.length === 1);
      expect(socket.messages[0]).toMatchObject({ type: 'snapshot' });
    }
  });
});

describe('socket hygiene', () => {
  it('closes a client that reads too slowly with 4008, and it resumes from what it had', async () => {
    await start();
    const socket = open();
    await socket.opened;
    await socket.waitFor((messages) => messages.length === 1);
    socket.pauseReading();
    const line = 'x'.repeat(256 * 1024);
    // About 40 MB offered; the host must give up on this socket long before it has buffered all of it.
    for (let i = 0; i < 160 && !logs.some((l) => l.includes('too slow')); i++) {
      station.publishLog([line]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(logs.some((l) => l.includes('too slow'))).toBe(true);
    expect(station.subscribers).toBe(0);
    socket.resumeReading();
    expect((await socket.closed).code).toBe(CLOSE_TOO_SLOW);

    const got = seqs(socket.events());
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(station.bus.seq);
    expect(got).toEqual(range(1, got.length));
    const resumed = open({ after: got.at(-1)!, run: station.runId });
    await resumed.waitFor(eventCount(station.bus.seq - got.length), 10_000);
    expect(seqs(resumed.events())).toEqual(range(got.length + 1, station.bus.seq));
  });

  it('terminates a socket that stops answering pings, and keeps one that answers', async () => {
    await start({ heartbeatMs: 50 });
    const dead = open({ autoPong: false });
    const alive = open();
    await Promise.all([dead.opened, alive.opened]);
    expect((await dead.closed).code).toBe(1006);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(alive.readyState).toBe(1);
    expect(station.subscribers).toBe(1);
  });

  it('closes a socket whose client sends anything, with 1003', async () => {
    await start();
    const socket = open();
    await socket.opened;
    socket.send('{"type":"hello"}');
    expect((await socket.closed).code).toBe(1003);
    await waitUntil(() => station.subscribers === 0);
  });

  it('a plain GET of /api/events is 426', async () => {
    await start();
    const answer = await rawRequest(host!.port, {
      path: '/api/events',
      headers: { authorization: `Bearer ${host!.token}` },
    });
    expect(answer.status).toBe(426);
  });

  it('close() closes every socket with 1001 and leaves no subscription on the station', async () => {
    await start();
    const clients = [open(), open()];
    await Promise.all(clients.map((socket) => socket.waitFor((messages) => messages.length === 1)));
    expect(station.subscribers).toBe(2);
    await host!.close();
    for (const socket of clients) expect((await socket.closed).code).toBe(1001);
    expect(station.subscribers).toBe(0);
    // Publishing after close reaches no one and breaks nothing.
    station.publishLog();
    await host!.close();
  });

  it('a dropped client leaves no subscription behind', async () => {
    await start();
    const socket = open();
    await socket.waitFor((messages) => messages.length === 1);
    socket.terminate();
    await waitUntil(() => station.subscribers === 0);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
