/** A terminal's Ctrl-C signals the station's whole process group; the virtual boards' socat must not go with it. */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { socatAvailable } from '../../../firmware-protocol/virtual-board';

const HOLDER = fileURLToPath(new URL('../../support/pty-pair-holder.ts', import.meta.url));

const holders: ChildProcessWithoutNullStreams[] = [];
const ports: SerialPort[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(
    ports
      .splice(0)
      .map((port) => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()))),
  );
  for (const holder of holders.splice(0)) {
    if (holder.exitCode === null && holder.signalCode === null) {
      const exited = new Promise((resolve) => holder.once('exit', resolve));
      holder.kill('SIGKILL');
      await exited;
    }
  }
  for (const dir of dirs.splice(0)) {
    await waitFor(() => processesFor(dir).length === 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every process (the guard shell, socat) whose command line names a path in `dir`. */
function processesFor(dir: string): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(dir) && !line.includes('pty-pair-holder'));
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

async function openPort(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  ports.push(port);
  await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
  return port;
}

async function carries(from: SerialPort, to: SerialPort, text: string): Promise<boolean> {
  let received = '';
  const onData = (chunk: Buffer) => (received += chunk.toString());
  to.on('data', onData);
  from.write(text);
  const arrived = await waitFor(() => received.includes(text), 2000);
  to.off('data', onData);
  return arrived;
}

/** Start the holder as a terminal starts a foreground job: in a process group of its own. */
async function startHolder(dir: string) {
  const holder = spawn(
    process.execPath,
    ['--import', 'tsx', HOLDER, join(dir, 'station'), join(dir, 'board')],
    { detached: true, stdio: 'pipe' },
  );
  holders.push(holder);
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  holder.stdout.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  holder.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const nextLine = async (): Promise<unknown> => {
    const seen = lines.length;
    if (!(await waitFor(() => lines.length > seen, 15_000)))
      throw new Error(`the holder printed nothing; stderr: ${stderr}`);
    return JSON.parse(lines[seen]!);
  };
  expect(await nextLine()).toEqual({ ready: true });
  return {
    holder,
    async alive(): Promise<unknown> {
      holder.stdin.write('alive?\n');
      return nextLine();
    },
  };
}

describe.runIf(socatAvailable())('PtyPair and a terminal Ctrl-C', () => {
  it('keeps carrying data through a SIGINT to the owner’s process group, and dies with its owner', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'station-pty-sigint-'));
    dirs.push(dir);
    const { holder, alive } = await startHolder(dir);
    const station = await openPort(join(dir, 'station'));
    const board = await openPort(join(dir, 'board'));
    expect(await carries(station, board, 'before\n')).toBe(true);
    expect(processesFor(dir)).toHaveLength(2); // the guard shell and socat

    process.kill(-holder.pid!, 'SIGINT');
    // Give a socat that took the signal time to die before looking.
    await new Promise((r) => setTimeout(r, 300));

    expect(await alive()).toEqual({ alive: true });
    expect(processesFor(dir)).toHaveLength(2);
    expect(await carries(station, board, 'after the SIGINT\n')).toBe(true);
    expect(await carries(board, station, 'and back\n')).toBe(true);

    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    expect(await waitFor(() => processesFor(dir).length === 0)).toBe(true);
  });
});
