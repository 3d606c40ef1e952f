/**
 * SIGKILL at every step boundary from the key agreement to unit.finished, and at random moments
 * (crash-support.ts).
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BOUNDARIES, BOARDS, crashChain, expectRecovered, expectSafeAfterCrash } from './crash-support';
import { expectChainIntact, provision, useDataDirs } from './e2e-support';

const newDir = useDataDirs();
const FIRST_LATE = BOUNDARIES.indexOf('step.started:key-agreement');

/** Small seeded PRNG (mulberry32): random kill times that a failing run can replay. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('crash at every step boundary (second half) and at random points', () => {
  it(`${BOUNDARIES.length - FIRST_LATE} crashes from step.started:key-agreement to unit.finished, then a clean run: one device per chip, credentials match, chain verifies`, async () => {
    const dir = newDir('crash-late');
    await crashChain(dir, BOUNDARIES.slice(FIRST_LATE));
    await expectRecovered(dir);
  }, 150_000);

  it('SIGKILL from outside at random moments, then a clean run: same guarantees', async () => {
    const seed = Number(process.env.E2E_CRASH_SEED ?? Date.now() % 100_000);
    const random = seeded(seed);
    const dir = newDir('crash-random');
    const killed: number[] = [];
    for (let i = 0; i < 4; i++) {
      // The CLI needs ~0.6 s to start its boards and sandbox and ~1.5 s more to provision: kill somewhere in there.
      const at = Math.round(800 + random() * 2000);
      const run = await provision(dir, { sim: BOARDS, killAfterMs: at });
      if (run.signal === 'SIGKILL') killed.push(at);
      expectSafeAfterCrash(dir);
      // Killed before the audit file existed is a legal (early) crash too.
      if (existsSync(join(dir, 'station.sqlite'))) await expectChainIntact(dir);
    }
    expect(killed.length, `seed ${seed} (E2E_CRASH_SEED to replay)`).toBeGreaterThan(0);
    await expectRecovered(dir);
  }, 120_000);
});
