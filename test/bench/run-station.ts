/** Runs the real `station` CLI once for a benchmark: its output, wall time and (with GNU time) peak memory and CPU. */
import { spawn, type SpawnOptionsWithStdioTuple } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const STATION = fileURLToPath(new URL('../../electron/cli/station.mjs', import.meta.url));

export interface StationRun {
  code: number | null;
  stdout: string;
  /** stderr without GNU time's line. */
  stderr: string;
  wallMs: number;
  maxRssKb: number | null;
  /** User + system CPU of the CLI process, start-up included (GNU time). */
  cpuMs: number | null;
}

export async function runStationTimed(args: string[], env: NodeJS.ProcessEnv = {}): Promise<StationRun> {
  const started = process.hrtime.bigint();
  // GNU time reports the CLI's peak memory; without it the benchmark still measures time.
  const timed = existsSync('/usr/bin/time');
  const command = [process.execPath, STATION, ...args];
  const options: SpawnOptionsWithStdioTuple<'ignore', 'pipe', 'pipe'> = {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  };
  const child = timed
    ? spawn('/usr/bin/time', ['-f', '%M %U %S', ...command], options)
    : spawn(command[0]!, command.slice(1), options);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (!timed) return { code, stdout, stderr, wallMs, maxRssKb: null, cpuMs: null };
  const lines = stderr.trimEnd().split('\n');
  const match = /^(\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)$/.exec(lines.at(-1) ?? '');
  return {
    code,
    stdout,
    stderr: match ? lines.slice(0, -1).join('\n') : stderr,
    wallMs,
    maxRssKb: match ? Number(match[1]) : null,
    cpuMs: match ? Math.round((Number(match[2]) + Number(match[3])) * 1000) : null,
  };
}
