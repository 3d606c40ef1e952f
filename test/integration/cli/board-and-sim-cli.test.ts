import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PtyPair } from '../../../firmware-protocol/virtual-board';
import { runStation, startStation } from '../../support/cli';

const running: Array<ReturnType<typeof startStation>> = [];
const pairs: PtyPair[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const sim of running.splice(0)) {
    sim.child.kill('SIGTERM');
    await sim.exited;
  }
  await Promise.all(pairs.splice(0).map((pair) => pair.close()));
});
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'station-cli-'));
  dirs.push(dir);
  return dir;
}

async function simBoards(args: string[], count: number) {
  const sim = startStation(['sim', 'boards', '--count', String(count), ...args]);
  running.push(sim);
  const lines = await sim.waitForLines(count);
  return {
    sim,
    boards: lines.map((line) => JSON.parse(line) as { path: string; soc: string; mcuId: string }),
  };
}

describe('station sim boards', () => {
  it('prints one JSON line per board, serves them, and removes its PTYs on SIGTERM', async () => {
    const { sim, boards } = await simBoards(['--soc', 'stm32l4x'], 3);
    expect(boards).toHaveLength(3);
    for (const board of boards) {
      expect(Object.keys(board).sort()).toEqual(['mcuId', 'path', 'soc']);
      expect(board.soc).toBe('stm32l4x');
      expect(board.mcuId).toMatch(/^[0-9a-f]{24}$/);
      expect(existsSync(board.path)).toBe(true);
    }
    expect(new Set(boards.map((b) => b.mcuId)).size).toBe(3);

    const identify = await runStation(['board', 'identify', '--port', boards[1]!.path]);
    expect(identify.code).toBe(0);
    const report = JSON.parse(identify.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({
      soc: 'stm32l4x',
      mcuId: boards[1]!.mcuId,
      deviceId: null,
      protocolVersion: 1,
    });
    for (const key of [
      'soc',
      'mcuId',
      'devicePublicKey',
      'deviceId',
      'firmwareVersion',
      'protocolVersion',
      'cloudPublicKey',
    ]) {
      expect(report).toHaveProperty(key);
    }

    sim.child.kill('SIGTERM');
    expect(await sim.exited).toBe(0);
    running.splice(running.indexOf(sim), 1);
    for (const board of boards) expect(existsSync(board.path)).toBe(false);
  });

  it('leaves no socat behind when it is killed with SIGKILL', async () => {
    const ptyDir = tempDir();
    const { sim, boards } = await simBoards(['--pty-dir', ptyDir], 2);
    sim.child.kill('SIGKILL');
    await sim.exited;
    running.splice(running.indexOf(sim), 1);
    const socatsFor = () =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.startsWith('socat') && line.includes(ptyDir));
    const start = Date.now();
    while (socatsFor().length > 0 && Date.now() - start < 5000) await new Promise((r) => setTimeout(r, 50));
    expect(socatsFor()).toEqual([]);
    expect(boards.every((b) => b.path.startsWith(ptyDir))).toBe(true);
  });

  it('keeps board identities in --state-dir across restarts', async () => {
    const stateDir = tempDir();
    const first = await simBoards(['--state-dir', stateDir], 2);
    first.sim.child.kill('SIGINT');
    expect(await first.sim.exited).toBe(0);
    running.splice(0);
    const second = await simBoards(['--state-dir', stateDir], 2);
    expect(second.boards.map((b) => b.mcuId)).toEqual(first.boards.map((b) => b.mcuId));
  });

  it('refuses a bad fault spec with the list of kinds', async () => {
    const result = await runStation(['sim', 'boards', '--fault', 'melt@COMMIT']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown kind "melt"');
    expect(result.stderr).toContain('drop-reply');
  });

  it('refuses clearly when socat is missing', async () => {
    const bin = tempDir();
    // A PATH that has node's folder but no socat.
    mkdirSync(join(bin, 'empty'));
    const result = await runStation(['sim', 'boards', '--count', '1'], {
      env: { ...process.env, PATH: join(bin, 'empty') },
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'station: socat is not installed, and virtual boards need it to create serial port pairs: install it (Debian/Ubuntu: sudo apt-get install socat) and try again',
    );
  });
});

describe('station board identify: one-line reasons and non-zero exits', () => {
  it('when nothing answers', async () => {
    const dir = tempDir();
    const pair = await PtyPair.create(join(dir, 'station'), join(dir, 'board'));
    pairs.push(pair);
    const result = await runStation([
      'board',
      'identify',
      '--port',
      pair.stationPath,
      '--timeout-scale',
      '0.2',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^station: SERIAL_TIMEOUT: The board did not answer HELLO within 200 ms \(3 tries\)/,
    );
  });

  it('when the board speaks another protocol version', async () => {
    const { boards } = await simBoards(['--fault', 'wrong-version'], 1);
    const result = await runStation(['board', 'identify', '--port', boards[0]!.path]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `station: SERIAL_PROTOCOL_MISMATCH: The board speaks station protocol version 99, but this station speaks 1: flash a firmware the recipe allows, or update the station.`,
    );
  });

  it('when the board sends garbage instead of frames', async () => {
    const { boards } = await simBoards(['--fault', 'corrupt-crc'], 1);
    const result = await runStation([
      'board',
      'identify',
      '--port',
      boards[0]!.path,
      '--timeout-scale',
      '0.3',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^station: SERIAL_GARBLED: The board answered HELLO with garbled data 3 times/,
    );
  });

  it('when the port does not exist', async () => {
    const result = await runStation(['board', 'identify', '--port', '/dev/nonexistent-station-port']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'station: SERIAL_PORT_NOT_FOUND: No serial port at /dev/nonexistent-station-port: check the cable and the port path in the station config.',
    );
  });

  it('when the board answers with an error code of its own', async () => {
    const { boards } = await simBoards(['--fault', 'busy@IDENTIFY=1'], 1);
    const result = await runStation(['board', 'identify', '--port', boards[0]!.path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^station: SERIAL_BOARD_ERROR_BUSY: /);
  });

  it('board ports prints a JSON array', async () => {
    const result = await runStation(['board', 'ports']);
    expect(result.code).toBe(0);
    expect(Array.isArray(JSON.parse(result.stdout))).toBe(true);
  });
});
