/** SIGKILL at every step boundary from unit start through the device record and the cloud key (crash-support.ts). */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BOUNDARIES, crashChain, expectRecovered } from './crash-support';
import { provision, useDataDirs } from './e2e-support';

const newDir = useDataDirs();
const LAST_EARLY = BOUNDARIES.indexOf('step.finished:cloud-key');

describe('crash at every step boundary (first half)', () => {
  it(`${LAST_EARLY + 1} crashes from unit.started to step.finished:cloud-key, then a clean run: one device per chip, credentials match, chain verifies`, async () => {
    const dir = newDir('crash-early');
    await crashChain(dir, BOUNDARIES.slice(0, LAST_EARLY + 1));
    await expectRecovered(dir);
  }, 150_000);

  // The next run settles the crashed run's units and closes its batch, so open-batch views never fill with dead runs.
  it('the batch a crashed run opened is closed when the next run reconciles', async () => {
    const dir = newDir('crash-batch');
    const crashed = await provision(dir, {
      env: { STATION_TEST_HOOKS: '1', STATION_TEST_CRASH_AFTER: 'step.started:verify' },
    });
    expect(crashed.signal).toBe('SIGKILL');
    const again = await provision(dir);
    expect(again.code, again.stderr).toBe(0);
    const db = new Database(join(dir, 'station.sqlite'), { readonly: true });
    const open = db.prepare("SELECT name FROM batches WHERE state = 'open'").all();
    db.close();
    expect(open).toEqual([]);
  });
});
