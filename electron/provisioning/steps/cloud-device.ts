import { unwrap, type Device } from '../../backend';
import { fail } from '../errors';
import { require, type StepResult, type UnitContext } from '../unit-context';

function checkRecord(unit: UnitContext, device: Device): Device {
  const identity = require(unit.identity, 'identity');
  if (identity.deviceId !== null && identity.deviceId !== device.deviceId) {
    throw fail(
      'BOARD_HOLDS_OTHER_DEVICE',
      `This board already holds device id ${identity.deviceId}, but the cloud registered its chip as ${device.deviceId}: set it aside for a supervisor to re-provision or void it.`,
      false,
    );
  }
  if (device.boardId !== unit.batch.boardId || device.organisationId !== unit.batch.organisationId) {
    throw fail(
      'CLOUD_RECORD_MISMATCH',
      `The cloud already has device ${device.deviceId} for this chip under another board profile or organisation: set the board aside for a supervisor.`,
      false,
    );
  }
  return device;
}

/**
 * Step 4: find the device by soc + mcuId, create it only when the cloud has none (404), and look again when a
 * create races with another station (409). A board that already holds an id (written before a crash, before the
 * record was made) keeps it: the record is created with that id.
 */
export async function deviceRecord(unit: UnitContext): Promise<StepResult> {
  const identity = require(unit.identity, 'identity');
  const cloudMcuId = require(unit.cloudMcuId, 'cloud mcuId');
  const { batch } = unit;
  const lookup = async () =>
    unwrap(await batch.backend(() => batch.client.getDeviceBySocAndMcuId(identity.soc, cloudMcuId)));

  const found = await lookup();
  if (found) {
    unit.device = checkRecord(unit, found);
    return { details: { deviceId: found.deviceId, cloudId: found.id, created: false } };
  }

  const metadata = unit.metadata ?? {};
  const reuseId = identity.deviceId ?? undefined;
  unit.journal.intent('device-record', 'create-device', {
    soc: identity.soc,
    mcuId: cloudMcuId,
    requestedDeviceId: reuseId ?? null,
  });
  const created = await batch.backend(() =>
    batch.client.createDevice({
      mcuId: cloudMcuId,
      boardId: batch.boardId,
      organisationId: batch.organisationId,
      ...(reuseId !== undefined && { deviceId: reuseId }),
      ...(Object.keys(metadata).length > 0 && { metadata }),
    }),
  );
  if (created.ok) {
    unit.device = checkRecord(unit, created.value);
    return { details: { deviceId: created.value.deviceId, cloudId: created.value.id, created: true } };
  }
  if (created.error.code !== 'BACKEND_CONFLICT') throw created.error;
  // Another station (or our own earlier attempt) created it first: use that record.
  const raced = await lookup();
  if (!raced) throw created.error;
  unit.device = checkRecord(unit, raced);
  return { details: { deviceId: raced.deviceId, cloudId: raced.id, created: false, raced: true } };
}

/** Step 5: the cloud's public key (fetched once per batch) must be the one built into the firmware. */
export async function cloudKey(unit: UnitContext): Promise<StepResult> {
  const identity = require(unit.identity, 'identity');
  const cloudPublicKey = await unit.batch.cloudPublicKey();
  if (!cloudPublicKey.equals(identity.cloudPublicKey)) {
    throw fail(
      'CLOUD_KEY_MISMATCH',
      "This firmware was built for another cloud (its cloud public key differs from the backend's): flash the firmware built for this backend, then press Retry.",
      false,
    );
  }
  return { details: { cloudPublicKey: cloudPublicKey.toString('base64') } };
}
