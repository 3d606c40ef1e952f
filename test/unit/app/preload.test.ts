/**
 * The preload (electron/app/preload.ts) with a fake 'electron' module: it exposes exactly the contract's
 * StationBridge under BRIDGE_GLOBAL, and the page's callbacks get plain messages, never an IpcRendererEvent.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { IPC, type StreamEnvelope } from '../../../electron/app/channels';
import { BRIDGE_GLOBAL, type StationBridge, type StreamMessage } from '../../../electron/station-api';

type RendererListener = (event: unknown, ...args: unknown[]) => void;

const fake = vi.hoisted(() => {
  const state = {
    exposed: new Map<string, unknown>(),
    listeners: new Map<string, Set<RendererListener>>(),
    invocations: [] as Array<{ channel: string; payload: unknown }>,
    /** What the next invoke of a channel resolves to (or rejects with, for an Error). */
    answers: new Map<string, unknown>(),
  };
  return state;
});

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => fake.exposed.set(key, api),
  },
  ipcRenderer: {
    invoke: async (channel: string, payload: unknown) => {
      fake.invocations.push({ channel, payload });
      const answer = fake.answers.get(channel) ?? { ok: true };
      if (answer instanceof Error) throw answer;
      return answer;
    },
    on: (channel: string, listener: RendererListener) => {
      const set = fake.listeners.get(channel) ?? new Set<RendererListener>();
      set.add(listener);
      fake.listeners.set(channel, set);
    },
    removeListener: (channel: string, listener: RendererListener) => {
      fake.listeners.get(channel)?.delete(listener);
    },
  },
}));

/** An IpcRendererEvent as Electron makes one: it carries the ipcRenderer and the sender. */
const ipcEvent = { sender: { secret: 'ipcRenderer itself' }, senderId: 0, ports: [] };

function emit(envelope: StreamEnvelope | unknown): void {
  for (const listener of [...(fake.listeners.get(IPC.stream) ?? [])]) listener(ipcEvent, envelope);
}

const listenerCount = (): number => fake.listeners.get(IPC.stream)?.size ?? 0;

async function loadBridge(): Promise<StationBridge> {
  vi.resetModules();
  await import('../../../electron/app/preload');
  return fake.exposed.get(BRIDGE_GLOBAL) as StationBridge;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => {
  fake.exposed.clear();
  fake.listeners.clear();
  fake.invocations.length = 0;
  fake.answers.clear();
});

describe('preload', () => {
  it('exposes exactly the StationBridge methods, under BRIDGE_GLOBAL and nothing else', async () => {
    const bridge = await loadBridge();
    expect([...fake.exposed.keys()]).toEqual([BRIDGE_GLOBAL]);
    expect(BRIDGE_GLOBAL).toBe('stationBridge');
    const methods: Record<keyof StationBridge, true> = { execute: true, subscribe: true };
    expect(Object.keys(bridge).sort()).toEqual(Object.keys(methods).sort());
    for (const value of Object.values(bridge)) expect(typeof value).toBe('function');
  });

  it('execute sends {command, input} on the execute channel and answers the result', async () => {
    const bridge = await loadBridge();
    fake.answers.set(IPC.execute, { ok: true, snapshot: { seq: 3 } });
    expect(await bridge.execute('station.status', {})).toEqual({ ok: true, snapshot: { seq: 3 } });
    expect(fake.invocations).toEqual([
      { channel: IPC.execute, payload: { command: 'station.status', input: {} } },
    ]);
  });

  it('execute never rejects: a failed invoke is {ok:false, code, message}', async () => {
    const bridge = await loadBridge();
    fake.answers.set(IPC.execute, new Error("No handler registered for 'station:execute'"));
    expect(await bridge.execute('station.status', {})).toEqual({
      ok: false,
      code: 'INTERNAL_ERROR',
      message: expect.stringContaining('No handler registered'),
    });
  });

  it('subscribe listens before it asks, and its callback receives messages, not the IpcRendererEvent', async () => {
    const bridge = await loadBridge();
    const received: unknown[][] = [];
    const from = { runId: 'run-1', seq: 4 };
    bridge.subscribe(
      from,
      (...args) => received.push(args),
      () => undefined,
    );
    expect(listenerCount()).toBe(1);
    const [call] = fake.invocations;
    expect(call?.channel).toBe(IPC.subscribe);
    const { page, id } = call!.payload as { page: string; id: string; from: unknown };
    expect(call!.payload).toEqual({ page: expect.any(String), id: expect.any(String), from });
    expect(page.length).toBeGreaterThan(0);

    const resume: StreamMessage = { type: 'resume', after: 4 };
    emit({ id, message: resume });
    expect(received).toEqual([[resume]]);
    for (const args of received) {
      expect(args).toHaveLength(1);
      expect(args).not.toContain(ipcEvent);
    }
  });

  it('messages of other streams and malformed envelopes are not delivered', async () => {
    const bridge = await loadBridge();
    const received: unknown[] = [];
    bridge.subscribe(
      null,
      (m) => received.push(m),
      () => undefined,
    );
    bridge.subscribe(
      null,
      () => undefined,
      () => undefined,
    );
    const [first, second] = fake.invocations.map((c) => (c.payload as { id: string }).id);
    expect(first).not.toBe(second);
    emit({ id: second, message: { type: 'resume', after: 0 } });
    emit(null);
    emit('text');
    emit({ message: { type: 'resume', after: 0 } });
    expect(received).toEqual([]);
    emit({ id: first, message: { type: 'resume', after: 1 } });
    expect(received).toEqual([{ type: 'resume', after: 1 }]);
  });

  it('the returned function stops the stream: listener removed, the main process told, nothing more delivered', async () => {
    const bridge = await loadBridge();
    const received: unknown[] = [];
    const stop = bridge.subscribe(
      null,
      (m) => received.push(m),
      () => undefined,
    );
    const { page, id } = fake.invocations[0]!.payload as { page: string; id: string };
    stop();
    stop();
    expect(listenerCount()).toBe(0);
    expect(fake.invocations.filter((c) => c.channel === IPC.unsubscribe)).toEqual([
      { channel: IPC.unsubscribe, payload: { page, id } },
    ]);
    emit({ id, message: { type: 'resume', after: 0 } });
    expect(received).toEqual([]);
  });

  it('a stream closed by the main process calls onClose with the reason, once, and stops listening', async () => {
    const bridge = await loadBridge();
    const closed: unknown[][] = [];
    bridge.subscribe(
      null,
      () => undefined,
      (...args) => closed.push(args),
    );
    const { id } = fake.invocations[0]!.payload as { id: string };
    emit({ id, closed: 'the station app is closing' });
    emit({ id, closed: 'again' });
    expect(closed).toEqual([['the station app is closing']]);
    expect(listenerCount()).toBe(0);
  });

  it('a refused or failed subscribe calls onClose with the reason and stops listening', async () => {
    const bridge = await loadBridge();
    fake.answers.set(IPC.subscribe, { ok: false, code: 'FORBIDDEN_SENDER', message: 'not this frame' });
    const reasons: string[] = [];
    bridge.subscribe(
      null,
      () => undefined,
      (reason) => reasons.push(reason),
    );
    await flush();
    expect(reasons).toEqual(['not this frame']);
    expect(listenerCount()).toBe(0);

    fake.answers.set(IPC.subscribe, new Error('channel gone'));
    bridge.subscribe(
      null,
      () => undefined,
      (reason) => reasons.push(reason),
    );
    await flush();
    expect(reasons[1]).toContain('channel gone');
    expect(listenerCount()).toBe(0);
  });

  it('each load of the page gets a new page id (so the main process can drop a previous page’s streams)', async () => {
    let bridge = await loadBridge();
    bridge.subscribe(
      null,
      () => undefined,
      () => undefined,
    );
    bridge = await loadBridge();
    bridge.subscribe(
      null,
      () => undefined,
      () => undefined,
    );
    const pages = fake.invocations.map((c) => (c.payload as { page: string }).page);
    expect(pages).toHaveLength(2);
    expect(pages[0]).not.toBe(pages[1]);
  });
});
