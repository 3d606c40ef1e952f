/**
 * The Electron IPC wiring (electron/app/ipc.ts) with fakes: what reaches the station, who may call, the shape of
 * every answer, and the event stream (snapshot or resume, no gap, no duplicate, per-window cleanup).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IPC, type StreamEnvelope } from '../../../electron/app/channels';
import {
  MAX_STREAMS_PER_PAGE,
  registerStationIpc,
  trustedSender,
  type InvokeEventLike,
  type StationIpc,
} from '../../../electron/app/ipc';
import { COMMAND_NAMES, type StreamMessage } from '../../../electron/station-api';
import { FakeFrame, FakeIpcMain, FakeSender, StationDouble } from './ipc-fakes';

const APP_ORIGIN = 'app://station';

interface Rig {
  ipcMain: FakeIpcMain;
  station: StationDouble;
  window: FakeSender;
  ipc: StationIpc;
  logs: string[];
}

let open: StationIpc[] = [];
afterEach(() => {
  for (const ipc of open) ipc.close();
  open = [];
});

function rig(options: { retain?: number } = {}): Rig {
  const ipcMain = new FakeIpcMain();
  const station = new StationDouble(options);
  const window = new FakeSender();
  const logs: string[] = [];
  const ipc = registerStationIpc({
    ipcMain,
    station,
    isTrustedSender: trustedSender({ origin: APP_ORIGIN, isAppWindow: (sender) => sender === window }),
    log: (line) => logs.push(line),
  });
  open.push(ipc);
  return { ipcMain, station, window, ipc, logs };
}

const execute = (r: Rig, payload: unknown, event: InvokeEventLike = r.window.event()) =>
  r.ipcMain.invoke(IPC.execute, event, payload);

const subscribe = (r: Rig, payload: unknown, event: InvokeEventLike = r.window.event()) =>
  r.ipcMain.invoke(IPC.subscribe, event, payload);

const messages = (envelopes: StreamEnvelope[]): StreamMessage[] =>
  envelopes.flatMap((e) => ('message' in e ? [e.message] : []));

const eventSeqs = (envelopes: StreamEnvelope[]): number[] =>
  messages(envelopes).flatMap((m) => (m.type === 'event' ? [m.event.seq] : []));

describe('channels', () => {
  it('registers one handler per concern and nothing else; close removes them', () => {
    const r = rig();
    expect(r.ipcMain.registrations).toEqual([
      `handle:${IPC.execute}`,
      `handle:${IPC.subscribe}`,
      `handle:${IPC.unsubscribe}`,
    ]);
    r.ipc.close();
    expect(r.ipcMain.handlers.size).toBe(0);
  });

  it('every command of the catalogue reaches the station by name over the one execute channel', async () => {
    const r = rig();
    for (const command of COMMAND_NAMES) await execute(r, { command, input: {} });
    // Those whose input `{}` is valid reached the station; the others were refused as BAD_INPUT, not unknown.
    const reached = new Set(r.station.executed.map((call) => call.name));
    expect(reached.has('station.status')).toBe(true);
    for (const command of COMMAND_NAMES) {
      if (reached.has(command)) continue;
      const result = await execute(r, { command, input: {} });
      expect(result).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    }
  });
});

describe('execute: validation before the station', () => {
  it('runs a valid command and answers its result', async () => {
    const r = rig();
    const result = await execute(r, { command: 'station.status', input: {} });
    expect(result).toMatchObject({ ok: true, snapshot: { runId: r.station.runId } });
    expect(r.station.executed).toEqual([{ name: 'station.status', input: {} }]);
  });

  it.each([
    ['an unknown name', { command: 'station.selfDestruct', input: {} }, 'UNKNOWN_COMMAND'],
    ['a name that is not a string', { command: 42, input: {} }, 'UNKNOWN_COMMAND'],
    ['an inherited property name', { command: 'constructor', input: {} }, 'UNKNOWN_COMMAND'],
    ['bad input', { command: 'slot.start', input: { slot: 7 } }, 'BAD_INPUT'],
    ['an unknown input field', { command: 'station.status', input: { extra: true } }, 'BAD_INPUT'],
    ['a missing envelope', undefined, 'BAD_INPUT'],
    ['an envelope with more keys', { command: 'station.status', input: {}, sender: 1 }, 'BAD_INPUT'],
    ['an envelope that is a string', 'station.status', 'BAD_INPUT'],
  ])('%s is refused without reaching the station', async (_what, payload, code) => {
    const r = rig();
    const result = await execute(r, payload);
    expect(result).toMatchObject({ ok: false, code });
    expect(typeof (result as { message: unknown }).message).toBe('string');
    expect(r.station.executed).toEqual([]);
  });

  it('passes the parsed input on: what the station gets is exactly what the contract accepted', async () => {
    const r = rig();
    await execute(r, { command: 'slot.start', input: { slot: 'slot-1' } });
    expect(r.station.executed).toEqual([{ name: 'slot.start', input: { slot: 'slot-1' } }]);
  });
});

describe('execute: who may call', () => {
  const refused = { ok: false, code: 'FORBIDDEN_SENDER' };

  it.each([
    ['another origin', () => new FakeFrame('https://evil.example/index.html')],
    ['a file: page', () => new FakeFrame('file:///tmp/index.html')],
    ['the right host on another scheme', () => new FakeFrame('http://station/index.html')],
    ['a look-alike host', () => new FakeFrame('app://station.evil/index.html')],
    ['an unparsable URL', () => new FakeFrame('not a url')],
  ])('a main frame showing %s is refused', async (_what, frame) => {
    const r = rig();
    const sender = new FakeSender(frame().url);
    const ipcMain = r.ipcMain;
    // The same window object but showing a foreign page: the window check passes, the origin check must not.
    Object.defineProperty(r.window, 'mainFrame', { value: sender.mainFrame });
    const result = await ipcMain.invoke(IPC.execute, r.window.event(sender.mainFrame), {
      command: 'station.status',
      input: {},
    });
    expect(result).toEqual({ ...refused, message: expect.any(String) });
    expect(r.station.executed).toEqual([]);
    expect(r.logs.some((line) => line.includes('refused'))).toBe(true);
  });

  it('a subframe of the app window, even on the app origin, is refused', async () => {
    const r = rig();
    const subframe = new FakeFrame('app://station/index.html', r.window.mainFrame);
    expect(
      await execute(r, { command: 'station.status', input: {} }, r.window.event(subframe)),
    ).toMatchObject(refused);
    expect(r.station.executed).toEqual([]);
  });

  it('a frame that is gone (senderFrame null) or stale (not the current main frame) is refused', async () => {
    const r = rig();
    expect(await execute(r, { command: 'station.status', input: {} }, r.window.event(null))).toMatchObject(
      refused,
    );
    const stale = new FakeFrame('app://station/index.html');
    expect(await execute(r, { command: 'station.status', input: {} }, r.window.event(stale))).toMatchObject(
      refused,
    );
    expect(r.station.executed).toEqual([]);
  });

  it('another webContents showing the app origin (a window the app did not make) is refused', async () => {
    const r = rig();
    const stranger = new FakeSender('app://station/index.html');
    expect(await execute(r, { command: 'station.status', input: {} }, stranger.event())).toMatchObject(
      refused,
    );
    expect(await subscribe(r, { page: 'p', id: '1', from: null }, stranger.event())).toMatchObject(refused);
    expect(stranger.sent).toEqual([]);
    expect(r.station.executed).toEqual([]);
    expect(r.station.subscribers).toBe(0);
  });

  it('a predicate that throws refuses (as INTERNAL_ERROR), it does not let the call through', async () => {
    const ipcMain = new FakeIpcMain();
    const station = new StationDouble();
    open.push(
      registerStationIpc({
        ipcMain,
        station,
        isTrustedSender: () => {
          throw new Error('boom');
        },
      }),
    );
    const result = await ipcMain.invoke(IPC.execute, new FakeSender().event(), {
      command: 'station.status',
      input: {},
    });
    expect(result).toMatchObject({ ok: false, code: 'INTERNAL_ERROR' });
    expect(station.executed).toEqual([]);
  });
});

describe('execute: answers are values', () => {
  it('a station that throws gives {ok:false, code: INTERNAL_ERROR}, nothing thrown out of the handler', async () => {
    const r = rig();
    r.station.throwNext = new Error('database is locked at /secret/path');
    const result = await execute(r, { command: 'station.status', input: {} });
    expect(result).toEqual({ ok: false, code: 'INTERNAL_ERROR', message: expect.any(String) });
    // The page gets no internals; the technician's log does.
    expect(JSON.stringify(result)).not.toContain('/secret/path');
    expect(r.logs.join('\n')).toContain('database is locked');
  });

  it('a station answering something that is not a result is an INTERNAL_ERROR too', async () => {
    const r = rig();
    r.station.execute = async () => undefined as never;
    expect(await execute(r, { command: 'station.status', input: {} })).toMatchObject({
      ok: false,
      code: 'INTERNAL_ERROR',
    });
  });

  it('the station receives no IPC event, no webContents and no frame, from any channel', async () => {
    const r = rig();
    const event = r.window.event();
    await execute(r, { command: 'station.status', input: {} }, event);
    await execute(r, { command: 'slot.start', input: { slot: 'slot-1' } }, event);
    await subscribe(r, { page: 'p', id: '1', from: null }, event);
    await r.ipcMain.invoke(IPC.unsubscribe, event, { page: 'p', id: '1' });
    const seen = r.station.received.flat();
    expect(seen.length).toBeGreaterThan(0);
    for (const value of seen) {
      expect(value).not.toBe(event);
      expect(value).not.toBe(r.window);
      expect(value).not.toBe(r.window.mainFrame);
      if (typeof value === 'object' && value !== null) {
        expect(Object.keys(value)).not.toContain('sender');
        expect(Object.keys(value)).not.toContain('senderFrame');
      }
    }
  });

  it('the results that go back are the station results, not wrapped with anything of the event', async () => {
    const r = rig();
    const result = await execute(r, { command: 'station.status', input: {} });
    expect(Object.keys(result as object).sort()).toEqual(['ok', 'snapshot']);
  });
});

describe('stream', () => {
  it('starts with a snapshot, then sends each event once, to the subscribing webContents only', async () => {
    const r = rig();
    const other = new FakeSender();
    r.station.publish();
    expect(await subscribe(r, { page: 'p', id: 's1', from: null })).toEqual({ ok: true });
    r.station.publish();
    r.station.publish();
    const stream = r.window.streamOf('s1');
    const [first] = messages(stream);
    expect(first).toMatchObject({ type: 'snapshot', snapshot: { seq: 1, runId: r.station.runId } });
    expect(eventSeqs(stream)).toEqual([2, 3]);
    expect(r.window.sent.every((s) => s.channel === IPC.stream)).toBe(true);
    expect(other.sent).toEqual([]);
  });

  it('resumes after `from` with exactly the missed events, while events are being published', async () => {
    const r = rig();
    for (let i = 0; i < 5; i++) r.station.publish();
    // Events land while the stream reads the station's state: they must come out once, in order, after the rest.
    let bursts = 0;
    r.station.duringRead = () => {
      if (bursts++ < 3) r.station.publish();
    };
    expect(await subscribe(r, { page: 'p', id: 'r', from: { runId: r.station.runId, seq: 2 } })).toEqual({
      ok: true,
    });
    r.station.duringRead = null;
    r.station.publish();
    const stream = r.window.streamOf('r');
    expect(messages(stream)[0]).toEqual({ type: 'resume', after: 2 });
    const seqs = eventSeqs(stream);
    const last = r.station.snapshot().seq;
    expect(seqs).toEqual(Array.from({ length: last - 2 }, (_, i) => i + 3));
  });

  it('a snapshot stream opened while events are being published has no gap and no duplicate either', async () => {
    const r = rig();
    r.station.publish();
    let bursts = 0;
    r.station.duringRead = () => {
      if (bursts++ < 3) r.station.publish();
    };
    await subscribe(r, { page: 'p', id: 'x', from: null });
    r.station.duringRead = null;
    r.station.publish();
    const [first] = messages(r.window.streamOf('x'));
    expect(first?.type).toBe('snapshot');
    const held = first?.type === 'snapshot' ? first.snapshot.seq : -1;
    const seqs = eventSeqs(r.window.streamOf('x'));
    const last = r.station.snapshot().seq;
    expect(seqs).toEqual(Array.from({ length: last - held }, (_, i) => held + 1 + i));
  });

  it.each([
    ['another run', (_s: StationDouble) => ({ runId: 'not-this-run', seq: 1 })],
    ['a seq beyond the station', (s: StationDouble) => ({ runId: s.runId, seq: 99 })],
    ['a seq whose events are no longer kept', (s: StationDouble) => ({ runId: s.runId, seq: 0 })],
  ])('`from` of %s gets a snapshot instead', async (_what, from) => {
    const r = rig({ retain: 3 });
    for (let i = 0; i < 6; i++) r.station.publish();
    await subscribe(r, { page: 'p', id: 'f', from: from(r.station) });
    expect(messages(r.window.streamOf('f'))[0]).toMatchObject({ type: 'snapshot', snapshot: { seq: 6 } });
  });

  it('refuses a malformed subscribe without touching the station', async () => {
    const r = rig();
    for (const payload of [
      undefined,
      { page: 'p', id: '1' },
      { page: 'p', id: '1', from: { runId: 'x', seq: -1 } },
      { page: 'p', id: '', from: null },
      { page: 'p', id: 'x'.repeat(101), from: null },
      { page: 'p', id: '1', from: null, extra: 1 },
    ]) {
      expect(await subscribe(r, payload)).toMatchObject({ ok: false, code: 'BAD_INPUT' });
    }
    expect(r.station.subscribers).toBe(0);
    expect(r.window.sent).toEqual([]);
  });

  it('unsubscribe stops one stream; the others go on', async () => {
    const r = rig();
    await subscribe(r, { page: 'p', id: 'a', from: null });
    await subscribe(r, { page: 'p', id: 'b', from: null });
    expect(r.station.subscribers).toBe(2);
    expect(await r.ipcMain.invoke(IPC.unsubscribe, r.window.event(), { page: 'p', id: 'a' })).toEqual({
      ok: true,
    });
    r.station.publish();
    expect(eventSeqs(r.window.streamOf('a'))).toEqual([]);
    expect(eventSeqs(r.window.streamOf('b'))).toEqual([1]);
    expect(r.station.subscribers).toBe(1);
  });

  it('a second stream with the same id is refused; a page may not open streams without bound', async () => {
    const r = rig();
    await subscribe(r, { page: 'p', id: 'a', from: null });
    expect(await subscribe(r, { page: 'p', id: 'a', from: null })).toMatchObject({
      ok: false,
      code: 'BAD_INPUT',
    });
    for (let i = 1; i < MAX_STREAMS_PER_PAGE; i++) await subscribe(r, { page: 'p', id: `s${i}`, from: null });
    expect(await subscribe(r, { page: 'p', id: 'one-too-many', from: null })).toMatchObject({
      ok: false,
      code: 'TOO_MANY_STREAMS',
    });
    expect(r.station.subscribers).toBe(MAX_STREAMS_PER_PAGE);
  });

  it('a destroyed webContents ends its streams and their station subscriptions; other windows keep theirs', async () => {
    const r = rig();
    const second = new FakeSender();
    // Trust both windows for this test: cleanup is per webContents.
    const ipcMain = new FakeIpcMain();
    open.push(
      registerStationIpc({
        ipcMain,
        station: r.station,
        isTrustedSender: trustedSender({
          origin: APP_ORIGIN,
          isAppWindow: (s) => s === r.window || s === second,
        }),
      }),
    );
    await ipcMain.invoke(IPC.subscribe, r.window.event(), { page: 'p1', id: '1', from: null });
    await ipcMain.invoke(IPC.subscribe, r.window.event(), { page: 'p1', id: '2', from: null });
    await ipcMain.invoke(IPC.subscribe, second.event(), { page: 'p2', id: '1', from: null });
    expect(r.station.subscribers).toBe(3);
    expect(r.window.destroyedListenerCount).toBe(1);
    r.window.destroy();
    expect(r.station.subscribers).toBe(1);
    r.station.publish();
    expect(eventSeqs(second.streamOf('1'))).toEqual([1]);
  });

  it('a reload (a new page in the same webContents) ends the old page’s streams; one destroyed listener', async () => {
    const r = rig();
    await subscribe(r, { page: 'first-load', id: '1', from: null });
    await subscribe(r, { page: 'first-load', id: '2', from: null });
    await subscribe(r, { page: 'second-load', id: '1', from: null });
    expect(r.station.subscribers).toBe(1);
    expect(r.window.destroyedListenerCount).toBe(1);
    // The old page's id "1" is not the new page's "1": unsubscribing with the old page changes nothing.
    await r.ipcMain.invoke(IPC.unsubscribe, r.window.event(), { page: 'first-load', id: '1' });
    expect(r.station.subscribers).toBe(1);
  });

  it('a send that fails ends that stream, tells the page why, and leaves the station and other streams alone', async () => {
    const r = rig();
    await subscribe(r, { page: 'p', id: 'a', from: null });
    await subscribe(r, { page: 'p', id: 'b', from: null });
    r.window.failNextSend = true;
    r.station.publish();
    r.station.publish();
    const a = r.window.streamOf('a');
    expect(a.at(-1)).toEqual({ id: 'a', closed: expect.any(String) });
    expect(eventSeqs(r.window.streamOf('b'))).toEqual([1, 2]);
    expect(r.station.subscribers).toBe(1);
  });

  it('a webContents destroyed without notice ends its streams at the next send', async () => {
    const r = rig();
    await subscribe(r, { page: 'p', id: 'a', from: null });
    Object.defineProperty(r.window, 'isDestroyed', { value: () => true });
    r.station.publish();
    expect(r.station.subscribers).toBe(0);
  });

  it('a station that fails to give its state answers INTERNAL_ERROR and leaves no subscription', async () => {
    const r = rig();
    r.station.duringRead = () => {
      throw new Error('state unavailable');
    };
    expect(await subscribe(r, { page: 'p', id: 'a', from: null })).toMatchObject({
      ok: false,
      code: 'INTERNAL_ERROR',
    });
    expect(r.station.subscribers).toBe(0);
  });

  it('close() ends every stream with a closed message naming why', async () => {
    const r = rig();
    await subscribe(r, { page: 'p', id: 'a', from: null });
    r.ipc.close('the station app is closing');
    expect(r.window.streamOf('a').at(-1)).toEqual({ id: 'a', closed: 'the station app is closing' });
    expect(r.station.subscribers).toBe(0);
  });
});
