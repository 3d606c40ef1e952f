/**
 * vitest global setup: the browser tests serve the built operator app (renderer/dist). It is built afresh for
 * every run (about a second), in production mode: vitest runs with NODE_ENV=test, which would otherwise give
 * React's development build, and a stale build would test yesterday's screen.
 */
import { execFileSync } from 'node:child_process';

export default function setup(): void {
  execFileSync(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'error'],
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
  );
}
