/**
 * The units-per-hour benchmark, tiny, inside `npm test` so it never rots: its processes start, a batch runs over
 * paced PTY boards against a latency sandbox, and every figure is there. No time is asserted (benchmarks measure,
 * tests do not).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FLOOR_OPTIONS, unitsPerHourBench } from '../../bench/floor/units-per-hour-bench';

describe('npm run bench -- --only floor, in miniature', () => {
  it('runs one slot and a gang of two, and reports the floor, the gang and durability with their targets', async () => {
    const result = await unitsPerHourBench({
      ...DEFAULT_FLOOR_OPTIONS,
      gang: [1, 2],
      runs: 1,
      durabilityAppends: 100,
      backendLimitRun: false,
    });
    expect(result.oneSlot.perUnit.criticalPathCalls).toBe(2);
    expect(result.oneSlot.perUnit.bytesToBoard).toBeGreaterThan(0);
    expect(result.oneSlot.perUnit.bytesToStation).toBeGreaterThan(result.oneSlot.perUnit.bytesToBoard);
    expect(result.oneSlot.perUnit.boardCommands.COMMIT).toBe(1);
    expect(result.oneSlot.floorMs.total).toBeGreaterThan(result.oneSlot.floorMs.wire);
    // A unit cannot beat the floor (what the wire, the backend and the board take), give or take the jitter.
    expect(result.oneSlot.unitMs.median).toBeGreaterThanOrEqual(0.9 * result.oneSlot.floorMs.total);
    expect(result.gang.map((row) => row.slots)).toEqual([1, 2]);
    expect(result.gang[1]!.unitsPerHour.median).toBeGreaterThan(0);
    expect(result.durability.commitsPerSecond).toBeGreaterThan(0);
    expect(Object.keys(result.targets)).toEqual([
      'oneSlotOverhead',
      'criticalPathCalls',
      'gang16Efficiency',
      'gang32Efficiency',
    ]);
    expect(result.targets.gang16Efficiency).toMatchObject({ met: null });
  }, 180_000);
});
