/**
 * `npm run bench`: the station's speed and memory, measured, printed as one JSON object. Not part of `npm test`:
 * timings are measured here, never asserted in tests.
 *
 *   npm run bench -- --boards 8 --runs 2 --trail-units 3000 --checkpoint-every 100
 *   npm run bench -- --only review --review-units 1000000     # QA query p95 (the 1M-unit trail is cached)
 *   npm run bench -- --only report --report-units 10000       # time per report format
 *   npm run bench -- --only generate --review-units 1000000   # the trail generator itself
 */
import { auditBench } from './audit-bench';
import { DEFAULT_FLOOR_OPTIONS, unitsPerHourBench } from './floor/units-per-hour-bench';
import { generateTrailBench } from './generate-trail-bench';
import { provisionBench } from './provision-bench';
import { reportBench } from './report-bench';
import { reviewBench } from './review-bench';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

const SUITES = ['floor', 'provision', 'audit', 'review', 'report', 'generate'] as const;
type Suite = (typeof SUITES)[number];
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
if (only !== undefined && !(SUITES as readonly string[]).includes(only)) {
  throw new Error(`--only takes one of ${SUITES.join(', ')}`);
}
/** Everything but the generator's own bench (the review bench already reports generation when it is not cached). */
const runs = (suite: Suite) => (only === undefined ? suite !== 'generate' : only === suite);

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
if (runs('generate')) benchmarks.push(await generateTrailBench({ units: arg('review-units', 1_000_000) }));
process.stdout.write(JSON.stringify({ node: process.version, benchmarks }, null, 2) + '\n');
