/**
 * The central-shipping benchmark, tiny, inside `npm test` so it never rots: trails made, a real PostgreSQL started,
 * every station shipped and verified there, QA's central queries run. No time is asserted.
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
    expect(result.centralQa.units).toBe(3 * 40);
    expect(Object.keys(result.centralQa.perShape)).toEqual(
      expect.arrayContaining(['all stations', 'station', 'line', 'site', 'unit detail', 'facets']),
    );
    expect(result.targets.centralQueryP95.value).toBeGreaterThan(0);
  }, 180_000);
});
