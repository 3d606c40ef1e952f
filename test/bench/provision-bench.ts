/**
 * `npm run bench`: provision a sandbox batch of virtual boards through the real CLI and print one JSON object with
 * throughput and per-unit timings. Not part of `npm test`: timings are measured here, never asserted in tests.
 *
 *   npm run bench -- --boards 8 --runs 2
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STATION = fileURLToPath(new URL('../../electron/cli/station.mjs', import.meta.url));

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

interface Summary {
  passed: number;
  failed: number;
  units: Array<{ durationMs: number }>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function run(boards: number, dataDir: string) {
  const started = process.hrtime.bigint();
  // GNU time reports the CLI's peak memory; without it the benchmark still measures time.
  const timed = existsSync('/usr/bin/time');
  const command = [
    process.execPath,
    STATION,
    'provision',
    '--sim',
    String(boards),
    '--batch',
    'bench',
    '--operator',
    'bench',
    '--json',
    '--data',
    dataDir,
  ];
  const child = timed
    ? spawn('/usr/bin/time', ['-f', '%M', ...command], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`provision exited ${code}: ${stderr.split('\n').slice(-5).join('\n')}`);
  const summary = JSON.parse(stdout) as Summary;
  const maxRssKb = timed ? Number(stderr.trim().split('\n').at(-1)) : null;
  return { wallMs, summary, maxRssKb };
}

const boards = arg('boards', 8);
const runs = arg('runs', 1);
const results = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'station-bench-'));
  try {
    const { wallMs, summary, maxRssKb } = await run(boards, dir);
    const durations = summary.units.map((u) => u.durationMs).sort((a, b) => a - b);
    results.push({
      boards,
      passed: summary.passed,
      failed: summary.failed,
      wallMs: Math.round(wallMs),
      unitsPerHour: Math.round((summary.passed / wallMs) * 3_600_000),
      unitMs: { p50: percentile(durations, 50), p95: percentile(durations, 95), max: durations.at(-1) ?? 0 },
      maxRssKb,
      auditDbBytes: statSync(join(dir, 'station.sqlite')).size,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(
  JSON.stringify({ benchmark: 'provision-sandbox', node: process.version, results }, null, 2) + '\n',
);
