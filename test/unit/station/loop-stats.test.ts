import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopStatsFileFromEnv, startLoopStats, type LoopStatsFile } from '../../../electron/station';
import { tempDir } from '../../support/temp-dirs';

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as LoopStatsFile;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the loop-stats test hook', () => {
  it('is ignored unless STATION_TEST_HOOKS=1', () => {
    expect(loopStatsFileFromEnv({ STATION_LOOP_STATS_FILE: '/tmp/x.json' })).toBeUndefined();
    expect(loopStatsFileFromEnv({ STATION_TEST_HOOKS: '1' })).toBeUndefined();
    expect(loopStatsFileFromEnv({ STATION_TEST_HOOKS: '1', STATION_LOOP_STATS_FILE: '/tmp/x.json' })).toBe(
      '/tmp/x.json',
    );
  });

  it('frames windows at each mark, sees a blocked loop, and writes a final file when stopped', async () => {
    const file = join(tempDir('station-loop-stats-'), 'stats.json');
    const sampler = startLoopStats(file);
    try {
      expect(read(file).windows).toEqual([]);
      await sleep(100);
      sampler.mark();
      // A window in which the loop is held for 120 ms.
      await sleep(50);
      const until = Date.now() + 120;
      while (Date.now() < until) {
        // Busy: no timer can run.
      }
      await sleep(50);
      sampler.mark();
      const marked = read(file);
      expect(marked.windows).toHaveLength(2);
      const blocked = marked.windows[1]!;
      expect(blocked.eventLoopDelayMs.samples).toBeGreaterThan(0);
      expect(blocked.eventLoopDelayMs.max).toBeGreaterThanOrEqual(90);
      expect(blocked.eventLoopDelayMs.p50).toBeLessThanOrEqual(blocked.eventLoopDelayMs.max);
      expect(blocked.peakRssMb).toBeGreaterThan(0);
      expect(blocked.maxRssMb).toBeGreaterThanOrEqual(blocked.peakRssMb);
      expect(Date.parse(blocked.to)).toBeGreaterThanOrEqual(Date.parse(blocked.from));
      expect(marked.final).toBe(false);
    } finally {
      sampler.stop();
    }
    const last = read(file);
    expect(last.final).toBe(true);
    expect(last.pid).toBe(process.pid);
    expect(last.resolutionMs).toBe(10);
  });
});
