/**
 * SIGKILL at every step boundary from the key agreement to unit.finished, and at random moments
 * (crash-support.ts).
 */
import { describe, expect, it } from 'vitest';
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
      // A run of two boards prints ~50 progress lines: kill from outside right after a random one of them (the
      // signal lands wherever the station has got to by then: mid-step, mid-HTTP call, mid-write).
      const line = 1 + Math.floor(random() * 45);
      const run = await provision(dir, { sim: BOARDS, killAtStderrLine: line });
      expect(run.signal, `line ${line}: ${run.stderr}`).toBe('SIGKILL');
      killed.push(line);
      expectSafeAfterCrash(dir);
      await expectChainIntact(dir);
    }
    expect(killed, `seed ${seed} (E2E_CRASH_SEED to replay)`).toHaveLength(4);
    await expectRecovered(dir);
  }, 120_000);
});
