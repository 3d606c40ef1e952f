/** SIGKILL at every step boundary from unit start through the device record and the cloud key (crash-support.ts). */
import { describe, it } from 'vitest';
import { BOUNDARIES, crashChain, expectRecovered } from './crash-support';
import { useDataDirs } from './e2e-support';

const newDir = useDataDirs();
const LAST_EARLY = BOUNDARIES.indexOf('step.finished:cloud-key');

describe('crash at every step boundary (first half)', () => {
  it(`${LAST_EARLY + 1} crashes from unit.started to step.finished:cloud-key, then a clean run: one device per chip, credentials match, chain verifies`, async () => {
    const dir = newDir('crash-early');
    await crashChain(dir, BOUNDARIES.slice(0, LAST_EARLY + 1));
    await expectRecovered(dir);
  }, 150_000);
});
