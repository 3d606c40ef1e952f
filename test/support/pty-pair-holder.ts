/**
 * Run as its own program (`node --import tsx pty-pair-holder.ts STATION BOARD`): holds one PtyPair open the way
 * a station does, and like a station that finishes its units first, shrugs off SIGINT. Prints one JSON line once
 * the pair is ready, then answers each line on stdin with whether the pair is still alive.
 */
import { createInterface } from 'node:readline';
import { PtyPair } from '../../firmware-protocol/virtual-board';

process.on('SIGINT', () => undefined);

const [stationPath, boardPath] = process.argv.slice(2);
if (stationPath === undefined || boardPath === undefined) {
  console.error('usage: pty-pair-holder STATION BOARD');
  process.exit(2);
}
const pair = await PtyPair.create(stationPath, boardPath);
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
const lines = createInterface({ input: process.stdin });
lines.on('line', () => process.stdout.write(JSON.stringify({ alive: pair.alive }) + '\n'));
lines.on('close', () => void pair.close());
