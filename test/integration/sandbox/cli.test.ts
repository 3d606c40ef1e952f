import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SANDBOX_CLOUD_PUBLIC_KEY } from '../../../electron/sandbox';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface StartLine {
  url: string;
  apiKey: string;
  organisationId: string;
  boardId: string;
  networkId: number;
  cloudPublicKey: string;
}

function station(args: string[]): { child: ChildProcessWithoutNullStreams; stderr: () => string } {
  const child = spawn(process.execPath, ['electron/cli/station.mjs', ...args], { cwd: root, stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { child, stderr: () => stderr };
}

async function firstLine(child: ChildProcessWithoutNullStreams): Promise<{ line: string; rest: string[] }> {
  const lines = createInterface({ input: child.stdout });
  const rest: string[] = [];
  let first: string | undefined;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no start line within 20 s')), 20_000);
    lines.on('line', (line) => {
      if (first === undefined) {
        first = line;
        clearTimeout(timer);
        resolve({ line, rest });
      } else rest.push(line);
    });
    child.once('exit', (code) => reject(new Error(`station exited with ${code} before its start line`)));
  });
}

describe('station sandbox (CLI)', () => {
  it('prints one JSON start line, serves HTTP, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'station-sandbox-'));
    const { child, stderr } = station(['sandbox', '--port', '0', '--data', join(dir, 'sb.sqlite')]);
    try {
      const { line, rest } = await firstLine(child);
      const start = JSON.parse(line) as StartLine;
      expect(Object.keys(start).sort()).toEqual(
        ['apiKey', 'boardId', 'cloudPublicKey', 'networkId', 'organisationId', 'url'].sort(),
      );
      expect(start.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(start.cloudPublicKey).toBe(SANDBOX_CLOUD_PUBLIC_KEY);
      expect(start.networkId).toBeGreaterThan(0);

      const health = await fetch(`${start.url}/health`);
      expect(await health.json()).toEqual({ health: 'ok' });
      const board = await fetch(`${start.url}/board/id/${start.boardId}`, {
        headers: { 'x-api-key': `Bearer ${start.apiKey}` },
      });
      expect(board.status).toBe(200);
      expect(await board.json()).toMatchObject({ id: start.boardId, soc: 'nRF52840' });
      expect((await fetch(`${start.url}/board/id/${start.boardId}`)).status).toBe(401);

      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(rest).toEqual([]);
      // The key is printed once, on stdout, by design; never on stderr.
      expect(stderr()).toContain('SANDBOX backend listening on');
      expect(stderr()).not.toContain(start.apiKey);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad --fault with a usage error', async () => {
    const { child, stderr } = station(['sandbox', '--fault', 'explode']);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(2);
    expect(stderr()).toContain('station: fault "explode": start with latency=MS');
  });
});
