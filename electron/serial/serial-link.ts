/**
 * One open serial port to one board: the one owner of that port, so nothing else reads or writes it. A reader
 * is always attached, so board log lines and an unplug are seen the moment they happen, not at the next request.
 * Requests are stop-and-wait: one frame in flight, matched to its reply by id (PROTOCOL.md "Framing").
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import {
  COMMAND_POLICIES,
  DEFAULT_BAUD_RATE,
  DEFAULT_RETRANSMISSIONS,
  LineSplitterStream,
  MAX_FRAME_ID,
  MAX_LINE_BYTES,
  decodeLine,
  encodeFrame,
  type CommandName,
  type EventFrame,
  type FrameFields,
  type SplitLine,
} from '../../firmware-protocol';
import { boardErrorMessage, SerialLinkError, type SerialErrorCode } from './errors';

export interface SerialLinkOptions {
  path: string;
  /**
   * Watch the device node and treat its disappearance as an unplug (default on for real ports; a link over an
   * in-memory transport has no device node).
   */
  watchDeviceNode?: boolean;
  baudRate?: number;
  /** Multiplies every per-command timeout (slow USB hubs, debug builds). */
  timeoutScale?: number;
  /** Retransmissions after the first send, for commands that allow them. */
  retransmissions?: number;
  /** How often BUSY may be answered by waiting and sending again. */
  busyRetries?: number;
}

export interface RequestOptions {
  timeoutMs?: number;
  retransmissions?: number;
}

/** What a board's error code may look like (PROTOCOL.md section 7: uppercase words joined by `_`), at most 32 characters. */
const BOARD_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,31}$/;

export interface BoardLogLine {
  port: string;
  text: string;
  truncated: boolean;
  at: Date;
}

export interface BadFrameNotice {
  port: string;
  reason: string;
  at: Date;
}

export interface SerialLinkEvents {
  /** A line of the board's own output (not a frame), cleaned of terminal escapes. */
  log: [BoardLogLine];
  /** A line that looked like a board frame but was not a valid one. */
  'bad-frame': [BadFrameNotice];
  /** An unsolicited frame (id 0000), e.g. `EVT boot`. */
  event: [EventFrame];
  /** The port went away (cable pulled, board reset its USB). The link is closed after this. */
  disconnected: [SerialLinkError];
  close: [];
}

interface InFlight {
  id: number;
  command: CommandName;
  line: string;
  resolve: (fields: FrameFields) => void;
  reject: (error: SerialLinkError) => void;
  /** Called with what arrived for this request; the request loop decides what happens next. */
  onArrival: (arrival: Arrival) => void;
  /** A boot event arrived while this HELLO was in flight (see onBoot). */
  onBootDuringHello: () => void;
}

type Arrival =
  | { type: 'ok'; fields: FrameFields }
  | { type: 'error'; code: string; fields: FrameFields }
  | { type: 'garbled' };

// Terminal colour codes and other control characters that Zephyr-style loggers emit; QA wants the text.
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPES = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * How long a HELLO interrupted by a boot event waits for its reply before it is sent again: about what a HELLO
 * reply takes at 115200 baud with a board's processing, so a HELLO that was heard is not repeated, and one the boot
 * swallowed costs this, not the full timeout.
 */
const BOOT_SETTLE_MS = 50;

/** How often an open port checks that its device node still exists. */
const VANISH_POLL_MS = 100;

export function cleanLogText(text: string): string {
  return text.replace(ANSI_ESCAPES, '').replace(CONTROL_CHARS, '\uFFFD');
}

/**
 * What a link needs from the thing under it: a serial port, or an in-memory stream to a virtual board (fast step
 * tests). `SerialPort` satisfies it as is.
 */
export interface LinkTransport {
  readonly isOpen: boolean;
  write(data: string): unknown;
  pipe<T extends NodeJS.WritableStream>(destination: T): T;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close(callback: (error?: Error | null) => void): void;
}

export class SerialLink extends EventEmitter<SerialLinkEvents> {
  readonly path: string;
  private readonly port: LinkTransport;
  private readonly options: Required<Omit<SerialLinkOptions, 'path' | 'watchDeviceNode'>>;
  private nextId = 1;
  private inFlight: InFlight | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closedWith: SerialLinkError | undefined;
  private closing = false;
  private vanishWatch: NodeJS.Timeout | undefined;
  private boots = 0;

  private constructor(port: LinkTransport, options: SerialLinkOptions) {
    super();
    this.path = options.path;
    this.port = port;
    this.options = {
      baudRate: options.baudRate ?? DEFAULT_BAUD_RATE,
      timeoutScale: options.timeoutScale ?? 1,
      retransmissions: options.retransmissions ?? DEFAULT_RETRANSMISSIONS,
      busyRetries: options.busyRetries ?? 5,
    };
    const lines = new LineSplitterStream(MAX_LINE_BYTES);
    port.pipe(lines);
    lines.on('data', (line: SplitLine) => this.onLine(line));
    port.on('close', () => this.onPortClosed());
    // Errors after open (a failed write on a vanished port) also end in 'close'; keep them from crashing the host.
    port.on('error', () => undefined);
    // A hung-up tty can make every read return 0 bytes, which serialport retries forever without reporting a
    // disconnect (seen with PTYs; USB CDC-ACM hangs up the same way). The device node vanishing is the reliable
    // sign on Linux and macOS, so watch for it too.
    if (process.platform !== 'win32' && options.watchDeviceNode !== false) {
      this.vanishWatch = setInterval(() => {
        if (!existsSync(this.path)) void this.portVanished();
      }, VANISH_POLL_MS);
      this.vanishWatch.unref();
    }
  }

  private async portVanished(): Promise<void> {
    clearInterval(this.vanishWatch);
    this.onPortClosed();
    if (this.port.isOpen) await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  /** Open the port and attach the reader. Rejects with PORT_NOT_FOUND / PORT_PERMISSION / PORT_BUSY / PORT_OPEN_FAILED. */
  static async open(options: SerialLinkOptions): Promise<SerialLink> {
    const port = new SerialPort({
      path: options.path,
      baudRate: options.baudRate ?? DEFAULT_BAUD_RATE,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((error) => (error ? reject(openError(options.path, error)) : resolve()));
    });
    return new SerialLink(port, options);
  }

  /** A link over an already open transport (an in-memory virtual board in tests). */
  static attach(transport: LinkTransport, options: SerialLinkOptions): SerialLink {
    return new SerialLink(transport, { watchDeviceNode: false, ...options });
  }

  /** Boot events seen since the port opened: the session compares it with the boot its HELLO was made in. */
  get bootCount(): number {
    return this.boots;
  }

  get isOpen(): boolean {
    return this.closedWith === undefined && this.port.isOpen;
  }

  /**
   * Send one command and resolve with the fields of its OK reply. An ERR reply, a timeout, garbled replies or an
   * unplug reject with a SerialLinkError. Requests queue behind each other; one is on the wire at a time.
   */
  request(
    command: CommandName,
    fields: FrameFields = {},
    options: RequestOptions = {},
  ): Promise<FrameFields> {
    const run = () => this.transact(command, fields, options);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.vanishWatch);
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  private allocateId(): number {
    const id = this.nextId;
    this.nextId = id >= MAX_FRAME_ID ? 1 : id + 1;
    return id;
  }

  private fail(
    code: SerialErrorCode,
    message: string,
    command: CommandName,
    retrySafe: boolean,
  ): SerialLinkError {
    return new SerialLinkError(code, message, { port: this.path, command, retrySafe });
  }

  private async transact(
    command: CommandName,
    fields: FrameFields,
    options: RequestOptions,
  ): Promise<FrameFields> {
    if (this.closedWith) throw this.linkClosedError(command);
    const policy = COMMAND_POLICIES[command];
    const timeoutMs = Math.round((options.timeoutMs ?? policy.timeoutMs) * this.options.timeoutScale);
    const retransmissions = policy.retransmit ? (options.retransmissions ?? this.options.retransmissions) : 0;
    const line = encodeFrame({ kind: 'request', id: this.allocateId(), command, fields });
    const id = parseInt(line.slice(3, 7), 16);

    return new Promise<FrameFields>((resolve, reject) => {
      let sends = 0;
      let busyLeft = this.options.busyRetries;
      let garbledSeen = false;
      let timer: NodeJS.Timeout | undefined;

      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        if (this.inFlight?.id === id) this.inFlight = undefined;
        outcome();
      };
      const send = () => {
        sends += 1;
        clearTimeout(timer);
        timer = setTimeout(onTimeout, timeoutMs);
        this.port.write(line);
      };
      // A request the board provably did not act on (BAD_FRAME, a garbled reply we can retransmit for) may go again.
      const resendOr = (giveUp: () => void) => (sends <= retransmissions ? send() : giveUp());
      const onTimeout = () =>
        resendOr(() =>
          finish(() =>
            reject(
              garbledSeen
                ? this.fail(
                    'GARBLED',
                    `The board answered ${command} with garbled data ${sends} times: check the cable, the baud rate (${this.options.baudRate}) and that nothing else writes to the port, then retry.`,
                    command,
                    policy.retransmit,
                  )
                : this.fail(
                    'TIMEOUT',
                    `The board did not answer ${command} within ${timeoutMs} ms (${sends} ${sends === 1 ? 'try' : 'tries'}): reseat the cable, check the board is powered and running station-protocol firmware, then retry.`,
                    command,
                    policy.retransmit,
                  ),
            ),
          ),
        );

      this.inFlight = {
        id,
        command,
        line,
        onBootDuringHello: () => {
          // Answered soon if the HELLO got through; sent again soon if the boot swallowed it.
          clearTimeout(timer);
          timer = setTimeout(onTimeout, Math.min(timeoutMs, BOOT_SETTLE_MS));
        },
        resolve,
        reject: (error) => finish(() => reject(error)),
        onArrival: (arrival) => {
          if (arrival.type === 'ok') return finish(() => resolve(arrival.fields));
          if (arrival.type === 'garbled') {
            // The board de-duplicates retransmissions, so asking again only repeats its reply.
            garbledSeen = true;
            return policy.retransmit ? resendOr(() => undefined) : undefined;
          }
          // LINE_TOO_LONG is not noise: the same line would be refused again. The board did nothing, and the
          // station sent more than the board takes, which PROTOCOL.md calls a station bug: stop and report it.
          if (arrival.code === 'BAD_FRAME') {
            garbledSeen = true;
            // The board did not act on a frame it could not read, so even a non-retransmittable command may go again.
            return sends <= Math.max(retransmissions, this.options.retransmissions) ? send() : onTimeout();
          }
          if (arrival.code === 'BUSY' && busyLeft > 0) {
            busyLeft -= 1;
            clearTimeout(timer);
            const wait = Math.min(Number(arrival.fields.retryAfterMs ?? 50) || 50, 5000);
            timer = setTimeout(() => {
              sends -= 1; // waiting out BUSY is not a retransmission
              send();
            }, wait);
            return;
          }
          // A code is an identifier that goes into the record and the UI: a made-up 200-character one does not.
          const code = BOARD_CODE_PATTERN.test(arrival.code) ? arrival.code : 'UNRECOGNISED';
          const message =
            code === arrival.code
              ? boardErrorMessage(command, code, arrival.fields)
              : `The board refused ${command} with an error code that is not one (${arrival.code.length} characters, starting ${JSON.stringify(arrival.code.slice(0, 16))}): report this to the firmware team.`;
          finish(() =>
            reject(
              new SerialLinkError('BOARD_ERROR', message, {
                port: this.path,
                command,
                boardCode: code,
                boardFields: arrival.fields,
                retrySafe:
                  arrival.code !== 'STORAGE' &&
                  arrival.code !== 'ALREADY_PROVISIONED' &&
                  arrival.code !== 'LOCKED',
              }),
            ),
          );
        },
      };
      send();
    });
  }

  private onLine(line: SplitLine): void {
    const decoded = decodeLine(line.text, 'station', line.truncated);
    const at = new Date();
    switch (decoded.type) {
      case 'log':
        this.emit('log', {
          port: this.path,
          text: cleanLogText(decoded.text),
          truncated: decoded.truncated,
          at,
        });
        return;
      case 'echo':
        return;
      case 'bad-frame': {
        this.emit('bad-frame', { port: this.path, reason: decoded.reason, at });
        const inFlight = this.inFlight;
        if (inFlight && (decoded.id === undefined || decoded.id === inFlight.id))
          inFlight.onArrival({ type: 'garbled' });
        return;
      }
      case 'frame': {
        const frame = decoded.frame;
        if (frame.kind === 'event') {
          if (frame.name === 'boot') this.onBoot();
          this.emit('event', frame);
          return;
        }
        if (frame.kind === 'request') return;
        const inFlight = this.inFlight;
        // Replies to nothing in flight are late duplicates of an answered retransmission: ignore them.
        if (!inFlight) return;
        if (frame.id !== inFlight.id && !(frame.kind === 'error' && frame.id === 0)) return;
        inFlight.onArrival(
          frame.kind === 'ok'
            ? { type: 'ok', fields: frame.fields }
            : { type: 'error', code: frame.code, fields: frame.fields },
        );
      }
    }
  }

  /**
   * The board booted: whatever was in flight will get no reply (its bytes were lost, or the board acted and forgot),
   * so it ends now instead of at its timeout, and the session above decides what to send again (PROTOCOL.md 3.2).
   */
  private onBoot(): void {
    this.boots += 1;
    const inFlight = this.inFlight;
    if (!inFlight) return;
    // A HELLO opens a session, so a boot event during it is most often the board's boot announcement from before
    // the port was opened, read just after the HELLO went out: the HELLO was heard and its reply follows. If the
    // board really was booting, the HELLO was lost: it goes again after a short wait instead of the full timeout.
    if (inFlight.command === 'HELLO') {
      inFlight.onBootDuringHello();
      return;
    }
    this.inFlight = undefined;
    inFlight.reject(
      new SerialLinkError(
        'REBOOTED',
        `The board restarted during ${inFlight.command}: check its power supply and that its firmware is not resetting itself, then retry.`,
        { port: this.path, command: inFlight.command, retrySafe: true },
      ),
    );
  }

  private linkClosedError(command: CommandName): SerialLinkError {
    const cause = this.closedWith;
    if (cause?.code === 'DISCONNECTED') {
      return new SerialLinkError('DISCONNECTED', cause.operatorMessage, {
        port: this.path,
        command,
        retrySafe: true,
      });
    }
    return new SerialLinkError(
      'LINK_CLOSED',
      `The station closed ${this.path} before ${command} could be sent.`,
      {
        port: this.path,
        command,
        retrySafe: true,
      },
    );
  }

  /**
   * Any close the station did not ask for is an unplug. serialport reports one as a plain stream 'close' (after a
   * failed write) and/or a 'close' carrying a DisconnectedError, in either order; only the first counts.
   */
  private onPortClosed(): void {
    clearInterval(this.vanishWatch);
    if (this.closedWith) return;
    const disconnected = !this.closing;
    const reason = disconnected
      ? new SerialLinkError(
          'DISCONNECTED',
          `The board was disconnected: plug it back in (check the cable) and retry.`,
          { port: this.path, retrySafe: true },
        )
      : new SerialLinkError('LINK_CLOSED', `The station closed ${this.path}.`, {
          port: this.path,
          retrySafe: true,
        });
    this.closedWith = reason;
    const inFlight = this.inFlight;
    this.inFlight = undefined;
    if (inFlight) {
      inFlight.reject(
        new SerialLinkError(
          reason.code,
          disconnected
            ? `The board was disconnected during ${inFlight.command}: plug it back in and retry; the station will check what the board kept.`
            : `The station closed ${this.path} during ${inFlight.command}.`,
          { port: this.path, command: inFlight.command, retrySafe: true },
        ),
      );
    }
    if (disconnected) this.emit('disconnected', reason);
    this.emit('close');
  }
}

function openError(path: string, error: Error): SerialLinkError {
  const text = error.message;
  const fail = (code: SerialErrorCode, message: string) =>
    new SerialLinkError(code, message, { port: path, retrySafe: true });
  if (/ENOENT|No such file/i.test(text)) {
    return fail(
      'PORT_NOT_FOUND',
      `No serial port at ${path}: check the cable and the port path in the station config.`,
    );
  }
  if (/EACCES|Permission denied/i.test(text)) {
    return fail(
      'PORT_PERMISSION',
      `No permission to open ${path}: add the station user to the dialout group or install the station's udev rules, then log in again.`,
    );
  }
  if (/lock|EBUSY|busy/i.test(text)) {
    return fail(
      'PORT_BUSY',
      `${path} is already open in another program (a terminal, another station): close it and retry.`,
    );
  }
  return fail('PORT_OPEN_FAILED', `Could not open ${path} (${text}): reseat the cable and retry.`);
}
