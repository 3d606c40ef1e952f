import { isFirmwareAllowed, mcuIdForBackend, resolveMetadata } from '../../../station-config';
import { fail } from '../errors';
import { require, type StepResult, type UnitContext } from '../unit-context';

/** Step 1: HELLO. Agrees the protocol version and learns the firmware version. */
export async function connect(unit: UnitContext): Promise<StepResult> {
  unit.hello = await unit.session.hello();
  return {
    details: {
      port: unit.session.link.path,
      protocolVersion: unit.hello.proto,
      firmwareVersion: unit.hello.fw,
      boardName: unit.hello.board,
    },
  };
}

/** Step 2: IDENTIFY. The board's soc, mcuId, public key, stored device id and built-in cloud key. */
export async function identify(unit: UnitContext): Promise<StepResult> {
  const identity = await unit.session.identify();
  unit.identity = identity;
  unit.cloudMcuId = mcuIdForBackend(identity.mcuId, unit.batch.recipe.mcuIdByteOrder);
  unit.journal.unitIdentified({
    soc: identity.soc,
    mcuId: identity.mcuId,
    cloudMcuId: unit.cloudMcuId,
    firmwareVersion: require(unit.hello, 'hello').fw,
    boardDeviceId: identity.deviceId,
  });
  return {
    details: {
      soc: identity.soc,
      mcuId: identity.mcuId,
      cloudMcuId: unit.cloudMcuId,
      devicePublicKey: identity.devicePublicKey.toString('base64'),
      boardDeviceId: identity.deviceId,
      firmwareCloudPublicKey: identity.cloudPublicKey.toString('base64'),
      boardState: identity.state,
    },
  };
}

/** Step 3: the recipe's checks before anything is created or written. */
export async function recipeChecks(unit: UnitContext): Promise<StepResult> {
  const identity = require(unit.identity, 'identity');
  const hello = require(unit.hello, 'hello');
  const { recipe } = unit.batch;
  if (identity.soc !== recipe.soc) {
    throw fail(
      'SOC_MISMATCH',
      `This board is a ${identity.soc}, but recipe "${recipe.name}" makes ${recipe.soc} devices: check the board and the recipe you picked, then set the board aside.`,
      false,
    );
  }
  if (!isFirmwareAllowed(recipe.allowedFirmware, hello.fw)) {
    throw fail(
      'FIRMWARE_NOT_ALLOWED',
      `Firmware ${hello.fw} is not allowed by recipe "${recipe.name}": flash an allowed firmware, then press Retry.`,
      false,
    );
  }
  if (identity.state === 'locked') {
    throw fail(
      'BOARD_LOCKED',
      `This board is locked against provisioning${identity.deviceId ? ` (device ${identity.deviceId})` : ''}: set it aside for a supervisor.`,
      false,
    );
  }
  const metadata = resolveMetadata(recipe, unit.batch.station, unit.scan);
  if (!metadata.ok) {
    throw fail('MISSING_SCAN_FIELD', `Cannot provision yet: ${metadata.message}, then press Retry.`, true);
  }
  unit.metadata = metadata.metadata;
  return {
    details: { soc: identity.soc, firmwareVersion: hello.fw, metadataFields: Object.keys(metadata.metadata) },
  };
}
