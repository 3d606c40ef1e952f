import type { Device } from '../../backend';
import type { BoardIdentity } from '../../serial';
import type { BatchContext } from '../batch-context';
import { fail } from '../errors';
import { passed, type Intent, type StepOutput } from './step';

function checkRecord(batch: BatchContext, identity: BoardIdentity, device: Device): Device {
  if (identity.deviceId !== null && identity.deviceId !== device.deviceId) {
    throw fail(
      'BOARD_HOLDS_OTHER_DEVICE',
      `This board already holds device id ${identity.deviceId}, but the cloud registered its chip as ${device.deviceId}: set it aside for a supervisor to re-provision or void it.`,
      false,
    );
  }
  if (device.boardId !== batch.boardId || device.organisationId !== batch.organisationId) {
    throw fail(
      'CLOUD_RECORD_MISMATCH',
      `The cloud already has device ${device.deviceId} for this chip under another board profile or organisation: set the board aside for a supervisor.`,
      false,
    );
  }
  return device;
}

/**
 * Step 4: the device record for this soc + mcuId, never a second one. By default the chip is looked up first and a
 * device created only when the cloud has none (the vendor's own tools do this; a 409 on create means another station
 * got there first, and the record is looked up again). With backend.createDeviceFirst the device is created at once
 * (one round trip for a new board; the provisioning guide's POST /device), and a 409 means the chip has a device
 * already, which is looked up and used: only for a backend known to refuse a duplicate chip. A board that already
 * holds an id (written before a crash, before the record was made) keeps it: the record is created with that id.
 */
export async function deviceRecord(input: {
  batch: BatchContext;
  identity: BoardIdentity;
  cloudMcuId: string;
  metadata: Record<string, string>;
  intent: Intent;
}): Promise<StepOutput<Device>> {
  const { batch, identity, cloudMcuId, metadata } = input;
  if (!batch.createDeviceFirst) {
    const found = await batch.cloud.findDevice(identity.soc, cloudMcuId);
    if (found) {
      const device = checkRecord(batch, identity, found);
      return passed(device, { deviceId: device.deviceId, cloudId: device.id, created: false });
    }
  }
  const reuseId = identity.deviceId ?? undefined;
  await input.intent('create-device', {
    soc: identity.soc,
    mcuId: cloudMcuId,
    requestedDeviceId: reuseId ?? null,
  });
  const created = await batch.cloud.createDevice({
    mcuId: cloudMcuId,
    boardId: batch.boardId,
    organisationId: batch.organisationId,
    ...(reuseId !== undefined && { deviceId: reuseId }),
    ...(Object.keys(metadata).length > 0 && { metadata }),
  });
  if (created.ok) {
    const device = checkRecord(batch, identity, created.value);
    return passed(device, { deviceId: device.deviceId, cloudId: device.id, created: true });
  }
  if (created.error.code !== 'BACKEND_CONFLICT') throw created.error;
  // The chip is known already (created first), or another station created it since the lookup: use that record.
  const existing = await batch.cloud.findDevice(identity.soc, cloudMcuId);
  if (!existing) throw created.error;
  const device = checkRecord(batch, identity, existing);
  return passed(device, {
    deviceId: device.deviceId,
    cloudId: device.id,
    created: false,
    ...(!batch.createDeviceFirst && { raced: true }),
  });
}

/** Step 5: the cloud's public key (fetched once per batch) must be the one built into the firmware. */
export async function cloudKey(input: {
  batch: BatchContext;
  identity: BoardIdentity;
}): Promise<StepOutput<Buffer>> {
  const cloudPublicKey = await input.batch.cloud.cloudPublicKey();
  if (!cloudPublicKey.equals(input.identity.cloudPublicKey)) {
    throw fail(
      'CLOUD_KEY_MISMATCH',
      "This firmware was built for another cloud (its cloud public key differs from the backend's): flash the firmware built for this backend, then retry.",
      false,
    );
  }
  return passed(cloudPublicKey, { cloudPublicKey: cloudPublicKey.toString('base64') });
}
