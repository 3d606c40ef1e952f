/**
 * The station on Electron IPC: the main-process half of `window.stationBridge`. Transport only, like the web host:
 * every decision about a command is the station's. Takes an ipcMain-like object and the station as parameters
 * (no Electron import), so the wiring is tested with fakes.
 *
 * - Every call is checked against `isTrustedSender` first: only the app's own page, in the main frame of a window
 *   the app created, may reach the station. An iframe, a navigated-away page or another webContents gets
 *   FORBIDDEN_SENDER (not FORBIDDEN, which the contract keeps for a person lacking a role).
 * - `command` and `input` are checked against the contract's catalogue before the station sees them (an unknown
 *   name is UNKNOWN_COMMAND, as the web host and the core say; bad input BAD_INPUT), and only the parsed input
 *   goes on: the IPC event (with its webContents and frame) never reaches the station or the page.
 * - Every outcome is a value, `{ok: false, code, message}` included; a handler never throws, so `invoke` in the
 *   renderer never rejects for anything the station or this file did.
 * - Streams: the same no-gap, no-duplicate delivery as the web host's event socket (subscribe to the station
 *   first, then read the snapshot or the backlog, drop every seq already held), sent to the subscribing
 *   webContents only and ended when it is destroyed or loads a new page.
 */
import { z } from 'zod';
import {
  isCommandName,
  parseCommandInput,
  type CommandFailure,
  type StationEvent,
  type StreamMessage,
  type StreamPosition,
} from '../station-api';
import type { StationHandle } from '../station';
import { IPC, type StreamEnvelope } from './channels';

/** The part of Electron's WebFrameMain this file reads. */
export interface FrameLike {
  readonly url: string;
  readonly parent: FrameLike | null;
  readonly processId: number;
  readonly routingId: number;
}

/** The part of Electron's WebContents this file uses. */
export interface SenderLike {
  readonly id: number;
  readonly mainFrame: FrameLike;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  once(event: 'destroyed', listener: () => void): unknown;
}

/** The part of Electron's IpcMainInvokeEvent this file reads; it goes no further than this file. */
export interface InvokeEventLike {
  readonly sender: SenderLike;
  /** Null when the frame has navigated or been destroyed since it sent the message. */
  readonly senderFrame: FrameLike | null;
}

/** The part of Electron's ipcMain this file uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface StationIpcOptions {
  ipcMain: IpcMainLike;
  station: StationHandle;
  /** True only for the main frame of a window this app created, showing the app's own origin. */
  isTrustedSender: (event: InvokeEventLike) => boolean;
  /** One line per refusal or failure worth a technician's eye; never a command's input. */
  log?: (line: string) => void;
}

export interface StationIpc {
  /** Ends every stream (each subscriber is told why) and removes the handlers. */
  close(reason?: string): void;
}

/** More than this many open streams in one page is a leak in the page, not a use. */
export const MAX_STREAMS_PER_PAGE = 16;

const failure = (code: string, message: string): CommandFailure => ({ ok: false, code, message });

const forbidden = failure(
  'FORBIDDEN_SENDER',
  'only the station app in its own window may talk to the station; this frame may not',
);

const positionSchema = z.strictObject({
  runId: z.string().min(1).max(200),
  seq: z.number().int().min(0),
});
const pageSchema = z.string().min(1).max(100);
const idSchema = z.string().min(1).max(100);
const executeSchema = z.strictObject({ command: z.unknown(), input: z.unknown() });
const subscribeSchema = z.strictObject({ page: pageSchema, id: idSchema, from: positionSchema.nullable() });
const unsubscribeSchema = z.strictObject({ page: pageSchema, id: idSchema });

/**
 * A predicate for `isTrustedSender`: the frame is the main frame of one of `isAppWindow`'s webContents and its URL
 * is on `origin` (e.g. `app://station`). Compared as scheme + host, because a URL parser gives a custom scheme an
 * opaque origin ("null").
 */
export function trustedSender(options: {
  origin: string;
  isAppWindow: (sender: SenderLike) => boolean;
}): (event: InvokeEventLike) => boolean {
  const expected = new URL(options.origin);
  return (event) => {
    const frame = event.senderFrame;
    const main = event.sender.mainFrame;
    if (frame === null || frame.parent !== null) return false;
    if (frame.processId !== main.processId || frame.routingId !== main.routingId) return false;
    if (!options.isAppWindow(event.sender)) return false;
    let url: URL;
    try {
      url = new URL(frame.url);
    } catch {
      return false;
    }
    return url.protocol === expected.protocol && url.host === expected.host;
  };
}

export function registerStationIpc(options: StationIpcOptions): StationIpc {
  const { ipcMain, station, isTrustedSender } = options;
  const log = options.log ?? (() => undefined);
  const pages = new Map<number, PageStreams>();
  /** webContents whose 'destroyed' this file listens for, so each gets one listener however often it reloads. */
  const watched = new Set<number>();

  const pageOf = (sender: SenderLike, page: string): PageStreams => {
    const current = pages.get(sender.id);
    if (current && current.page === page) return current;
    // A new page in the same webContents (a reload): the old page cannot receive anything any more.
    current?.end('the page was reloaded');
    const fresh = new PageStreams(page, sender, station, log, () => {
      if (pages.get(sender.id) === fresh) pages.delete(sender.id);
    });
    pages.set(sender.id, fresh);
    if (!watched.has(sender.id)) {
      watched.add(sender.id);
      sender.once('destroyed', () => {
        watched.delete(sender.id);
        pages.get(sender.id)?.end('the window was closed');
      });
    }
    return fresh;
  };

  const handlers: Record<string, (event: InvokeEventLike, payload: unknown) => Promise<unknown> | unknown> = {
    [IPC.execute]: async (_event, payload) => {
      const request = executeSchema.safeParse(payload);
      if (!request.success) return failure('BAD_INPUT', 'send {command, input}');
      const { command, input } = request.data;
      if (!isCommandName(command)) {
        return failure(
          'UNKNOWN_COMMAND',
          `${typeof command === 'string' ? `"${command.slice(0, 64)}"` : 'that'} is not a station command.`,
        );
      }
      const parsed = parseCommandInput(command, input);
      if (!parsed.ok) return parsed;
      const result: unknown = await station.execute(command, parsed.input);
      if (!isResult(result)) throw new Error(`the station answered ${command} without a result`);
      return result;
    },
    [IPC.subscribe]: (event, payload) => {
      const request = subscribeSchema.safeParse(payload);
      if (!request.success) return failure('BAD_INPUT', 'send {page, id, from: {runId, seq} | null}');
      const { page, id, from } = request.data;
      return pageOf(event.sender, page).open(id, from);
    },
    [IPC.unsubscribe]: (event, payload) => {
      const request = unsubscribeSchema.safeParse(payload);
      if (!request.success) return failure('BAD_INPUT', 'send {page, id}');
      const streams = pages.get(event.sender.id);
      if (streams && streams.page === request.data.page) streams.stop(request.data.id);
      return { ok: true };
    },
  };

  for (const [channel, handler] of Object.entries(handlers)) {
    ipcMain.handle(channel, async (event, payload) => {
      try {
        if (!isTrustedSender(event)) {
          log(`ipc: refused ${channel} from a frame that is not the app's own page`);
          return forbidden;
        }
        return await handler(event, payload);
      } catch (error) {
        log(`ipc: ${channel} failed: ${error instanceof Error ? error.message : String(error)}`);
        return failure(
          'INTERNAL_ERROR',
          'The station hit an internal error: report it to engineering with the station log.',
        );
      }
    });
  }

  return {
    close(reason = 'the station is shutting down') {
      for (const channel of Object.keys(handlers)) ipcMain.removeHandler(channel);
      for (const streams of [...pages.values()]) streams.end(reason);
      pages.clear();
    },
  };
}

function isResult(value: unknown): value is { ok: boolean } {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

/** The streams one page (one load of one webContents) has open. */
class PageStreams {
  private readonly streams = new Map<string, Stream>();
  private ended = false;

  constructor(
    readonly page: string,
    private readonly sender: SenderLike,
    private readonly station: StationHandle,
    private readonly log: (line: string) => void,
    private readonly onEnd: () => void,
  ) {}

  open(id: string, from: StreamPosition | null): { ok: true } | CommandFailure {
    if (this.streams.has(id)) return failure('BAD_INPUT', `a stream with id "${id}" is already open`);
    if (this.streams.size >= MAX_STREAMS_PER_PAGE) {
      return failure('TOO_MANY_STREAMS', `a page may hold at most ${MAX_STREAMS_PER_PAGE} event streams`);
    }
    const stream = new Stream(
      (envelope) => this.send(envelope),
      () => this.streams.delete(id),
      id,
      this.log,
    );
    this.streams.set(id, stream);
    stream.start(this.station, from);
    return stream.active
      ? { ok: true }
      : failure('INTERNAL_ERROR', 'the station could not give its state; subscribe again');
  }

  stop(id: string): void {
    this.streams.get(id)?.stop();
  }

  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const stream of [...this.streams.values()]) stream.close(reason);
    this.onEnd();
  }

  private send(envelope: StreamEnvelope): void {
    if (this.sender.isDestroyed()) {
      this.end('the window was closed');
      return;
    }
    this.sender.send(IPC.stream, envelope);
  }
}

/**
 * One subscription. It holds the seq of the state its page holds (a snapshot's, or the `from` it resumed at);
 * every event past that seq goes out exactly once and in order, so `reduce` over what the page receives is the
 * station.
 */
class Stream {
  private held = -1;
  /** Events published while the opening messages are chosen; null once those went out. */
  private queued: StationEvent[] | null = [];
  private unsubscribe: (() => void) | null = null;
  private ended = false;

  constructor(
    private readonly send: (envelope: StreamEnvelope) => void,
    private readonly onEnd: () => void,
    private readonly id: string,
    private readonly log: (line: string) => void,
  ) {}

  get active(): boolean {
    return !this.ended;
  }

  start(station: StationHandle, from: StreamPosition | null): void {
    try {
      // Subscribing before the snapshot or backlog is read means no event can fall between the two; the seq
      // check in deliver() drops whatever both of them carry.
      this.unsubscribe = station.subscribe((event) => this.offer(event));
      const snapshotSeq = station.snapshot().seq;
      // A seq beyond the station's is from a state this run never had: such a page gets a snapshot.
      const backlog =
        from !== null && from.runId === station.runId && from.seq <= snapshotSeq
          ? station.eventsAfter(from.seq)
          : null;
      if (from !== null && backlog !== null) {
        this.message({ type: 'resume', after: from.seq });
        this.held = from.seq;
        for (const event of backlog) this.deliver(event);
      } else {
        const snapshot = station.snapshot();
        this.message({ type: 'snapshot', snapshot });
        this.held = snapshot.seq;
      }
      const queued = this.queued ?? [];
      this.queued = null;
      for (const event of queued) this.deliver(event);
    } catch (error) {
      this.log(
        `ipc: could not open an event stream: ${error instanceof Error ? error.message : String(error)}`,
      );
      this.end();
    }
  }

  private offer(event: StationEvent): void {
    if (this.queued !== null) {
      this.queued.push(event);
      return;
    }
    try {
      this.deliver(event);
    } catch (error) {
      // Thrown inside the station's publish: this stream goes, the station and the other streams carry on.
      this.log(`ipc: could not send an event (${error instanceof Error ? error.message : String(error)})`);
      this.close('an event could not be delivered; subscribe again');
    }
  }

  private deliver(event: StationEvent): void {
    if (this.ended || event.seq <= this.held) return;
    this.message({ type: 'event', event });
    this.held = event.seq;
  }

  private message(message: StreamMessage): void {
    if (!this.ended) this.send({ id: this.id, message });
  }

  /** The page asked for it: nothing more is sent. */
  stop(): void {
    this.end();
  }

  /** Ended from this side: the page is told why, when it can still hear it. */
  close(reason: string): void {
    if (this.ended) return;
    this.end();
    try {
      this.send({ id: this.id, closed: reason });
    } catch {
      // The page is gone: there is no one left to tell.
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queued = null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.onEnd();
  }
}
