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
import { isCommandName, parseCommandInput, type CommandFailure, type StreamPosition } from '../station-api';
import { StationStream, type StationHandle } from '../station';
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

/** One subscription: the station's stream (station/event-stream.ts) addressed to one page by id. */
class Stream {
  private stream: StationStream | null = null;

  private finished = false;

  constructor(
    private readonly send: (envelope: StreamEnvelope) => void,
    private readonly onEnd: () => void,
    private readonly id: string,
    private readonly log: (line: string) => void,
  ) {}

  get active(): boolean {
    return !this.finished && (this.stream?.active ?? false);
  }

  /** True the first time only. */
  private finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.stream?.stop();
    this.onEnd();
    return true;
  }

  start(station: StationHandle, from: StreamPosition | null): void {
    this.stream = new StationStream(station, from, {
      send: (message) => this.send({ id: this.id, message }),
      ended: (reason, error) => {
        this.log(
          `ipc: ${reason}${error ? ` (${error instanceof Error ? error.message : String(error)})` : ''}`,
        );
        this.close(`${reason}; subscribe again`);
      },
    });
  }

  /** The page asked for it: nothing more is sent. */
  stop(): void {
    this.finish();
  }

  /** Ended from this side: the page is told why, when it can still hear it. */
  close(reason: string): void {
    if (!this.finish()) return;
    try {
      this.send({ id: this.id, closed: reason });
    } catch {
      // The page is gone: there is no one left to tell.
    }
  }
}
