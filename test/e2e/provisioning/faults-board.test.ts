/** Board faults, end to end (see fault-support.ts for what every fault test checks). */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { x25519KeyPairFromPrivate } from '../../../firmware-protocol';
import {
  createBlankBoardImage,
  DEVELOPMENT_CLOUD_PUBLIC_KEY,
} from '../../../firmware-protocol/virtual-board';
import {
  auditEvents,
  boardImages,
  expectProvisioned,
  latestUnitFor,
  provision,
  sandboxDevices,
  useDataDirs,
  writeBoardImage,
} from './e2e-support';
import { configFile, expectFailure, expectOneDevicePerChip, expectSecondRunFinishes } from './fault-support';

const newDir = useDataDirs();

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

  it('unplug during COMMIT (before committing): DISCONNECTED, the board holds nothing; a second run finishes it', async () => {
    const dir = newDir('unplug-commit-before');
    const run = await provision(dir, { args: ['--sim-fault', 'unplug@COMMIT'] });
    await expectFailure(dir, run, 'write-credentials', /DISCONNECTED/);
    expect(boardImages(dir)[0]!.credentials).toBeNull();
    await expectSecondRunFinishes(dir);
  });

  it('a board that reads back "staged" after COMMIT (and after the reboot) fails the unit instead of passing it', async () => {
    const dir = newDir('readback-staged');
    const run = await provision(dir, { args: ['--sim-fault', 'wrong-state@READBACK=staged'] });
    const record = await expectFailure(dir, run, 'write-credentials', /READBACK_MISMATCH/);
    expect(run.summary!.units[0]!.message).toContain('says it is staged');
    expect(record.state).toBe('failed');
  });

  it("a COMMIT reply that does not say committed fails the unit (the reply's state and device id are checked)", async () => {
    const dir = newDir('commit-staged');
    const run = await provision(dir, { args: ['--sim-fault', 'wrong-state@COMMIT=staged'] });
    await expectFailure(dir, run, 'write-credentials', /COMMIT_MISMATCH/);
  });

  it('an event the station does not know, and a console line past the limit, are kept in the record, marked', async () => {
    const dir = newDir('stray-event');
    const run = await provision(dir, {
      args: ['--sim-fault', 'stray-event@IDENTIFY=battery-low', '--sim-fault', 'long-log@HELLO=700'],
    });
    expect(run.code, run.stderr).toBe(0);
    const unit = run.summary!.units[0]!;
    const record = latestUnitFor(dir, unit.mcuId!);
    const logs = auditEvents(dir, record.id).filter((e) => e.kind === 'step.log');
    const lines = logs.flatMap((e) => e.details.lines as string[]);
    expect(lines).toContain('[event] battery-low level=12');
    const cut = lines.find((line) => line.includes('xxxxxxxx'));
    expect(cut).toMatch(/\[cut: longer than the line limit\]$/);
  });

  it('a board that announces only WRITE,COMMIT is refused at connect, before anything it lacks is sent', async () => {
    const dir = newDir('caps');
    const run = await provision(dir, { args: ['--sim-fault', 'caps@HELLO=WRITE+COMMIT'] });
    await expectFailure(dir, run, 'connect', /BOARD_CAPS_MISSING/);
    expect(run.summary!.units[0]!.message).toContain('does not implement CHALLENGE, READBACK, VERIFY');
    expect(sandboxDevices(dir)).toHaveLength(0);
  });

  it('a board that announces a line limit below 512 is refused at connect', async () => {
    const dir = newDir('maxline');
    const run = await provision(dir, { args: ['--sim-fault', 'max-line@HELLO=256'] });
    await expectFailure(dir, run, 'connect', /BOARD_LINE_LIMIT/);
    expect(sandboxDevices(dir)).toHaveLength(0);
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
