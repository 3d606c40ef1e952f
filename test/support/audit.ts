/** Shared helpers for audit tests: temp files, a pinned clock, a small trail, and raw SQL from outside the store. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AuditStore, type AuditStoreOptions } from '../../electron/audit/index';
import { MIGRATIONS } from '../../electron/audit/schema';
import { tempDir } from './temp-dirs';

export const STATION = 'line1-station2';
export const CONFIG_SHA = 'c'.repeat(64);

/** A path in a fresh temp folder (removed after the test file, see temp-dirs.ts); the file itself is not made. */
export function tempDbFile(name = 'audit.db'): string {
  return join(tempDir('station-audit-'), name);
}

/** A clock that ticks 250 ms per call from a fixed start, so timestamps and durations are predictable. */
export function steppingClock(start = Date.parse('2026-11-25T19:00:00.000Z'), stepMs = 250): () => Date {
  let t = start - stepMs;
  return () => new Date((t += stepMs));
}

export function openStore(file: string, options: Partial<AuditStoreOptions> = {}): AuditStore {
  return AuditStore.open(file, { stationId: STATION, now: steppingClock(), ...options });
}

/** Opens a batch and runs `units` units through a short passing workflow: 2 + 6 * units events. */
export function recordBatch(store: AuditStore, units: number, batchId = 'batch-1'): void {
  store.append({ kind: 'operator.login', operator: 'ann', details: { role: 'operator' } });
  store.append({
    kind: 'batch.opened',
    batchId,
    operator: 'ann',
    details: { name: 'Week 48 sensors', recipeId: 'sensor-v2', configSha256: CONFIG_SHA },
  });
  for (let i = 0; i < units; i++) {
    const unitId = `${batchId}-unit-${i}`;
    store.append({ kind: 'unit.started', batchId, unitId, slot: i % 4, operator: 'ann', details: {} });
    store.append({
      kind: 'unit.identified',
      unitId,
      details: { soc: 'nrf9151', mcuId: `mcu-${batchId}-${i}` },
    });
    store.append({ kind: 'step.started', unitId, step: 'write-credentials', details: {} });
    store.append({
      kind: 'step.intent',
      unitId,
      step: 'write-credentials',
      details: { action: 'write network key', networkKeyId: 'net-1', derivedKeyFp: 'ab12cd34ef56ab78' },
    });
    store.append({
      kind: 'step.finished',
      unitId,
      step: 'write-credentials',
      outcome: 'passed',
      details: { durationMs: 120 },
    });
    store.append({ kind: 'unit.finished', unitId, outcome: 'passed', details: { deviceId: `dev-${i}` } });
  }
}

/** Runs SQL through the real `sqlite3` shell, as someone with the file and no station software would. */
export function sqlite3(
  file: string,
  sql: string,
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('sqlite3', [file], { input: sql, encoding: 'utf8' });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const DROP_TRIGGERS = 'DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;';
/** The append-only triggers exactly as the schema makes them: an attacker who dropped them puts them back. */
export const RESTORE_TRIGGERS = [...MIGRATIONS[0]!.matchAll(/CREATE TRIGGER \w+[\s\S]*?END;/g)]
  .map((m) => m[0])
  .join('\n');
