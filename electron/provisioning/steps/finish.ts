import type { Device } from '../../backend';
import type { BatchContext } from '../batch-context';
import { fail } from '../errors';
import type { StepDetails } from '../journal';
import type { BoardPort } from '../ports';
import { passed, skipped, type Intent, type StepOutput } from './step';

/** Step 9: lock and/or reboot as the recipe says; after a reboot the credentials must still be there. */
export async function finish(input: {
  batch: BatchContext;
  board: BoardPort;
  device: Device;
  intent: Intent;
}): Promise<StepOutput<null>> {
  const { board, device } = input;
  const { lock, reboot } = input.batch.recipe.finish;
  if (!lock && !reboot) return skipped(null);
  if (lock) {
    await input.intent('lock', { deviceId: device.deviceId });
    await board.lock(device.deviceId);
  }
  let rebooted: StepDetails = {};
  if (reboot) {
    const report = await board.reboot();
    rebooted = {
      rebootSettledBy: report.settledBy,
      ...(report.replyLost && { rebootReplyLost: true }),
      ...(report.requests > 1 && { rebootRequests: report.requests }),
    };
    await board.hello();
    const readback = await board.readback();
    // After a reboot nothing can be staged: the board holds what it committed (and locked), or it lost it.
    const expectedState = lock ? 'locked' : 'committed';
    if (readback.state !== expectedState && !(expectedState === 'committed' && readback.state === 'locked')) {
      throw fail(
        'READBACK_MISMATCH',
        `After the reboot the board says it is ${readback.state}, not ${expectedState}: its storage is faulty; set it aside.`,
        false,
      );
    }
    if (readback.deviceId !== device.deviceId) {
      throw fail(
        'READBACK_MISMATCH',
        `After the reboot the board holds ${readback.deviceId ?? 'no device id'} instead of ${device.deviceId}: its storage is faulty; set it aside.`,
        false,
      );
    }
  }
  return passed(null, { locked: lock, rebooted: reboot, ...rebooted });
}

const POLL_MS = 1000;

/** Step 10: the device has reached the cloud since it committed (device state or last route). */
export async function communicationCheck(input: {
  batch: BatchContext;
  device: Device;
  committedAt: Date;
  now: () => Date;
  signal?: AbortSignal;
}): Promise<StepOutput<null>> {
  const check = input.batch.recipe.communicationCheck;
  if (check.mode === 'off') return skipped(null);
  const { device, batch } = input;
  const deadline = input.now().getTime() + check.withinSeconds * 1000;
  for (;;) {
    const state = await batch.cloud.deviceState(device.deviceId);
    const seenAt = check.mode === 'state' ? state?.updatedAt : state?.lastRouteTime;
    if (seenAt !== undefined && Date.parse(seenAt) >= input.committedAt.getTime()) {
      return passed(null, { mode: check.mode, seenAt });
    }
    if (input.now().getTime() + POLL_MS > deadline || input.signal?.aborted) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (input.signal?.aborted) {
    throw fail('CANCELLED', 'Provisioning of this slot was cancelled: retry to run it again.', true);
  }
  throw fail(
    'COMMUNICATION_CHECK_FAILED',
    `Device ${device.deviceId} did not reach the cloud within ${check.withinSeconds} s: check the antenna/network coverage at the station and retry.`,
    true,
  );
}
