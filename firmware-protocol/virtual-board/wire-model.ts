/**
 * The serial line's pace, which a PTY does not have: a PTY hands over any number of bytes at once, a UART at
 * 115200 baud moves 11 520 bytes a second. A benchmark that compares the station with the physical floor needs
 * the virtual board to take the time a real wire takes, so each direction of the line is a `PacedWire`: bytes
 * leave in order, one after the other, and a chunk reaches the far end when its last byte would have.
 *
 * Off unless asked for: tests that do not measure time keep the PTY's speed.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_BAUD_RATE } from '../commands';

/** A UART frame per byte: a start bit, 8 data bits, a stop bit (8N1). */
export const UART_BITS_PER_BYTE = 10;
/** What the wire model runs at unless told otherwise: the protocol's default rate (PROTOCOL.md section 1). */
export const DEFAULT_WIRE_BAUD_RATE = DEFAULT_BAUD_RATE;

export interface WireModelOptions {
  /** Bits per second on the line; 10 bits carry one byte. Default 115200. */
  baudRate?: number;
}

/** How long `bytes` bytes take on the wire at `baudRate`, in milliseconds. */
export function wireTimeMs(bytes: number, baudRate: number): number {
  return (bytes * UART_BITS_PER_BYTE * 1000) / baudRate;
}

/** The baud rate a wire model runs at, checked: a rate of 0 would stall the board forever. */
export function wireBaudRate(options: WireModelOptions): number {
  const baudRate = options.baudRate ?? DEFAULT_WIRE_BAUD_RATE;
  if (!Number.isFinite(baudRate) || baudRate <= 0)
    throw new RangeError(`a wire model needs a positive baud rate, not ${baudRate}`);
  return baudRate;
}

interface InFlight {
  chunk: Buffer;
  /** performance.now() at which the chunk's last byte arrives. */
  arrivesAt: number;
}

/**
 * One direction of a serial line. `push` puts a chunk on the wire behind what is already on it; `deliver` gets it
 * once its last byte has crossed. One timer for the chunk at the head of the line, never one per byte, so a
 * chatty board costs a timer per line it writes.
 */
export class PacedWire {
  private readonly inFlight: InFlight[] = [];
  /** When the byte last put on the wire has crossed it; the next chunk starts no earlier. */
  private busyUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly drainWaiters: Array<() => void> = [];

  constructor(
    readonly baudRate: number,
    private readonly deliver: (chunk: Buffer) => void,
  ) {
    wireBaudRate({ baudRate });
  }

  /** True when nothing is on the wire. */
  get idle(): boolean {
    return this.inFlight.length === 0;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const startsAt = Math.max(performance.now(), this.busyUntil);
    this.busyUntil = startsAt + wireTimeMs(chunk.length, this.baudRate);
    this.inFlight.push({ chunk, arrivesAt: this.busyUntil });
    if (this.timer === undefined) this.arm();
  }

  /** Resolves once everything pushed so far has been delivered (at once when the wire is idle). */
  drained(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** The cable is gone: what is on the wire never arrives. Waiters for a drain are released. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight.length = 0;
    this.busyUntil = 0;
    this.releaseDrainWaiters();
  }

  private arm(): void {
    const head = this.inFlight[0];
    if (!head) {
      this.releaseDrainWaiters();
      return;
    }
    // Rounded up: a timer never fires before its time, and delivering early would make the wire faster than
    // the baud rate says (a benchmark's floor must be a floor).
    const waitMs = Math.max(0, Math.ceil(head.arrivesAt - performance.now()));
    this.timer = setTimeout(() => this.fire(), waitMs);
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    // Short chunks can fall due within one timer tick: deliver all that are due, then wait for the next.
    while (this.inFlight[0] !== undefined && this.inFlight[0].arrivesAt <= now) {
      const due = this.inFlight.shift() as InFlight;
      this.deliver(due.chunk);
    }
    this.arm();
  }

  private releaseDrainWaiters(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }
}

/** What crossed a board's serial line, each way, as the two ends handed it over. */
export interface WireCounters {
  /** Bytes the station wrote to its port (the board's UART receives them). */
  stationToBoardBytes: number;
  /** Line feeds among those bytes: lines (frames, mostly) the station sent. */
  stationToBoardLines: number;
  /** Bytes the board's firmware handed its UART (replies, events, log lines). */
  boardToStationBytes: number;
  /** Line feeds among those bytes. */
  boardToStationLines: number;
}

export function emptyWireCounters(): WireCounters {
  return { stationToBoardBytes: 0, stationToBoardLines: 0, boardToStationBytes: 0, boardToStationLines: 0 };
}

export function addWireCounters(into: WireCounters, more: WireCounters): WireCounters {
  into.stationToBoardBytes += more.stationToBoardBytes;
  into.stationToBoardLines += more.stationToBoardLines;
  into.boardToStationBytes += more.boardToStationBytes;
  into.boardToStationLines += more.boardToStationLines;
  return into;
}

const LF = 0x0a;

export function lineFeeds(chunk: Uint8Array): number {
  let count = 0;
  for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) count += 1;
  return count;
}
