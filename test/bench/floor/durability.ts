/**
 * What durability costs: the audit trail commits every event on its own (WAL + synchronous=FULL: when append
 * returns, the event is on disk). Measured on the disk the station's data would live on (the OS temp folder, not
 * /dev/shm), with events shaped like a unit's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '../../../electron/audit/index';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export function measureCommits(appends: number): {
  appends: number;
  commitsPerSecond: number;
  appendMs: { p50: number; p99: number; max: number };
  folder: string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'station-durability-'));
  try {
    const store = AuditStore.open(join(dir, 'station.sqlite'), { stationId: 'bench', checkpointEvery: 100 });
    const times: number[] = [];
    const started = performance.now();
    try {
      const batchId = 'durability-batch';
      store.append({
        kind: 'batch.opened',
        batchId,
        operator: 'bench',
        details: { name: 'durability', recipeId: 'sandbox-sensor', configSha256: 'b'.repeat(64) },
      });
      for (let i = 0; i < appends; i++) {
        const unitId = `durability-unit-${Math.floor(i / 30)}`;
        const at = performance.now();
        if (i % 30 === 0) {
          store.append({
            kind: 'unit.started',
            unitId,
            batchId,
            slot: 1,
            operator: 'bench',
            details: { port: '/dev/ttyACM0', slotName: 'slot-1', scan: {}, attempt: 1 },
          });
        } else {
          store.append({
            kind: 'step.finished',
            unitId,
            step: 'write-credentials',
            outcome: 'passed',
            operator: 'bench',
            details: {
              durationMs: 40,
              measurements: { deviceId: 'd291d4d66bf0a955', networkKeyFp: 'ca2a4fe727faaecf', changed: true },
            },
          });
        }
        times.push(performance.now() - at);
      }
    } finally {
      store.close();
    }
    const wallMs = performance.now() - started;
    times.sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 100) / 100;
    return {
      appends,
      commitsPerSecond: Math.round((appends / wallMs) * 1000),
      appendMs: {
        p50: round(percentile(times, 50)),
        p99: round(percentile(times, 99)),
        max: round(times.at(-1)!),
      },
      folder: tmpdir(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
