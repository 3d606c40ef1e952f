/**
 * `npm run bench`: the station's speed and memory, measured, printed as one JSON object. Not part of `npm test`:
 * timings are measured here, never asserted in tests.
 *
 *   npm run bench -- --boards 8 --runs 2 --trail-units 3000 --checkpoint-every 100
 *   npm run bench -- --only audit
 */
import { auditBench } from './audit-bench';
import { provisionBench } from './provision-bench';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
if (only !== undefined && only !== 'provision' && only !== 'audit') {
  throw new Error('--only takes provision or audit');
}

const benchmarks = [];
if (only !== 'audit')
  benchmarks.push(await provisionBench({ boards: arg('boards', 8), runs: arg('runs', 1) }));
if (only !== 'provision') {
  benchmarks.push(
    await auditBench({ units: arg('trail-units', 3000), checkpointEvery: arg('checkpoint-every', 100) }),
  );
}
process.stdout.write(JSON.stringify({ node: process.version, benchmarks }, null, 2) + '\n');
