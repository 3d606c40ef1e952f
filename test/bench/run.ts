/**
 * `npm run bench`: the station's speed and memory, measured, printed as one JSON object. Not part of `npm test`:
 * timings are measured here, never asserted in tests.
 *
 *   npm run bench -- --boards 8 --runs 2 --trail-units 3000 --checkpoint-every 100
 *   npm run bench -- --only review --review-units 1000000     # QA query p95 (the 1M-unit trail is cached)
 *   npm run bench -- --only report --report-units 10000       # time per report format
 *   npm run bench -- --only generate --review-units 1000000   # the trail generator itself
 *   npm run bench -- --only responsiveness --slots 16,32      # serve's event loop, stream bytes, screen, RSS
 *   npm run bench -- --only responsiveness --slots 32 --renderer-at none --cpu-prof --temp-root /dev/shm
 *   npm run bench -- --only central --central-stations 20 --central-units 50000 --central-concurrency 4
 */
import { auditBench } from './audit-bench';
import { centralBench, DEFAULT_CENTRAL_OPTIONS } from './central-bench';
import { DEFAULT_FLOOR_OPTIONS, unitsPerHourBench } from './floor/units-per-hour-bench';
import { generateTrailBench } from './generate-trail-bench';
import { provisionBench } from './provision-bench';
import { reportBench } from './report-bench';
import { responsivenessBench } from './responsiveness-bench';
import { reviewBench } from './review-bench';
import { summaryTable } from './summary-table';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

/** `--NAME 16,32` (or `none`): slot counts. */
function listArg(name: string, fallback: number[]): number[] {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  if (process.argv[at + 1] === 'none') return [];
  const values = (process.argv[at + 1] ?? '').split(',').map(Number);
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1 || v > 32))
    throw new Error(`--${name} takes slot counts from 1 to 32, comma-separated`);
  return values;
}

function textArg(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** Repeatable `--NAME "ARGS"`: extra arguments passed through to a command, split at spaces. */
function passThrough(name: string): string[] {
  const args: string[] = [];
  process.argv.forEach((value, i) => {
    if (value === `--${name}`) args.push(...(process.argv[i + 1] ?? '').split(' ').filter(Boolean));
  });
  return args;
}

const SUITES = [
  'floor',
  'responsiveness',
  'provision',
  'audit',
  'review',
  'report',
  'central',
  'generate',
] as const;
type Suite = (typeof SUITES)[number];
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
if (only !== undefined && !(SUITES as readonly string[]).includes(only)) {
  throw new Error(`--only takes one of ${SUITES.join(', ')}`);
}
/**
 * By default everything but the generator's own bench (the review bench reports generation when it is not cached),
 * `provision`, the older in-process sandbox batch that `floor` measures honestly, and `central` (20 stations x
 * 50,000 units into PostgreSQL: minutes of its own): run those with --only.
 */
const runs = (suite: Suite) =>
  only === undefined ? !['generate', 'provision', 'central'].includes(suite) : only === suite;

const benchmarks: object[] = [];
if (runs('floor')) {
  const gangAt = process.argv.indexOf('--gang');
  const gang = gangAt >= 0 ? process.argv[gangAt + 1]!.split(',').map(Number) : DEFAULT_FLOOR_OPTIONS.gang;
  benchmarks.push(
    await unitsPerHourBench({
      ...DEFAULT_FLOOR_OPTIONS,
      gang,
      runs: arg('floor-runs', DEFAULT_FLOOR_OPTIONS.runs),
      latencyMs: arg('latency-ms', DEFAULT_FLOOR_OPTIONS.latencyMs),
      baud: arg('baud', DEFAULT_FLOOR_OPTIONS.baud),
    }),
  );
}
if (runs('provision'))
  benchmarks.push(await provisionBench({ boards: arg('boards', 8), runs: arg('runs', 1) }));
if (runs('audit')) {
  benchmarks.push(
    await auditBench({ units: arg('trail-units', 3000), checkpointEvery: arg('checkpoint-every', 100) }),
  );
}
if (runs('review')) benchmarks.push(await reviewBench({ units: arg('review-units', 1_000_000) }));
if (runs('report')) benchmarks.push(await reportBench({ units: arg('report-units', 10_000) }));
if (runs('central')) {
  benchmarks.push(
    await centralBench({
      stations: arg('central-stations', DEFAULT_CENTRAL_OPTIONS.stations),
      unitsPerStation: arg('central-units', DEFAULT_CENTRAL_OPTIONS.unitsPerStation),
      concurrency: arg('central-concurrency', DEFAULT_CENTRAL_OPTIONS.concurrency),
      batchSize: arg('central-batch', DEFAULT_CENTRAL_OPTIONS.batchSize),
    }),
  );
}
if (runs('generate')) benchmarks.push(await generateTrailBench({ units: arg('review-units', 1_000_000) }));
if (runs('responsiveness')) {
  benchmarks.push(
    await responsivenessBench({
      slots: listArg('slots', [16, 32]),
      runs: arg('runs', 1),
      rendererAt: listArg('renderer-at', [32]),
      sandboxArgs: passThrough('sandbox-args'),
      simArgs: passThrough('sim-args'),
      cpuProfile: process.argv.includes('--cpu-prof'),
      ...(textArg('temp-root') !== undefined && { tempRoot: textArg('temp-root') }),
    }),
  );
}
process.stdout.write(JSON.stringify({ node: process.version, benchmarks }, null, 2) + '\n');
// The short table for a person, on stderr so stdout stays one JSON document.
process.stderr.write(`\n${summaryTable(benchmarks)}\n`);
