/**
 * A virtual board behind a board port, in memory: no PTY, no socat, so step tests run in milliseconds. The link
 * code is the station's real SerialLink, over a stream instead of a serial port.
 */
import { PassThrough } from 'node:stream';
import { SerialBoardPort, SerialLink, type LinkTransport } from '../../electron/serial';
import {
  createBlankBoardImage,
  DEVELOPMENT_CLOUD_PUBLIC_KEY,
  FaultSet,
  MemoryFlashStore,
  VirtualBoard,
  type FaultRule,
} from '../../firmware-protocol/virtual-board';

/** Bytes from the board arrive on the stream; bytes the station writes go to the board. */
class MemoryTransport extends PassThrough implements LinkTransport {
  private open = true;
  constructor(private readonly board: VirtualBoard) {
    super();
    board.on('output', (text) => {
      if (this.open) this.push(text);
    });
  }
  get isOpen(): boolean {
    return this.open;
  }
  override write(data: string): boolean {
    if (this.open) this.board.receive(Buffer.from(data));
    return true;
  }
  close(callback: (error?: Error | null) => void): void {
    this.open = false;
    this.end();
    this.emit('close');
    callback(null);
  }
}

let boards = 0;

export interface MemoryBoard {
  board: VirtualBoard;
  port: SerialBoardPort;
}

/** A powered, booted virtual board with its board port (not yet opened: the connect step opens it). */
export async function memoryBoard(
  options: { soc?: string; cloudPublicKey?: Buffer; faults?: FaultRule[] } = {},
): Promise<MemoryBoard> {
  const board = new VirtualBoard({
    store: new MemoryFlashStore(
      createBlankBoardImage({
        soc: options.soc ?? 'nRF52840',
        cloudPublicKey: options.cloudPublicKey ?? DEVELOPMENT_CLOUD_PUBLIC_KEY,
      }),
    ),
    faults: new FaultSet(options.faults ?? []),
    processingDelayMs: 0,
    flashWriteDelayMs: 0,
    bootDelayMs: 5,
  });
  const booted = new Promise<void>((resolve) => board.once('power-on', () => resolve()));
  board.powerOn();
  await booted;
  const path = `memory:${++boards}`;
  const port = new SerialBoardPort(path, async () => SerialLink.attach(new MemoryTransport(board), { path }));
  return { board, port };
}
