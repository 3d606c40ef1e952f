import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { DEFAULT_BAUD_RATE } from '../commands';
import type { VirtualBoard } from './board';
import { PtyPair } from './pty-pair';

export interface PtyBoardHostOptions {
  /** Folder for the PTY links. */
  dir: string;
  /** Names the links: `<dir>/station-<name>` (what the station opens) and `<dir>/board-<name>`. */
  name: string;
  /** How long an unplugged board stays away; 0 = until replug() is called. */
  replugMs?: number;
}

export type HostEvent = 'unplugged' | 'replugged';

/**
 * Puts a virtual board on the far end of a PTY pair and plays the cable: `unplug()` removes the station's port
 * and cuts power, `replug()` brings both back and boots the board from its flash.
 */
export class PtyBoardHost {
  readonly stationPath: string;
  private readonly boardPath: string;
  private pair: PtyPair | undefined;
  private port: SerialPort | undefined;
  private replugTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners = new Set<(event: HostEvent) => void>();

  constructor(
    readonly board: VirtualBoard,
    private readonly options: PtyBoardHostOptions,
  ) {
    this.stationPath = join(options.dir, `station-${options.name}`);
    this.boardPath = join(options.dir, `board-${options.name}`);
    board.on('output', (text) => this.port?.write(text));
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

  async start(): Promise<void> {
    this.stopped = false;
    this.pair = await PtyPair.create(this.stationPath, this.boardPath);
    const port = new SerialPort({ path: this.boardPath, baudRate: DEFAULT_BAUD_RATE, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    port.on('data', (chunk: Buffer) => this.board.receive(chunk));
    // A PTY whose station end is closed is not an error for the board; it just talks to nobody.
    port.on('error', () => undefined);
    this.port = port;
    // Ready means booted: a station that opens the port now is answered at once.
    const booted = new Promise<void>((resolve) => this.board.once('power-on', () => resolve()));
    this.board.powerOn();
    await booted;
  }

  async unplug(): Promise<void> {
    this.board.powerOff();
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
}
