/**
 * Boards that restart (asked or not) and boards seen again, end to end through the CLI: a lost REBOOT reply is
 * settled, a board that resets itself mid-unit is carried on from what it kept, a COMMIT that says it changed
 * nothing is refused, and a locked board this station passed is "already provisioned", not a failure.
 */
import { describe, expect, it } from 'vitest';
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
import { configFile, expectFailure, expectOneDevicePerChip } from './fault-support';

const newDir = useDataDirs();

function stepDetails(dir: string, mcuId: string, step: string): Record<string, unknown> {
  const record = latestUnitFor(dir, mcuId);
  const finished = auditEvents(dir, record.id).find((e) => e.kind === 'step.finished' && e.step === step);
  expect(finished, `step.finished of ${step}`).toBeDefined();
  return finished!.details.measurements as Record<string, unknown>;
}

async function expectPassed(dir: string, faults: string[]) {
  const run = await provision(dir, { args: faults.flatMap((fault) => ['--sim-fault', fault]) });
  expect(run.code, run.stderr).toBe(0);
  const unit = run.summary!.units[0]!;
  expect(unit.outcome).toBe('passed');
  for (const board of boardImages(dir)) expectProvisioned(dir, board);
  expect(expectOneDevicePerChip(dir)).toBe(1);
  return unit;
}

describe('boards that restart', () => {
  it("REBOOT's reply lost: the boot event settles it and the unit passes (no TIMEOUT, read back after the reboot)", async () => {
    const dir = newDir('reboot-reply-lost');
    const unit = await expectPassed(dir, ['drop-reply@REBOOTx1']);
    expect(stepDetails(dir, unit.mcuId!, 'finish')).toMatchObject({
      rebooted: true,
      rebootReplyLost: true,
      rebootSettledBy: 'boot-event',
    });
  });

  it("REBOOT's reply lost and the boot slower than REBOOT's timeout: waited for within the boot limit", async () => {
    const dir = newDir('reboot-slow');
    const unit = await expectPassed(dir, ['drop-reply@REBOOTx1', 'slow-boot=1500x1']);
    expect(stepDetails(dir, unit.mcuId!, 'finish')).toMatchObject({ rebootReplyLost: true });
  });

  it('a watchdog reset right after WRITE: the station notices the boot, says HELLO again and writes again', async () => {
    const dir = newDir('watchdog-write');
    const unit = await expectPassed(dir, ['reboot@WRITE=repliedx1']);
    expect(stepDetails(dir, unit.mcuId!, 'write-credentials')).toMatchObject({
      restartsDuringWrite: 1,
      keptThroughRestart: false,
      boardRestarts: 1,
      changed: true,
    });
  });

  it('power lost after COMMIT stored, before its reply: carried on from what the board kept (read back), not written twice', async () => {
    const dir = newDir('restart-commit');
    const unit = await expectPassed(dir, ['reboot@COMMIT=afterx1']);
    const details = stepDetails(dir, unit.mcuId!, 'write-credentials');
    expect(details).toMatchObject({ restartsDuringWrite: 1, keptThroughRestart: true, boardRestarts: 1 });
    const logs = auditEvents(dir, latestUnitFor(dir, unit.mcuId!).id)
      .filter((e) => e.kind === 'step.log' && e.step === 'write-credentials')
      .flatMap((e) => e.details.lines as string[]);
    expect(logs.filter((line) => line.includes('committed credentials for'))).toHaveLength(1);
    expect(logs.some((line) => line.startsWith('[event] boot'))).toBe(true);
  });

  it('a restart before CHALLENGE is acted on: HELLO again, CHALLENGE again, the unit passes', async () => {
    const dir = newDir('restart-challenge');
    const unit = await expectPassed(dir, ['reboot@CHALLENGE=beforex1']);
    expect(stepDetails(dir, unit.mcuId!, 'key-agreement')).toMatchObject({ boardRestarts: 1 });
  });

  it('a board that restarts on every WRITE: REBOOTED after the retries, retry-safe, nothing committed', async () => {
    const dir = newDir('restart-always');
    const run = await provision(dir, { args: ['--sim-fault', 'reboot@WRITE=replied'] });
    await expectFailure(dir, run, 'write-credentials', /^SERIAL_REBOOTED$/);
    expect(run.summary!.units[0]!.message).toMatch(/restarted/);
    expect(boardImages(dir)[0]!.credentials).toBeNull();
  });
});

describe('what COMMIT says', () => {
  it('changed=0 on the first commit (fields were just staged) fails the unit instead of being recorded as false', async () => {
    const dir = newDir('commit-unchanged');
    const run = await provision(dir, { args: ['--sim-fault', 'commit-unchanged@COMMIT'] });
    await expectFailure(dir, run, 'write-credentials', /^COMMIT_MISMATCH$/);
    expect(run.summary!.units[0]!.message).toContain('changed=0');
  });
});

describe('a locked board seen again', () => {
  const lockingConfig = (dir: string) =>
    configFile(dir, (c) => {
      c.recipes[0].finish = { lock: true, reboot: true };
    });

  it('this station locked and passed it, and it holds what was written: already provisioned, nothing created or written', async () => {
    const dir = newDir('locked-again');
    const config = lockingConfig(dir);
    const first = await provision(dir, { args: ['--config', config] });
    expect(first.code, first.stderr).toBe(0);
    const deviceId = first.summary!.units[0]!.deviceId;
    const firstUnit = latestUnitFor(dir, first.summary!.units[0]!.mcuId!).id;
    expect(boardImages(dir)[0]!.locked).toBe(true);

    const again = await provision(dir, { args: ['--config', config] });
    expect(again.code, again.stderr).toBe(0);
    const unit = again.summary!.units[0]!;
    expect(unit).toMatchObject({ outcome: 'passed', deviceId });
    expect(sandboxDevices(dir)).toHaveLength(1);
    const record = latestUnitFor(dir, unit.mcuId!);
    const events = auditEvents(dir, record.id);
    const checks = events.find((e) => e.kind === 'step.finished' && e.step === 'recipe-checks');
    expect(checks?.details.measurements).toMatchObject({
      alreadyProvisioned: true,
      deviceId,
      provisionedInUnit: firstUnit,
    });
    expect(record.id).not.toBe(firstUnit);
    expect(events.filter((e) => e.kind === 'step.intent')).toHaveLength(0);
    for (const step of ['device-record', 'key-agreement', 'write-credentials', 'verify', 'finish']) {
      expect(events.find((e) => e.kind === 'step.finished' && e.step === step)?.outcome).toBe('skipped');
    }
  });

  it('a locked board whose credentials differ from its record: BOARD_LOCKED naming what differs, the summary names its device', async () => {
    const dir = newDir('locked-differs');
    const config = lockingConfig(dir);
    const first = await provision(dir, { args: ['--config', config] });
    expect(first.code, first.stderr).toBe(0);
    const deviceId = first.summary!.units[0]!.deviceId;
    const image = boardImages(dir)[0]!;
    image.credentials!.mqttToken = 'sbx_mqtt_not_what_the_station_wrote';
    writeBoardImage(dir, 0, image);

    const again = await provision(dir, { args: ['--config', config] });
    await expectFailure(dir, again, 'recipe-checks', /^BOARD_LOCKED$/);
    const unit = again.summary!.units[0]!;
    expect(unit.deviceId).toBe(deviceId);
    expect(unit.message).toContain('mqttTokenFp');
  });
});
