/**
 * `batchStats` on a trail the real store wrote: counts by state (corrections applied), the station's first-pass
 * rule, a Pareto of failed attempts that sums to 100 %, per-slot / per-operator / per-shift groups that add up to
 * the batch, and step times in workflow order.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batchStats,
  loadBatchReportData,
  type BatchReportData,
  type BatchStats,
} from '../../../electron/reports/index';
import { tempDir } from '../../support/temp-dirs';
import { buildReportTrail, STEPS, unitPlan } from '../../integration/reports/report-fixture';

const UNITS = 120;
let data: BatchReportData;
let stats: BatchStats;

beforeAll(() => {
  const trail = buildReportTrail(join(tempDir('station-report-stats-'), 'audit.sqlite'), {
    units: UNITS,
    qaEvents: true,
  });
  data = loadBatchReportData(trail.file, trail.batchName);
  stats = batchStats(data);
});

describe('batchStats', () => {
  it('counts units by state, with the correction applied', () => {
    const plans = Array.from({ length: UNITS }, (_, i) => unitPlan(i));
    const failedFirst = plans.filter((p) => p.failure !== null);
    const retried = plans.filter((p) => p.retried).length;
    const cancelled = plans.filter((p) => p.cancelled).length;
    // One VERIFY_MISMATCH failure is corrected to passed.
    const failed = failedFirst.length - retried - 1;
    expect(stats.counts).toEqual({
      units: UNITS,
      passed: UNITS - failed - cancelled,
      failed,
      cancelled,
      inProgress: 0,
      attention: 0,
      voided: 0,
    });
    expect(stats.failedAttempts).toBe(failedFirst.length);
    // First pass: passed on attempt 1 (the corrected unit counts, as the station banner counts it).
    expect(stats.firstPass).toBe(stats.counts.passed - retried);
    expect(stats.firstPassYield).toBeCloseTo(
      stats.firstPass / (stats.counts.passed + stats.counts.failed),
      12,
    );
    expect(stats.yield).toBeCloseTo(stats.counts.passed / (stats.counts.passed + stats.counts.failed), 12);
  });

  it('orders failure causes most frequent first, with a cumulative share ending at 100 %', () => {
    expect(stats.failuresByCause.map((c) => c.code)).toEqual([
      'BACKEND_TIMEOUT',
      'VERIFY_MISMATCH',
      'BOARD_NOT_RESPONDING',
    ]);
    expect(stats.failuresByCause.reduce((n, c) => n + c.count, 0)).toBe(stats.failedAttempts);
    expect(stats.failuresByCause.at(-1)!.cumulativeShare).toBeCloseTo(1, 12);
    expect(stats.failuresByCause[0]).toMatchObject({
      step: 'device-record',
      description: expect.stringMatching(/backend/),
    });
  });

  it('has groups that add up to the batch', () => {
    const sum = (groups: Array<{ units: number }>) => groups.reduce((n, g) => n + g.units, 0);
    expect(stats.perSlot.map((s) => s.slotName)).toEqual(['slot-1', 'slot-2', 'slot-3', 'slot-4']);
    expect(sum(stats.perSlot)).toBe(UNITS);
    expect(stats.perOperator.map((o) => o.operator)).toEqual(['ann', 'bob', 'carla']);
    expect(sum(stats.perOperator)).toBe(UNITS);
    expect(sum(stats.shifts)).toBe(UNITS);
    expect(stats.shifts.map((s) => `${s.date} ${s.shift}`)).toEqual(['2026-11-25 06:00-14:00']);
    expect(stats.throughput.reduce((n, b) => n + b.passed + b.failed + b.cancelled, 0)).toBe(UNITS);
  });

  it('times steps in workflow order and units over those that passed or failed', () => {
    expect(stats.steps.map((s) => s.step)).toEqual([...STEPS]);
    const write = stats.steps.find((s) => s.step === 'write-credentials')!;
    expect(write.time!.medianMs).toBeGreaterThan(11_000);
    expect(write.time!.p95Ms).toBeGreaterThanOrEqual(write.time!.medianMs);
    expect(stats.unitTime!.count).toBe(stats.counts.passed + stats.counts.failed);
    expect(stats.unitsPerHour).toBeGreaterThan(100);
  });

  it('follows custom shifts, and the groups still add up', () => {
    expect(stats.shiftStarts).toEqual(['06:00', '14:00', '22:00']);
    const custom = batchStats(data, { shifts: '12:00,12:15' });
    expect(custom.shifts.map((s) => s.shift)).toEqual(['12:00-12:15', '12:15-12:00']);
    expect(custom.shifts.reduce((n, s) => n + s.units, 0)).toBe(UNITS);
    expect(custom.shifts.every((s) => s.unitsPerHour !== null && s.unitsPerHour > 0)).toBe(true);
  });
});
