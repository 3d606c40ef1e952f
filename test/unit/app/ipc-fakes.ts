/**
 * Stand-ins for the Electron objects electron/app/ipc.ts touches (ipcMain, a webContents, its frames, the invoke
 * event) and a station double on a real EventBus, so seq, retention and eventsAfter behave as the station's.
 */
import { randomUUID } from 'node:crypto';
import type { FrameLike, InvokeEventLike, IpcMainLike, SenderLike } from '../../../electron/app/ipc';
import type { StreamEnvelope } from '../../../electron/app/channels';
import type {
  CommandFailure,
  CommandName,
  CommandResult,
  Snapshot,
  StationEvent,
} from '../../../electron/station-api';
import { EventBus } from '../../../electron/station/event-bus';
import type { StationHandle } from '../../../electron/station/station-handle';

type Listener = (event: InvokeEventLike, ...args: unknown[]) => unknown;

export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Listener>();
  /** Every registration, in order, as `handle:<channel>` (ipc.ts registers no `on` listeners). */
  readonly registrations: string[] = [];

  handle(channel: string, listener: Listener): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
    this.registrations.push(`handle:${channel}`);
  }

  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }

  /** What `ipcRenderer.invoke(channel, payload)` would resolve to (Electron rejects when a handler throws). */
  async invoke(channel: string, event: InvokeEventLike, payload: unknown): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return await handler(event, payload);
  }
}

let nextSenderId = 1;

export class FakeFrame implements FrameLike {
  constructor(
    public url: string,
    readonly parent: FakeFrame | null = null,
    readonly processId = 7,
    readonly routingId = Math.floor(Math.random() * 1e6),
  ) {}
}

export class FakeSender implements SenderLike {
  readonly id = nextSenderId++;
  readonly mainFrame: FakeFrame;
  readonly sent: Array<{ channel: string; envelope: StreamEnvelope }> = [];
  private destroyed = false;
  private readonly destroyedListeners: Array<() => void> = [];
  /** Makes the next `send` throw, as Electron does for a value it cannot serialise. */
  failNextSend = false;

  constructor(url = 'app://station/index.html') {
    this.mainFrame = new FakeFrame(url);
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }

  send(channel: string, ...args: unknown[]): void {
    if (this.destroyed) throw new Error('Object has been destroyed');
    if (this.failNextSend) {
      this.failNextSend = false;
      throw new Error('An object could not be cloned.');
    }
    this.sent.push({ channel, envelope: args[0] as StreamEnvelope });
  }

  once(event: 'destroyed', listener: () => void): this {
    if (event === 'destroyed') this.destroyedListeners.push(listener);
    return this;
  }

  /** How many 'destroyed' listeners are waiting (each webContents should get one, however often it reloads). */
  get destroyedListenerCount(): number {
    return this.destroyedListeners.length;
  }

  destroy(): void {
    this.destroyed = true;
    for (const listener of this.destroyedListeners.splice(0)) listener();
  }

  /** The envelopes of one stream, in order. */
  streamOf(id: string): StreamEnvelope[] {
    return this.sent.filter((s) => s.envelope.id === id).map((s) => s.envelope);
  }

  /** The main frame's invoke event; `frame` another frame of this webContents (a subframe, a stale one). */
  event(frame: FakeFrame | null = this.mainFrame): InvokeEventLike {
    return { sender: this, senderFrame: frame };
  }
}

export function initialSnapshot(runId: string): Snapshot {
  return {
    seq: 0,
    runId,
    station: {
      id: 'station-test',
      name: 'Line 1 station',
      line: null,
      site: null,
      environment: 'sandbox',
      startMode: 'on-plug',
      softwareVersion: '0.0.0-test',
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
  };
}

export class StationDouble implements StationHandle {
  readonly runId = randomUUID();
  readonly bus: EventBus;
  /** Every argument list any method received: the IPC event must never be among them. */
  readonly received: unknown[][] = [];
  /** Commands that reached the station. */
  readonly executed: Array<{ name: CommandName; input: unknown }> = [];
  /** The next execute throws this (breaking the never-throws contract, as a buggy core would). */
  throwNext: Error | null = null;
  /** Runs inside snapshot(), eventsAfter() and subscribe(): events published while a stream opens. */
  duringRead: (() => void) | null = null;
  subscribers = 0;

  constructor(options: { retain?: number } = {}) {
    this.bus = new EventBus({ initial: initialSnapshot(this.runId), retain: options.retain });
  }

  async execute<N extends CommandName>(name: N, input: unknown): Promise<CommandResult<N>> {
    this.received.push([name, input]);
    this.executed.push({ name, input });
    if (this.throwNext) {
      const error = this.throwNext;
      this.throwNext = null;
      throw error;
    }
    if (name === 'station.status') return { ok: true, snapshot: this.snapshot() } as CommandResult<N>;
    return { ok: false, code: 'FORBIDDEN', message: `${name} is not offered by the double` };
  }

  async executeUnchecked(
    name: unknown,
    input: unknown,
  ): Promise<CommandResult<CommandName> | CommandFailure> {
    this.received.push([name, input]);
    throw new Error('the IPC host must validate the name itself and call execute');
  }

  snapshot(): Snapshot {
    this.received.push([]);
    this.duringRead?.();
    return this.bus.snapshot;
  }

  eventsAfter(seq: number): StationEvent[] | null {
    this.received.push([seq]);
    this.duringRead?.();
    return this.bus.eventsAfter(seq);
  }

  subscribe(listener: (event: StationEvent) => void): () => void {
    this.received.push([listener]);
    // An event may land just before the subscription does: a host that read the state first would miss it.
    this.duringRead?.();
    const unsubscribe = this.bus.subscribe(listener);
    this.subscribers++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.subscribers--;
      unsubscribe();
    };
  }

  publish(): StationEvent {
    return this.bus.publish({
      kind: 'accounts.changed',
      at: new Date().toISOString(),
      needsFirstAdmin: false,
    });
  }
}
