import { unwrap } from '../../backend';
import { fail } from '../errors';
import { require, type StepResult, type UnitContext } from '../unit-context';

/** Step 9: lock and/or reboot as the recipe says; after a reboot the credentials must still be there. */
export async function finish(unit: UnitContext): Promise<StepResult> {
  const device = require(unit.device, 'device');
  const { lock, reboot } = unit.batch.recipe.finish;
  if (!lock && !reboot) return { skipped: true, details: {} };
  if (lock) {
    unit.journal.intent('finish', 'lock', { deviceId: device.deviceId });
    await unit.session.lock(device.deviceId);
  }
  if (reboot) {
    await unit.session.reboot();
    await unit.session.hello();
    const readback = await unit.session.readback();
    if (readback.deviceId !== device.deviceId) {
      throw fail(
        'READBACK_MISMATCH',
        `After the reboot the board holds ${readback.deviceId ?? 'no device id'} instead of ${device.deviceId}: its storage is faulty; set it aside.`,
        false,
      );
    }
  }
  return { details: { locked: lock, rebooted: reboot } };
}

const POLL_MS = 1000;

/** Step 10: the device has reached the cloud since this unit started (device state or last route). */
export async function communicationCheck(unit: UnitContext): Promise<StepResult> {
  const check = unit.batch.recipe.communicationCheck;
  if (check.mode === 'off') return { skipped: true, details: {} };
  const device = require(unit.device, 'device');
  const since = require(unit.committedAt, 'commit time');
  const { batch } = unit;
  const deadline = unit.now().getTime() + check.withinSeconds * 1000;
  for (;;) {
    const state = unwrap(await batch.backend(() => batch.client.getDeviceState(device.deviceId)));
    const seenAt = check.mode === 'state' ? state?.updatedAt : state?.lastRouteTime;
    if (seenAt !== undefined && Date.parse(seenAt) >= since.getTime()) {
      return { details: { mode: check.mode, seenAt } };
    }
    if (unit.now().getTime() + POLL_MS > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw fail(
    'COMMUNICATION_CHECK_FAILED',
    `Device ${device.deviceId} did not reach the cloud within ${check.withinSeconds} s: check the antenna/network coverage at the station and press Retry.`,
    true,
  );
}
