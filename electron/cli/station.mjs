#!/usr/bin/env node
// The `station` command. Runs a bundle of the TypeScript sources, rebuilt on the spot when a source is newer,
// so `npm ci` is all a user needs and an edited checkout never runs stale code.
import { buildCliBundle, cliBundleIsFresh, CLI_BUNDLE } from '../../build/cli-bundle.mjs';

let entry = CLI_BUNDLE;
if (!cliBundleIsFresh()) {
  try {
    entry = await buildCliBundle();
  } catch (error) {
    // A read-only install cannot write dist/: run the sources through tsx instead (slower, same behaviour).
    const { register } = await import('tsx/esm/api');
    register();
    entry = new URL('./main.ts', import.meta.url).href;
    if (process.env.STATION_DEBUG) console.error(`station: bundle build failed (${error}); using tsx`);
  }
}
const { runStationCli } = await import(entry.startsWith('file:') ? entry : `file://${entry}`);
process.exitCode = await runStationCli(process.argv);
