/**
 * The timing flags of `station sim boards` and of `station provision --sim`, and the SIGUSR2 counters line:
 * real processes, real PTYs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { baudRate, boardMs } from '../../../electron/cli/commands/sim';
import type { SimulatorCounters } from '../../../firmware-protocol/virtual-board';
import { runStation, startStation } from '../../support/cli';
import { tempDir } from '../../support/temp-dirs';

const running: Array<ReturnType<typeof startStation>> = [];
afterEach(async () => {
  for (const sim of running.splice(0)) {
    if (sim.child.exitCode === null) sim.child.kill('SIGTERM');
    await sim.exited;
  }
});

interface StatsLine {
  stats: SimulatorCounters;
}

async function statsLine(sim: ReturnType<typeof startStation>): Promise<StatsLine> {
  const seen = sim.lines.length;
  sim.child.kill('SIGUSR2');
  const lines = await sim.waitForLines(seen + 1);
  return JSON.parse(lines[seen]!) as StatsLine;
}

describe('station sim boards: timing flags and counters', () => {
  it('--baud paces the boards; SIGUSR2 prints the bytes and lines each board carried', async () => {
    const sim = startStation([
      'sim',
      'boards',
      '--count',
      '2',
      '--baud',
      '57600',
      '--delay-ms',
      '1',
      '--flash-ms',
      '1',
      '--boot-ms',
      '10',
    ]);
    running.push(sim);
    const boards = (await sim.waitForLines(2)).map(
      (line) => JSON.parse(line) as { path: string; mcuId: string },
    );
    const before = await statsLine(sim);
    expect(before.stats.baudRate).toBe(57600);
    expect(before.stats.bitsPerByte).toBe(10);
    expect(before.stats.boards.map((b) => b.mcuId)).toEqual(boards.map((b) => b.mcuId));
    expect(before.stats.total.stationToBoardBytes).toBe(0);

    const identify = await runStation(['board', 'identify', '--port', boards[1]!.path]);
    expect(identify.code).toBe(0);
    const after = await statsLine(sim);
    const [first, second] = after.stats.boards;
    expect(first).toMatchObject({ index: 0, stationToBoardBytes: 0 });
    expect(second!.stationToBoardLines).toBeGreaterThanOrEqual(2);
    expect(second!.boardToStationBytes).toBeGreaterThan(before.stats.boards[1]!.boardToStationBytes);
    expect(after.stats.total.stationToBoardBytes).toBe(second!.stationToBoardBytes);

    sim.child.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
  });

  it('--wire-model alone paces at 115200', async () => {
    const paced = startStation(['sim', 'boards', '--wire-model']);
    running.push(paced);
    await paced.waitForLines(1);
    expect((await statsLine(paced)).stats.baudRate).toBe(115_200);
  });

  it('refuses a bad value with a usage error that says what is expected', async () => {
    const result = await runStation(['sim', 'boards', '--flash-ms', '-5']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "option '--flash-ms <ms>' argument '-5' is invalid. expected a whole number of milliseconds from 0 to 600000",
    );
  });

  // The parsers themselves, in-process: a process per bad value would cost a second each.
  it.each(['0', '299', '4000001', 'fast', '9600.5', ''])('--baud %j is refused', (value) => {
    expect(() => baudRate(value)).toThrow(
      'expected a whole number of bits per second from 300 to 4000000 (e.g. 115200)',
    );
  });

  it.each(['-1', '1.5', '600001', 'soon', ''])('--delay-ms/--flash-ms/--boot-ms %j is refused', (value) => {
    expect(() => boardMs(value)).toThrow('expected a whole number of milliseconds from 0 to 600000');
  });

  it('takes what it should', () => {
    expect(baudRate('9600')).toBe(9600);
    expect(baudRate('300')).toBe(300);
    expect(boardMs('0')).toBe(0);
    expect(boardMs('600000')).toBe(600_000);
  });
});

describe('station provision --sim: the same timing flags', () => {
  it('--sim-baud paces the in-process boards, and the unit still passes', async () => {
    const data = tempDir('station-wire-');
    const result = await runStation(
      [
        'provision',
        '--sim',
        '1',
        '--batch',
        'wire',
        '--operator',
        'bench',
        '--json',
        '--data',
        data,
        '--sim-baud',
        '19200',
        '--sim-delay-ms',
        '1',
        '--sim-flash-ms',
        '1',
        '--sim-boot-ms',
        '10',
      ],
      { timeoutMs: 25_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as { passed: number; units: Array<{ durationMs: number }> };
    expect(summary.passed).toBe(1);
    // A unit's exchange is kilobytes each way (about 2 s on this wire); HELLO + IDENTIFY alone is about 760
    // bytes, 0.4 s at 19200 baud.
    expect(summary.units[0]!.durationMs).toBeGreaterThanOrEqual(1000);
  });

  it('refuses a bad --sim-baud', async () => {
    const bad = await runStation(['provision', '--batch', 'b', '--operator', 'o', '--sim-baud', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--sim-baud <rate>' argument '1' is invalid");
  });
});
