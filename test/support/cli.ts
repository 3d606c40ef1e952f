import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const STATION_BIN = fileURLToPath(new URL('../../electron/cli/station.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `station <args>` to completion, as a user would from a shell. */
export function runStation(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STATION_BIN, ...args], { env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`station ${args.join(' ')} did not finish in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Start a long-running `station <args>` and collect its stdout lines as they come. */
export function startStation(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [STATION_BIN, ...args], { env });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    async waitForLines(count: number, timeoutMs = 15_000): Promise<string[]> {
      const start = Date.now();
      while (lines.length < count) {
        if (Date.now() - start > timeoutMs)
          throw new Error(`expected ${count} lines, got ${lines.length}; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return lines.slice(0, count);
    },
  };
}
