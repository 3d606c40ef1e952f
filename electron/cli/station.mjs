#!/usr/bin/env node
// The `station` command. Runs the TypeScript sources through tsx so a fresh `npm ci` is all a user needs.
import { register } from 'tsx/esm/api';

register();
const { runStationCli } = await import('./main.ts');
process.exitCode = await runStationCli(process.argv);
