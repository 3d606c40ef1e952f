/** Backend faults and a full audit disk, end to end (see fault-support.ts for what every fault test checks). */
import { describe, expect, it } from 'vitest';
import { AUDIT_WRITE_FAILED_MESSAGE } from '../../../electron/audit';
import {
  auditEvents,
  auditUnits,
  boardImages,
  expectChainIntact,
  expectCompleteRecord,
  expectProvisioned,
  latestUnitFor,
  provision,
  sandboxDevices,
  useDataDirs,
} from './e2e-support';
import {
  configFile,
  expectFailure,
  expectOneDevicePerChip,
  expectSecondRunFinishes,
  LOOKUP,
} from './fault-support';

const newDir = useDataDirs();

describe('backend faults', () => {
  /** A board whose first run created its device and then failed at the board: the cloud has it, the board nothing. */
  async function deviceWithoutBoard(dir: string) {
    const first = await provision(dir, { args: ['--sim-fault', 'storage-fail@COMMIT'] });
    await expectFailure(dir, first, 'write-credentials', /STORAGE/);
    expect(sandboxDevices(dir)).toHaveLength(1);
  }

  it('503 then OK on the lookup after a 409: the idempotent lookup is retried and the unit passes', async () => {
    const dir = newDir('503');
    await deviceWithoutBoard(dir);
    const run = await provision(dir, {
      args: ['--sandbox-fault', `status=503,method=GET,${LOOKUP},times=2`],
    });
    expect(run.code, run.stderr).toBe(0);
    expectProvisioned(dir, boardImages(dir)[0]!);
    expect(expectOneDevicePerChip(dir)).toBe(1);
    await expectChainIntact(dir);
  });

  it('503 on the lookup that persists past the retries: device-record fails with a clear message, no second device', async () => {
    const dir = newDir('503x');
    await deviceWithoutBoard(dir);
    const run = await provision(dir, { args: ['--sandbox-fault', `status=503,method=GET,${LOOKUP}`] });
    await expectFailure(dir, run, 'device-record', /^BACKEND_/);
    expect(sandboxDevices(dir)).toHaveLength(1);
  });

  it('503 on create is not retried (POST /device is not idempotent): device-record fails, nothing created; a second run finishes it', async () => {
    const dir = newDir('503post');
    const run = await provision(dir, {
      args: ['--sandbox-fault', 'status=503,method=POST,route=/device,times=1'],
    });
    await expectFailure(dir, run, 'device-record', /^BACKEND_UNAVAILABLE$/);
    expect(run.summary!.units[0]!.message).toContain('1 attempt');
    expect(sandboxDevices(dir)).toHaveLength(0);
    await expectSecondRunFinishes(dir);
  });

  it('backend timeout (a call that never answers): key-agreement fails on the timeout; a second run re-uses the device', async () => {
    const dir = newDir('timeout');
    const config = configFile(dir, (c) => {
      c.backend.timeoutMs = 1000;
      c.backend.retries = 0;
    });
    const run = await provision(dir, {
      args: ['--config', config, '--sandbox-fault', 'hang,method=POST,route=/key/derived/device'],
    });
    await expectFailure(dir, run, 'key-agreement', /TIMEOUT/);
    expect(boardImages(dir)[0]!.credentials).toBeNull();
    expect(expectOneDevicePerChip(dir)).toBe(1);
    await expectSecondRunFinishes(dir);
  });

  it('409 on create (the chip has a device already: a re-run, another station): the lookup after it finds the record; one device', async () => {
    const dir = newDir('409');
    await deviceWithoutBoard(dir);
    // POST /device first (one round trip for a new board); the sandbox answers a real 409 for the duplicate mcuId.
    const run = await provision(dir);
    expect(run.code, run.stderr).toBe(0);
    const unit = latestUnitFor(dir, boardImages(dir)[0]!.identity.mcuId);
    const events = auditEvents(dir, unit.id);
    expect(events.some((e) => e.kind === 'step.intent' && e.step === 'device-record')).toBe(true);
    const record = events.find((e) => e.kind === 'step.finished' && e.step === 'device-record')!;
    expect(record.details.measurements).toMatchObject({ created: false });
    const calls = (record.details.backend as { method: string; status?: number }[]).map(
      (call) => `${call.method} ${call.status}`,
    );
    expect(calls).toEqual(['POST 409', 'GET 200']);
    expectProvisioned(dir, boardImages(dir)[0]!);
    expect(expectOneDevicePerChip(dir)).toBe(1);
  });

  it('409 on create with no record to find: the unit fails cleanly and nothing is created', async () => {
    const dir = newDir('409x');
    const run = await provision(dir, {
      args: ['--sandbox-fault', 'status=409,method=POST,route=/device,times=1'],
    });
    await expectFailure(dir, run, 'device-record', /CONFLICT/);
    expect(sandboxDevices(dir)).toHaveLength(0);
    await expectSecondRunFinishes(dir);
  });
});

describe('disk full for the audit database', () => {
  it('SQLITE_FULL mid-batch stops the CLI with the audit message, non-zero; the chain so far verifies; the next run settles the units', async () => {
    const dir = newDir('diskfull');
    const run = await provision(dir, {
      sim: 2,
      env: { STATION_TEST_HOOKS: '1', STATION_AUDIT_MAX_PAGE_COUNT: '35' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`station: ${AUDIT_WRITE_FAILED_MESSAGE}`);
    // Mid-batch: units had started when the file filled.
    const started = auditUnits(dir);
    expect(started.length).toBeGreaterThan(0);
    expect(started.some((u) => u.state === 'in-progress')).toBe(true);
    await expectChainIntact(dir);
    // With room again, the next run closes the interrupted units first and then provisions both boards.
    const again = await provision(dir, { sim: 2 });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/reconciled unit .*: interrupted/);
    for (const unit of started) expectCompleteRecord(dir, unit.id);
    for (const board of boardImages(dir)) expectProvisioned(dir, board);
    expect(expectOneDevicePerChip(dir)).toBe(2);
    await expectChainIntact(dir, { cli: true });
  });
});
