import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { DEFAULT_BAUD_RATE } from '../commands';
import type { VirtualBoard } from './board';
import { PtyPair } from './pty-pair';
import {
  emptyWireCounters,
  lineFeeds,
  PacedWire,
  wireBaudRate,
  type WireCounters,
  type WireModelOptions,
} from './wire-model';

export interface PtyBoardHostOptions {
  /** Folder for the PTY links. */
  dir: string;
  /** Names the links: `<dir>/station-<name>` (what the station opens) and `<dir>/board-<name>`. */
  name: string;
  /** How long an unplugged board stays away; 0 = until replug() is called. */
  replugMs?: number;
  /**
   * Pace the line like a UART (wire-model.ts): what the board writes leaves at baud/10 bytes a second, and what
   * the station writes reaches the firmware once its last byte would have arrived. Absent: the PTY's speed.
   */
  wire?: WireModelOptions;
}

export type HostEvent = 'unplugged' | 'replugged';

/**
 * Puts a virtual board on the far end of a PTY pair and plays the cable: `unplug()` removes the station's port
 * and cuts power, `replug()` brings both back and boots the board from its flash. It also counts what crosses
 * the cable each way, and with a wire model paces it.
 */
export class PtyBoardHost {
  readonly stationPath: string;
  /** The wire model's baud rate; undefined when bytes cross at the PTY's speed. */
  readonly baudRate: number | undefined;
  private readonly boardPath: string;
  private pair: PtyPair | undefined;
  private port: SerialPort | undefined;
  private replugTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners = new Set<(event: HostEvent) => void>();
  private counts: WireCounters = emptyWireCounters();
  /** Board -> station and station -> board when paced; the PTY itself is instant. */
  private readonly toStation: PacedWire | undefined;
  private readonly toBoard: PacedWire | undefined;

  constructor(
    readonly board: VirtualBoard,
    private readonly options: PtyBoardHostOptions,
  ) {
    this.stationPath = join(options.dir, `station-${options.name}`);
    this.boardPath = join(options.dir, `board-${options.name}`);
    if (options.wire) {
      this.baudRate = wireBaudRate(options.wire);
      this.toStation = new PacedWire(this.baudRate, (chunk) => this.port?.write(chunk));
      this.toBoard = new PacedWire(this.baudRate, (chunk) => this.board.receive(chunk));
    }
    board.on('output', (text) => this.fromBoard(text));
    board.on('unplug', () => {
      void this.unplug().then(() => {
        const delay = this.options.replugMs ?? 1000;
        if (delay > 0 && !this.stopped) this.replugTimer = setTimeout(() => void this.replug(), delay);
      });
    });
  }

  onEvent(listener: (event: HostEvent) => void): void {
    this.listeners.add(listener);
  }

  /** True from the moment the station's port exists until an unplug starts removing it. */
  get plugged(): boolean {
    return this.pair !== undefined && this.pair.alive;
  }

  /**
   * What crossed this board's cable since the host was made (or the last reset), across unplugs: counted where
   * each end hands bytes over (the station's writes as the PTY delivers them, the board's as its firmware writes
   * them), before any pacing.
   */
  counters(): WireCounters {
    return { ...this.counts };
  }

  resetCounters(): void {
    this.counts = emptyWireCounters();
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.pair = await PtyPair.create(this.stationPath, this.boardPath);
    const port = new SerialPort({ path: this.boardPath, baudRate: DEFAULT_BAUD_RATE, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    port.on('data', (chunk: Buffer) => this.fromStation(chunk));
    // A PTY whose station end is closed is not an error for the board; it just talks to nobody.
    port.on('error', () => undefined);
    this.port = port;
    // Ready means booted: a station that opens the port now is answered at once.
    const booted = new Promise<void>((resolve) => this.board.once('power-on', () => resolve()));
    this.board.powerOn();
    await booted;
    // ...and, on a paced wire, that the boot output has left the UART: a boot event still on the wire when the
    // station says HELLO would look like a restart in the middle of its request.
    await this.toStation?.drained();
  }

  async unplug(): Promise<void> {
    this.board.powerOff();
    // Bytes still on the wire go with the cable.
    this.toStation?.clear();
    this.toBoard?.clear();
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    const pair = this.pair;
    this.pair = undefined;
    await pair?.close();
    const wasPlugged = pair !== undefined;
    if (wasPlugged && !this.stopped) for (const listener of this.listeners) listener('unplugged');
  }

  async replug(): Promise<void> {
    clearTimeout(this.replugTimer);
    if (this.stopped || this.plugged) return;
    await this.start();
    for (const listener of this.listeners) listener('replugged');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.replugTimer);
    await this.unplug();
  }

  private fromStation(chunk: Buffer): void {
    this.counts.stationToBoardBytes += chunk.length;
    this.counts.stationToBoardLines += lineFeeds(chunk);
    if (this.toBoard) this.toBoard.push(chunk);
    else this.board.receive(chunk);
  }

  private fromBoard(text: string): void {
    // Nothing to talk to while unplugged (the board has no power then, so this is a race at most).
    const port = this.port;
    if (!port) return;
    const bytes = Buffer.from(text, 'utf8');
    this.counts.boardToStationBytes += bytes.length;
    this.counts.boardToStationLines += lineFeeds(bytes);
    if (this.toStation) this.toStation.push(bytes);
    else port.write(bytes);
  }
}
