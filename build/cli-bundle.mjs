// Keeps dist/cli/station.mjs, an esbuild bundle of the station's TypeScript, in step with the sources.
// Loading the sources through a TypeScript loader takes ~2 s per command (every dependency file goes through the
// loader's hooks); the bundle, with npm packages left external, starts in a fraction of that.
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCE_DIRS = ['electron', 'firmware-protocol', 'station-config'];
export const CLI_BUNDLE = join(ROOT, 'dist', 'cli', 'station.mjs');

function newestSourceMtime() {
  let newest = statSync(join(ROOT, 'package.json')).mtimeMs;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of SOURCE_DIRS) walk(join(ROOT, dir));
  return newest;
}

export function cliBundleIsFresh() {
  try {
    return statSync(CLI_BUNDLE).mtimeMs >= newestSourceMtime();
  } catch {
    return false;
  }
}

export async function buildCliBundle() {
  const { build } = await import('esbuild');
  mkdirSync(dirname(CLI_BUNDLE), { recursive: true });
  // Build beside the target and rename, so a concurrent `station` never loads a half-written file.
  const temp = `${CLI_BUNDLE}.${process.pid}.tmp.mjs`;
  await build({
    entryPoints: [join(ROOT, 'electron', 'cli', 'main.ts')],
    outfile: temp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'error',
  });
  renameSync(temp, CLI_BUNDLE);
  return CLI_BUNDLE;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.error(`built ${await buildCliBundle()}`);
}
