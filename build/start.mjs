// `npm start [-- ARGS]`: the station app. Builds the operator app (when its build script exists), then runs it in
// Electron when the Electron binary is installed, otherwise in the browser through `station serve --open`, so the
// README's run command works on every machine (CI and containers install with ELECTRON_SKIP_BINARY_DOWNLOAD=1).
// Never `require('electron')` to find the binary: without one, that tries to download it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The Electron executable when the package and its downloaded binary are both there, else null. */
export function electronBinary(root = ROOT) {
  const dir = join(root, 'node_modules', 'electron');
  try {
    const relative = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
    const binary = join(dir, 'dist', relative);
    return relative !== '' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

export const BROWSER_FALLBACK_LINE =
  'npm start: the Electron binary is not installed here; running the station in your browser instead (station serve --open)';

/** Options only the Electron app knows; `station serve` would refuse them. */
const APP_ONLY_FLAGS = new Set(['--kiosk']);

function hasScript(name) {
  const { scripts = {} } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  return typeof scripts[name] === 'string';
}

/** Runs a child with our stdio; resolves with its exit code. Signals to us are passed on, not obeyed. */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    // A terminal's Ctrl-C reaches the child by itself (same process group): forwarding it too would be a second
    // SIGINT, which force-quits the station mid-shutdown. We only wait until it has stopped (it records running
    // units as cancelled) and exit with its status. SIGTERM is usually sent to us alone, so it is passed on.
    const onInt = () => undefined;
    const onTerm = () => child.kill('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('error', (error) => {
      console.error(`npm start: could not run ${command}: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code ?? 128 + (constants.signals[signal] ?? 0));
    });
  });
}

async function main(args) {
  if (hasScript('build:renderer')) {
    const built = spawnSync('npm', ['run', '-s', 'build:renderer'], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) return built.status ?? 1;
  } else {
    console.error('npm start: no build:renderer script yet; skipping the operator app build');
  }
  const binary = electronBinary();
  if (binary) {
    const { buildAppBundle } = await import('./app-bundle.mjs');
    await buildAppBundle({ quiet: true });
    // The project folder, not the bundle: Electron reads package.json ("main", the app's name for its data).
    return run(binary, [ROOT, ...args]);
  }
  console.error(BROWSER_FALLBACK_LINE);
  const serveArgs = args.filter((arg) => !APP_ONLY_FLAGS.has(arg.split('=')[0]));
  return run(process.execPath, [
    join(ROOT, 'electron', 'cli', 'station.mjs'),
    'serve',
    '--open',
    ...serveArgs,
  ]);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
