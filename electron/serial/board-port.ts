/**
 * One board as the unit workflow sees it (provisioning's BoardPort): opened by the connect step, the protocol's
 * commands as typed calls, the board's log lines, closed when the unit ends. Behind it is a SerialLink over a real
 * port, or over an in-memory transport to a virtual board in tests.
 */
import { EventEmitter } from 'node:events';
import type { KeyInterface, SecurityStateBytes } from '../../firmware-protocol';
import { BoardSession, type CredentialWrite } from './board-session';
import { SerialLinkError } from './errors';
import { SerialLink, type BoardLogLine, type SerialLinkOptions } from './serial-link';

export type LinkOpener = () => Promise<SerialLink>;

export class SerialBoardPort {
  private session: BoardSession | undefined;
  private readonly logs = new EventEmitter<{ log: [BoardLogLine] }>();

  constructor(
    readonly path: string,
    private readonly openLink: LinkOpener,
  ) {}

  /** A board on a serial port at `options.path`. */
  static onPort(options: SerialLinkOptions): SerialBoardPort {
    return new SerialBoardPort(options.path, () => SerialLink.open(options));
  }

  async open(): Promise<void> {
    if (this.session?.link.isOpen) return;
    const link = await this.openLink();
    link.on('log', (line) => this.logs.emit('log', line));
    // Every event the board sends goes into the board log of the step, known or not: PROTOCOL.md says the station
    // ignores an event it does not know, but the record keeps a trace of it.
    link.on('event', (event) => {
      const fields = Object.entries(event.fields)
        .map(([name, value]) => ` ${name}=${value}`)
        .join('');
      this.logs.emit('log', {
        port: this.path,
        text: `[event] ${event.name}${fields}`,
        truncated: false,
        at: new Date(),
      });
    });
    this.session = new BoardSession(link);
  }

  private get board(): BoardSession {
    if (!this.session) {
      throw new SerialLinkError('LINK_CLOSED', `The station has not opened ${this.path} yet.`, {
        port: this.path,
        retrySafe: true,
      });
    }
    return this.session;
  }

  hello() {
    return this.board.hello();
  }
  identify() {
    return this.board.identify();
  }
  challenge(challenge: Buffer): Promise<SecurityStateBytes> {
    return this.board.challenge(challenge);
  }
  write(fields: CredentialWrite) {
    return this.board.write(fields);
  }
  commit() {
    return this.board.commit();
  }
  readback() {
    return this.board.readback();
  }
  verify(nonce: Buffer, key: 'sign' | KeyInterface, gpsDay?: number) {
    return this.board.verify(nonce, key, gpsDay);
  }
  lock(deviceId: string) {
    return this.board.lock(deviceId);
  }
  reboot() {
    return this.board.reboot();
  }
  /** Restarts the board made by itself (not asked for) since the port opened; the record keeps them per step. */
  get restartCount(): number {
    return this.session?.unexpectedRestarts ?? 0;
  }

  onLog(listener: (line: BoardLogLine) => void): () => void {
    this.logs.on('log', listener);
    return () => this.logs.off('log', listener);
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.link.close();
  }
}
