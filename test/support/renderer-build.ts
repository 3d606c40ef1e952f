/**
 * vitest global setup: the browser tests need the built operator app (renderer/dist). Builds it when it is
 * missing or older than a renderer or contract source, so `npm test` on a fresh clone just works.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

export default function setup(): void {
  const built = join('renderer', 'dist', 'index.html');
  const stale =
    !existsSync(built) ||
    statSync(built).mtimeMs < Math.max(newest('renderer'), newest(join('electron', 'station-api')));
  if (stale)
    execFileSync(
      process.execPath,
      ['node_modules/vite/bin/vite.js', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'],
      { stdio: 'inherit' },
    );
}
