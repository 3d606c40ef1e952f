/**
 * The responsiveness benchmark, small, so it never rots: two slots, the operator screen open, every process started
 * and stopped. No timing is asserted (the bench measures, tests do not); the shape of what it reports is.
 */
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { responsivenessBench } from '../../bench/responsiveness-bench';
import { tempDir } from '../../support/temp-dirs';

const isFigure = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const leftovers = () => readdirSync(tmpdir()).filter((name) => name.startsWith('station-responsiveness-'));

describe('the responsiveness benchmark', () => {
  it(
    'measures a 2-slot batch with the operator screen open and cleans up after itself',
    { timeout: 90_000 },
    async () => {
      const before = new Set(leftovers());
      const outDir = tempDir('station-resp-smoke-');
      const report = await responsivenessBench({
        slots: [2],
        rendererAt: [2],
        buildRenderer: false,
        outDir,
        log: () => undefined,
      });

      expect(report.benchmark).toBe('responsiveness');
      expect(report.results).toHaveLength(1);
      const result = report.results[0]!;
      expect(result).toMatchObject({ slots: 2, runs: 1, units: 2, passed: 2 });
      for (const figure of [
        result.wallMs,
        result.eventLoopDelayMs.p50,
        result.eventLoopDelayMs.p99,
        result.eventLoopDelayMs.max,
        result.eventStreamBytesPerUnit,
        result.hostPeakRssMb,
        result.renderer?.longTasks,
        result.renderer?.maxLongTaskMs,
        result.renderer?.totalLongTaskMs,
      ])
        expect(isFigure(figure), String(figure)).toBe(true);
      expect(result.eventStreamBytesPerUnit).toBeGreaterThan(0);
      expect(result.hostPeakRssMb).toBeGreaterThan(0);
      expect(result.min.wallMs).toBeLessThanOrEqual(result.max.wallMs);
      expect(result.inputs).toMatchObject({ slots: 2, units: 2 });

      const run = result.perRun[0]!;
      expect(run.eventLoop.samples).toBeGreaterThan(0);
      expect(run.renderer?.passedTiles).toBe(2);
      expect(run.renderer?.pageProblems).toEqual([]);
      const screenshot = run.renderer?.screenshot;
      expect(screenshot && existsSync(screenshot.file)).toBe(true);

      // Nothing at 32 slots was measured, and the targets say so rather than claim a result.
      expect(report.targets.eventLoopP99.status).toBe('not measured');
      expect(report.targets.hostRss.status).toBe('not measured');
      expect(['met', 'missed']).toContain(report.targets.rendererLongTasks.status);
      // Every temp folder it made is gone.
      expect(leftovers().filter((name) => !before.has(name))).toEqual([]);
    },
  );
});
