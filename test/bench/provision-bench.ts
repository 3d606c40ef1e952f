/**
 * Provision a sandbox batch of virtual boards through the real CLI: throughput, per-unit timings, peak memory and
 * the audit database's size. Run by `npm run bench` (run.ts).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStationTimed } from './run-station';

interface Summary {
  passed: number;
  failed: number;
  units: Array<{ durationMs: number }>;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function run(boards: number, dataDir: string) {
  const run = await runStationTimed([
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
  ]);
  if (run.code !== 0)
    throw new Error(`provision exited ${run.code}: ${run.stderr.split('\n').slice(-5).join('\n')}`);
  return { wallMs: run.wallMs, summary: JSON.parse(run.stdout) as Summary, maxRssKb: run.maxRssKb };
}

export async function provisionBench(options: { boards: number; runs: number }) {
  const { boards, runs } = options;
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
        unitMs: {
          p50: percentile(durations, 50),
          p95: percentile(durations, 95),
          max: durations.at(-1) ?? 0,
        },
        maxRssKb,
        auditDbBytes: statSync(join(dir, 'station.sqlite')).size,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { benchmark: 'provision-sandbox', results };
}
