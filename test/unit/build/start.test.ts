/**
 * `npm start` (build/start.mjs) finds the Electron binary the way Electron's own package does, without loading
 * it (loading it without a binary tries to download one): path.txt names the executable under dist/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

interface StartScript {
  electronBinary(root?: string): string | null;
  BROWSER_FALLBACK_LINE: string;
}

const start = (await import(
  /* @vite-ignore */ new URL('../../../build/start.mjs', import.meta.url).href
)) as StartScript;

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'start-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('npm start', () => {
  it('finds the binary that path.txt names under node_modules/electron/dist', () => {
    const root = project({
      'node_modules/electron/path.txt': 'electron',
      'node_modules/electron/dist/electron': '',
    });
    expect(start.electronBinary(root)).toBe(join(root, 'node_modules', 'electron', 'dist', 'electron'));
  });

  it.each([
    ['no electron package', {}],
    ['the package without a download (no path.txt)', { 'node_modules/electron/index.js': '' }],
    ['path.txt naming a file that is not there', { 'node_modules/electron/path.txt': 'electron' }],
    ['an empty path.txt', { 'node_modules/electron/path.txt': '', 'node_modules/electron/dist/x': '' }],
  ])('reports no binary with %s', (_what, files) => {
    expect(start.electronBinary(project(files))).toBeNull();
  });

  it('says in one line that it runs the station in the browser instead', () => {
    expect(start.BROWSER_FALLBACK_LINE).toBe(
      'npm start: the Electron binary is not installed here; running the station in your browser instead (station serve --open)',
    );
  });
});
