/**
 * The central-shipping benchmark, tiny, inside `npm test` so it never rots: trails made, a real PostgreSQL started,
 * every station shipped and verified there. No time is asserted.
 */
import { describe, expect, it } from 'vitest';
import { centralBench } from '../../bench/central-bench';

describe('npm run bench -- --only central, in miniature', () => {
  it('ships three stations side by side and verifies every chain centrally', async () => {
    const result = await centralBench({ stations: 3, unitsPerStation: 40, concurrency: 2, batchSize: 50 });
    expect(result.shipped.events).toBeGreaterThan(3 * 40 * 2);
    expect(result.shipped.eventsPerSecond).toBeGreaterThan(0);
    expect(result.centralVerify).toMatchObject({ stations: 3, ok: true });
    expect(result.inputs.keys).toBe('one per station');
    expect(result.targets.centralQueryP95).toMatchObject({ value: null, met: null });
  }, 180_000);
});
