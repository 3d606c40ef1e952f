// Bundles the Electron app: dist/app/main.cjs (the main process) and dist/app/preload.cjs (the preload).
// CommonJS, because Electron loads a sandboxed preload only as a classic script and its main process as CJS by
// default. Electron itself and the native modules (rebuilt for Electron's ABI by `electron-builder
// install-app-deps`, unpacked from the asar) stay external and load from node_modules; everything else is bundled.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const APP_DIR = join(ROOT, 'dist', 'app');
export const APP_MAIN = join(APP_DIR, 'main.cjs');
export const APP_PRELOAD = join(APP_DIR, 'preload.cjs');
const NATIVE = ['electron', 'better-sqlite3', 'serialport', '@serialport/*'];

export async function buildAppBundle({ quiet = false } = {}) {
  const { build } = await import('esbuild');
  mkdirSync(APP_DIR, { recursive: true });
  const common = {
    bundle: true,
    format: 'cjs',
    sourcemap: 'linked',
    logLevel: quiet ? 'error' : 'warning',
    // Electron 45 runs Chromium 142 and Node 22.
    target: ['node22', 'chrome142'],
    // Written below, each file beside its target and renamed: an app (or a test) starting meanwhile never loads
    // a half-written bundle.
    write: false,
  };
  const results = await Promise.all([
    build({
      ...common,
      entryPoints: [join(ROOT, 'electron', 'app', 'main.ts')],
      outfile: APP_MAIN,
      platform: 'node',
      external: NATIVE,
      // ESM builds first: some packages' CommonJS builds are UMD wrappers whose require() esbuild cannot follow
      // (jsonc-parser's loads './impl/format' at run time, which a bundle does not have).
      mainFields: ['module', 'main'],
      // The sources are ESM and find shipped files from import.meta.url; in a CJS bundle that is this file.
      define: { 'import.meta.url': '__bundleUrl' },
      banner: { js: "var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    }),
    build({
      ...common,
      entryPoints: [join(ROOT, 'electron', 'app', 'preload.ts')],
      outfile: APP_PRELOAD,
      // A sandboxed preload has no Node: the browser platform makes a stray Node import a build error.
      platform: 'browser',
      external: ['electron'],
    }),
  ]);
  for (const file of results.flatMap((result) => result.outputFiles)) {
    const temp = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temp, file.contents);
    renameSync(temp, file.path);
  }
  return { main: APP_MAIN, preload: APP_PRELOAD };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { main, preload } = await buildAppBundle();
  console.error(`built ${main} and ${preload}`);
}
