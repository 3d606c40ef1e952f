/**
 * A raw line transport for the conformance run. SerialLink only sends well-formed frames and keeps to itself what
 * the board wrote; the checker has to send wrong CRCs, malformed and over-long lines, and see every line that comes
 * back. Reads still go through the codec's bounded splitter, so a board that never sends LF cannot grow memory.
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { LineSplitterStream, MAX_LINE_BYTES, type SplitLine } from '../../firmware-protocol';

export interface RawLine {
  text: string;
  truncated: boolean;
  at: number;
}

export interface RawLinePortEvents {
  line: [RawLine];
  /** The port went away (cable pulled, board reset its USB). Nothing is written after this. */
  gone: [reason: string];
}

/** Opening the port failed; `code` is the station's serial code (SERIAL_PORT_NOT_FOUND, ...). */
export class PortOpenError extends Error {
  override name = 'PortOpenError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How often an open port checks that its device node still exists (a hung-up tty may never report close). */
const VANISH_POLL_MS = 100;

export class RawLinePort extends EventEmitter<RawLinePortEvents> {
  private goneReason: string | undefined;
  private closing = false;
  private readonly vanishWatch: NodeJS.Timeout | undefined;

  private constructor(
    private readonly port: SerialPort,
    readonly path: string,
  ) {
    super();
    const lines = new LineSplitterStream(MAX_LINE_BYTES);
    port.pipe(lines);
    lines.on('data', (line: SplitLine) => this.emit('line', { ...line, at: Date.now() }));
    port.on('close', () => this.markGone('the port closed (board unplugged or reset its USB)'));
    // A write on a vanished port errors and then closes; the close is what counts.
    port.on('error', () => undefined);
    if (process.platform !== 'win32') {
      this.vanishWatch = setInterval(() => {
        if (!existsSync(path)) this.markGone('the port disappeared (board unplugged or reset its USB)');
      }, VANISH_POLL_MS);
      this.vanishWatch.unref();
    }
  }

  static async open(path: string, baudRate: number): Promise<RawLinePort> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => {
      port.open((error) => (error ? reject(openError(path, error)) : resolve()));
    });
    // Zephyr's CDC-ACM console holds its output until the host asserts DTR; assert it (and RTS) as terminals do.
    // A PTY has no modem lines and refuses the ioctl: that is expected, not a failure.
    await new Promise<void>((resolve) => port.set({ dtr: true, rts: true }, () => resolve()));
    return new RawLinePort(port, path);
  }

  /** Why the port is gone, or undefined while it is there. */
  get gone(): string | undefined {
    return this.goneReason;
  }

  write(data: string | Buffer): void {
    if (this.goneReason !== undefined || !this.port.isOpen) return;
    this.port.write(data);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.vanishWatch);
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }

  private markGone(reason: string): void {
    if (this.closing || this.goneReason !== undefined) return;
    this.goneReason = reason;
    clearInterval(this.vanishWatch);
    this.emit('gone', reason);
    if (this.port.isOpen) this.port.close(() => undefined);
  }
}

/** The same codes and advice as the station's SerialLink, so a firmware engineer sees familiar words. */
function openError(path: string, error: Error): PortOpenError {
  const text = error.message;
  if (/ENOENT|No such file/i.test(text)) {
    return new PortOpenError(
      'SERIAL_PORT_NOT_FOUND',
      `No serial port at ${path}: check the cable and the path.`,
    );
  }
  if (/EACCES|Permission denied/i.test(text)) {
    return new PortOpenError(
      'SERIAL_PORT_PERMISSION',
      `No permission to open ${path}: add your user to the dialout group (then log in again).`,
    );
  }
  if (/lock|EBUSY|busy/i.test(text)) {
    return new PortOpenError(
      'SERIAL_PORT_BUSY',
      `${path} is already open in another program (a terminal, a station): close it and retry.`,
    );
  }
  return new PortOpenError('SERIAL_PORT_OPEN_FAILED', `Could not open ${path} (${text}).`);
}
