/**
 * The virtual board's wire model and byte counters over real PTY pairs: a paced board takes at least the time its
 * bytes need at the baud rate, and the counters count exactly what each end sent.
 */
import { performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, PROTOCOL_VERSION, type RequestFrame } from '../../../firmware-protocol';
import { wireTimeMs } from '../../../firmware-protocol/virtual-board';
import { useVirtualBoards, waitUntil } from '../../support/serial-fixtures';

const boards = useVirtualBoards();
const rawPorts: SerialPort[] = [];
afterEach(async () => {
  await Promise.all(
    rawPorts
      .splice(0)
      .map((port) => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()))),
  );
});

/** HELLO + IDENTIFY through the station's own serial link, timed; the counters cover just that exchange. */
async function helloIdentify(baudRate: number | undefined) {
  const sim = await boards.start(baudRate === undefined ? {} : { wire: { baudRate } });
  // A roomy timeout scale: at 9600 baud an IDENTIFY reply alone is a third of a second on the wire.
  const { link, session } = await boards.connect(sim.boards[0]!.path, { timeoutScale: 3 });
  // The boot event the board wrote before the port was open can still reach the link after it opens; arriving
  // during HELLO it would look like a restart and make the station say HELLO again, overlapping the two
  // directions. Let it arrive first (if it comes at all), so the exchange is strictly stop-and-wait.
  await waitUntil(() => link.bootCount > 0, 1000).catch(() => undefined);
  sim.resetCounters();
  const start = performance.now();
  await session.hello();
  const identity = await session.identify();
  const elapsedMs = performance.now() - start;
  return { elapsedMs, counters: sim.counters(), identity, mcuId: sim.boards[0]!.mcuId };
}

async function openRaw(path: string): Promise<{ port: SerialPort; received: () => Buffer }> {
  const port = new SerialPort({ path, baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  rawPorts.push(port);
  const chunks: Buffer[] = [];
  port.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { port, received: () => Buffer.concat(chunks) };
}

describe('virtual board wire model', () => {
  it('at 9600 baud HELLO + IDENTIFY takes at least (bytes both ways) x 10 / 9600 s, and longer than unpaced', async () => {
    const paced = await helloIdentify(9600);
    expect(paced.identity.mcuId).toBe(paced.mcuId);
    expect(paced.counters.baudRate).toBe(9600);
    expect(paced.counters.bitsPerByte).toBe(10);
    const { total } = paced.counters;
    // One request each and one log line + one reply each: nothing crossed while the other direction was busy.
    expect(total.stationToBoardLines).toBe(2);
    expect(total.boardToStationLines).toBe(4);
    const floorMs = wireTimeMs(total.stationToBoardBytes + total.boardToStationBytes, 9600);
    // Stop-and-wait: the board reads a request only once it has crossed, and its reply crosses after that.
    expect(floorMs).toBeGreaterThan(300);
    expect(paced.elapsedMs).toBeGreaterThanOrEqual(floorMs);

    const unpaced = await helloIdentify(undefined);
    expect(unpaced.counters.baudRate).toBeNull();
    expect(unpaced.elapsedMs).toBeLessThan(paced.elapsedMs);
  });

  it('counts exactly the bytes and lines each end sent', async () => {
    const sim = await boards.start({ wire: { baudRate: 115_200 } });
    const board = sim.boards[0]!;
    const { port, received } = await openRaw(board.path);
    sim.resetCounters();
    const frames: RequestFrame[] = [
      { kind: 'request', id: 1, command: 'HELLO', fields: { proto: String(PROTOCOL_VERSION) } },
      { kind: 'request', id: 2, command: 'IDENTIFY', fields: {} },
    ];
    let sent = 0;
    for (const frame of frames) {
      const line = encodeFrame(frame);
      sent += Buffer.byteLength(line);
      port.write(line);
      const okLine = `~< ${frame.id.toString(16).padStart(4, '0')} OK `;
      await waitUntil(() => received().toString().includes(okLine), 5000, `the reply to ${frame.command}`);
    }
    const counters = board.host.counters();
    expect(counters.stationToBoardBytes).toBe(sent);
    expect(counters.stationToBoardLines).toBe(frames.length);
    // Everything the board said since the reset reaches the station, byte for byte. What it said before (its boot
    // output) may still be on its way through socat when the port opens, so the count starts at the log line the
    // board writes for HELLO.
    const fromBoardNow = () => {
      const text = received().toString('latin1');
      const hello = text.indexOf('HELLO from station');
      return hello < 0 ? Buffer.alloc(0) : received().subarray(text.lastIndexOf('\n', hello) + 1);
    };
    await waitUntil(
      () => fromBoardNow().length === board.host.counters().boardToStationBytes,
      5000,
      'the board output to arrive',
    );
    const fromBoard = fromBoardNow();
    expect(board.host.counters()).toEqual({
      stationToBoardBytes: sent,
      stationToBoardLines: 2,
      boardToStationBytes: fromBoard.length,
      boardToStationLines: fromBoard.toString().split('\n').length - 1,
    });
    // Two log lines (one per command) and two replies.
    expect(board.host.counters().boardToStationLines).toBe(4);
    expect(sim.counters().total).toEqual(board.host.counters());

    sim.resetCounters();
    expect(sim.counters().total).toEqual({
      stationToBoardBytes: 0,
      stationToBoardLines: 0,
      boardToStationBytes: 0,
      boardToStationLines: 0,
    });
  });

  it('takes the board timing options (flash write, boot) and refuses a baud rate of 0', async () => {
    const sim = await boards.start({ bootDelayMs: 5, flashWriteDelayMs: 1, wire: {} });
    expect(sim.counters().baudRate).toBe(115_200);
    const { session } = await boards.connect(sim.boards[0]!.path);
    expect((await session.identifyReport()).mcuId).toBe(sim.boards[0]!.mcuId);
    await expect(boards.start({ wire: { baudRate: 0 } })).rejects.toThrow(
      'a wire model needs a positive baud rate, not 0',
    );
  });
});
