/** Runs the real `station` entry point in a child process, with a clean environment and a private HOME. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../support/temp-dirs';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface StationRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A private HOME, removed after the test file (temp-dirs.ts). */
export function tempHome(): string {
  return tempDir('station-cli-');
}

export function runStation(
  args: string[],
  options: { input?: string; env?: Record<string, string>; home?: string } = {},
): StationRun {
  // Only what the CLI needs: inherited STATION_* variables would make the tests depend on the developer's shell.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: options.home ?? tempHome(),
    ...options.env,
  };
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'electron/cli/station.mjs'), ...args], {
    cwd: REPO_ROOT,
    env,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
