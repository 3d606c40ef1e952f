/**
 * Faults end to end: each one armed in the real CLI (`--sim-fault`, `--sandbox-fault`, a board's flash file, a
 * config, or the test-only audit size cap) must end in a clear outcome (an error code and an operator message in the
 * summary and the unit record), a complete record (every step that started finished; the unit closed), an intact
 * chain, and never a second device for a chip. Where the fault wears off, a second run finishes the board.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_WRITE_FAILED_MESSAGE } from '../../../electron/audit';
import { x25519KeyPairFromPrivate } from '../../../firmware-protocol';
import {
  createBlankBoardImage,
  DEVELOPMENT_CLOUD_PUBLIC_KEY,
} from '../../../firmware-protocol/virtual-board';
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
  writeBoardImage,
  type ProvisionRun,
} from './e2e-support';

const newDir = useDataDirs();
const LOOKUP = 'route=/device/soc/{soc}/mcuId/{mcuId}';
const SANDBOX_CONFIG = join(import.meta.dirname, '../../../station-config/examples/sandbox.json');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON document the tests edit freely
type ConfigJson = Record<string, any>;

/** The sandbox example config, changed by `edit`, written into `dir`. */
function configFile(dir: string, edit: (config: ConfigJson) => void): string {
  const config = JSON.parse(readFileSync(SANDBOX_CONFIG, 'utf8')) as ConfigJson;
  delete config.$schema;
  edit(config);
  const file = join(dir, 'station.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** One board's run failed with `code` at `step`: summary, unit record and chain all say so. */
async function expectFailure(dir: string, run: ProvisionRun, step: string, code: RegExp) {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toMatch(/station: 1 of 1 units failed/);
  const unit = run.summary!.units[0]!;
  expect(unit).toMatchObject({ outcome: 'failed', failedStep: step });
  expect(unit.errorCode).toMatch(code);
  expect(unit.message!.length).toBeGreaterThan(20);
  const record = latestUnitFor(dir, unit.mcuId!);
  expect(record).toMatchObject({ state: 'failed', last_step: step });
  expect(record.error_code).toMatch(code);
  const closing = expectCompleteRecord(dir, record.id);
  expect(closing.details.message).toBe(unit.message);
  await expectChainIntact(dir);
  return record;
}

/** No chip ever has two devices; returns how many devices the sandbox holds. */
function expectOneDevicePerChip(dir: string): number {
  const devices = sandboxDevices(dir);
  expect(new Set(devices.map((d) => `${d.soc}/${d.mcu_id}`)).size).toBe(devices.length);
  return devices.length;
}

async function expectSecondRunFinishes(dir: string) {
  const again = await provision(dir);
  expect(again.code, again.stderr).toBe(0);
  for (const board of boardImages(dir)) expectProvisioned(dir, board);
  expect(expectOneDevicePerChip(dir)).toBe(1);
  await expectChainIntact(dir);
}

describe('backend faults', () => {
  it('503 then OK: the idempotent lookup is retried and the unit passes', async () => {
    const dir = newDir('503');
    const run = await provision(dir, {
      args: ['--sandbox-fault', `status=503,method=GET,${LOOKUP},times=2`],
    });
    expect(run.code, run.stderr).toBe(0);
    expectProvisioned(dir, boardImages(dir)[0]!);
    await expectChainIntact(dir);
  });

  it('503 that persists past the retries: device-record fails with a clear message, nothing created', async () => {
    const dir = newDir('503x');
    const run = await provision(dir, { args: ['--sandbox-fault', `status=503,method=GET,${LOOKUP}`] });
    await expectFailure(dir, run, 'device-record', /^BACKEND_/);
    expect(sandboxDevices(dir)).toHaveLength(0);
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

  it('409 on create (another station created the device first): the lookup after it finds the record; one device', async () => {
    const dir = newDir('409');
    // A first run creates the device, then the board's flash fails: the cloud has a device, the board nothing.
    const first = await provision(dir, { args: ['--sim-fault', 'storage-fail@COMMIT'] });
    await expectFailure(dir, first, 'write-credentials', /STORAGE/);
    expect(sandboxDevices(dir)).toHaveLength(1);
    // A stale lookup (404) makes the station create; the sandbox answers a real 409 for the duplicate mcuId.
    const run = await provision(dir, {
      args: ['--sandbox-fault', `status=404,method=GET,${LOOKUP},times=1`],
    });
    expect(run.code, run.stderr).toBe(0);
    const unit = latestUnitFor(dir, boardImages(dir)[0]!.identity.mcuId);
    const events = auditEvents(dir, unit.id);
    expect(events.some((e) => e.kind === 'step.intent' && e.step === 'device-record')).toBe(true);
    const record = events.find((e) => e.kind === 'step.finished' && e.step === 'device-record')!;
    expect(record.details.measurements).toMatchObject({ created: false, raced: true });
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

describe('board faults', () => {
  it('unplug during WRITE: DISCONNECTED, the board holds nothing; a second run finishes it on the same device', async () => {
    const dir = newDir('unplug-write');
    const run = await provision(dir, { args: ['--sim-fault', 'unplug@WRITE'] });
    await expectFailure(dir, run, 'write-credentials', /DISCONNECTED/);
    expect(boardImages(dir)[0]!.credentials).toBeNull();
    expect(expectOneDevicePerChip(dir)).toBe(1);
    await expectSecondRunFinishes(dir);
  });

  it('unplug during COMMIT (after committing): DISCONNECTED, the board holds the recorded device; a second run finishes it', async () => {
    const dir = newDir('unplug-commit');
    const run = await provision(dir, { args: ['--sim-fault', 'unplug@COMMIT=after'] });
    const record = await expectFailure(dir, run, 'write-credentials', /DISCONNECTED/);
    const device = sandboxDevices(dir)[0]!;
    expect(boardImages(dir)[0]!.credentials?.deviceId).toBe(device.device_id);
    // The intent written before the write names the device id the board may now hold.
    const intent = auditEvents(dir, record.id).find(
      (e) => e.kind === 'step.intent' && e.step === 'write-credentials',
    );
    expect(intent?.details.deviceId).toBe(device.device_id);
    await expectSecondRunFinishes(dir);
  });

  it('a CRC error once is retransmitted and the unit passes', async () => {
    const dir = newDir('crc1');
    const run = await provision(dir, { args: ['--sim-fault', 'corrupt-crc@IDENTIFY x1'] });
    expect(run.code, run.stderr).toBe(0);
    expectProvisioned(dir, boardImages(dir)[0]!);
  });

  it('CRC errors that persist: GARBLED at identify, nothing created or written', async () => {
    const dir = newDir('crc');
    const run = await provision(dir, { args: ['--sim-fault', 'corrupt-crc@IDENTIFY'] });
    await expectFailure(dir, run, 'identify', /GARBLED/);
    expect(sandboxDevices(dir)).toHaveLength(0);
  });

  it('storage failure on the board: STORAGE at write-credentials, the board holds nothing; a second run finishes it', async () => {
    const dir = newDir('storage');
    const run = await provision(dir, { args: ['--sim-fault', 'storage-fail@COMMIT'] });
    await expectFailure(dir, run, 'write-credentials', /STORAGE/);
    expect(boardImages(dir)[0]!.credentials).toBeNull();
    await expectSecondRunFinishes(dir);
  });

  it('wrong soc: SOC_MISMATCH at recipe-checks, nothing created', async () => {
    const dir = newDir('soc');
    const config = configFile(dir, (c) => {
      const other = structuredClone(c.recipes[0]);
      other.id = 'other-soc';
      other.name = 'Other soc';
      other.soc = 'nRF5340';
      other.board = { name: 'sandbox-nrf5340' };
      c.recipes.push(other);
      c.slots.virtualBoards.soc = 'nRF5340';
    });
    const run = await provision(dir, { args: ['--config', config, '--recipe', 'sandbox-sensor'] });
    await expectFailure(dir, run, 'recipe-checks', /^SOC_MISMATCH$/);
    expect(sandboxDevices(dir)).toHaveLength(0);
  });

  it('firmware built with another cloud key: CLOUD_KEY_MISMATCH, nothing written to the board', async () => {
    const dir = newDir('cloudkey');
    const otherCloud = x25519KeyPairFromPrivate(randomBytes(32)).publicKey;
    expect(otherCloud.equals(DEVELOPMENT_CLOUD_PUBLIC_KEY)).toBe(false);
    writeBoardImage(dir, 0, createBlankBoardImage({ soc: 'nRF52840', cloudPublicKey: otherCloud }));
    const run = await provision(dir);
    await expectFailure(dir, run, 'cloud-key', /^CLOUD_KEY_MISMATCH$/);
    expect(boardImages(dir)[0]!.credentials).toBeNull();
    expect(expectOneDevicePerChip(dir)).toBeLessThanOrEqual(1);
  });

  it('board already holding another device id: BOARD_HOLDS_OTHER_DEVICE, board and cloud left as they were', async () => {
    const dir = newDir('otherid');
    const first = await provision(dir);
    expect(first.code, first.stderr).toBe(0);
    const image = boardImages(dir)[0]!;
    const otherId = randomBytes(8).toString('hex');
    image.credentials!.deviceId = otherId;
    writeBoardImage(dir, 0, image);
    const run = await provision(dir);
    await expectFailure(dir, run, 'device-record', /^BOARD_HOLDS_OTHER_DEVICE$/);
    expect(run.summary!.units[0]!.message).toContain(otherId);
    expect(boardImages(dir)[0]!.credentials?.deviceId).toBe(otherId);
    expect(expectOneDevicePerChip(dir)).toBe(1);
  });
});

describe('disk full for the audit database', () => {
  it('SQLITE_FULL mid-batch stops the CLI with the audit message, non-zero; the chain so far verifies; the next run settles the units', async () => {
    const dir = newDir('diskfull');
    const run = await provision(dir, {
      sim: 2,
      env: { STATION_TEST_HOOKS: '1', STATION_AUDIT_MAX_PAGE_COUNT: '21' },
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
