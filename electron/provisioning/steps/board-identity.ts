import type { Recipe, StationConfig } from '../../../station-config';
import { isFirmwareAllowed, mcuIdForBackend, resolveMetadata } from '../../../station-config';
import type { BoardHello, BoardIdentity } from '../../serial';
import { fail } from '../errors';
import type { UnitIdentity } from '../journal';
import type { BoardPort } from '../ports';
import { passed, type StepOutput } from './step';

/** Step 1: open the port and HELLO. Agrees the protocol version and learns the firmware version. */
export async function connect(board: BoardPort): Promise<StepOutput<BoardHello>> {
  await board.open();
  const hello = await board.hello();
  return passed(hello, {
    port: board.path,
    protocolVersion: hello.proto,
    firmwareVersion: hello.fw,
    boardName: hello.board,
  });
}

export interface Identified {
  identity: BoardIdentity;
  /** What the journal records about the board (its identity, the mcuId as the cloud knows it). */
  summary: UnitIdentity;
}

/** Step 2: IDENTIFY. The board's soc, mcuId, public key, stored device id and built-in cloud key. */
export async function identify(input: {
  board: BoardPort;
  hello: BoardHello;
  recipe: Recipe;
}): Promise<StepOutput<Identified>> {
  const identity = await input.board.identify();
  const cloudMcuId = mcuIdForBackend(identity.mcuId, input.recipe.mcuIdByteOrder);
  return passed(
    {
      identity,
      summary: {
        soc: identity.soc,
        mcuId: identity.mcuId,
        cloudMcuId,
        firmwareVersion: input.hello.fw,
        boardDeviceId: identity.deviceId,
      },
    },
    {
      soc: identity.soc,
      mcuId: identity.mcuId,
      cloudMcuId,
      devicePublicKey: identity.devicePublicKey.toString('base64'),
      boardDeviceId: identity.deviceId,
      firmwareCloudPublicKey: identity.cloudPublicKey.toString('base64'),
      boardState: identity.state,
    },
  );
}

/** Step 3: the recipe's checks before anything is created or written; resolves the metadata for POST /device. */
export async function recipeChecks(input: {
  hello: BoardHello;
  identity: BoardIdentity;
  recipe: Recipe;
  station: StationConfig['station'];
  scan: Record<string, string>;
}): Promise<StepOutput<{ metadata: Record<string, string> }>> {
  const { identity, hello, recipe } = input;
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
      `Firmware ${hello.fw} is not allowed by recipe "${recipe.name}": flash an allowed firmware, then retry.`,
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
  const metadata = resolveMetadata(recipe, input.station, input.scan);
  if (!metadata.ok) {
    throw fail('MISSING_SCAN_FIELD', `Cannot provision yet: ${metadata.message}, then retry.`, true);
  }
  return passed(
    { metadata: metadata.metadata },
    { soc: identity.soc, firmwareVersion: hello.fw, metadataFields: Object.keys(metadata.metadata) },
  );
}
