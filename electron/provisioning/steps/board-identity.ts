import type { Recipe, StationConfig } from '../../../station-config';
import { isFirmwareAllowed, mcuIdForBackend, resolveMetadata } from '../../../station-config';
import type { BoardHello, BoardIdentity } from '../../serial';
import { fail } from '../errors';
import type { UnitIdentity } from '../journal';
import type { BoardPort, ProvisionedRecord, ProvisioningRecords } from '../ports';
import { mismatchedFields, WRITTEN_FIELDS } from './write-and-verify';
import { passed, type StepOutput } from './step';

/** Commands every unit sends after HELLO and IDENTIFY (PROTOCOL.md 5): the board must announce them in `caps`. */
const PROVISIONING_COMMANDS = ['CHALLENGE', 'WRITE', 'COMMIT', 'READBACK', 'VERIFY'];
/** The smallest line limit a board may announce (PROTOCOL.md 5.1, `maxLine`). */
const MIN_MAX_LINE = 512;

/** Step 1: open the port and HELLO. Agrees the protocol version and learns the firmware version. */
export async function connect(
  board: BoardPort,
  finish: { lock: boolean; reboot: boolean } = { lock: false, reboot: false },
): Promise<StepOutput<BoardHello>> {
  await board.open();
  const hello = await board.hello();
  // Act on what the board announces (PROTOCOL.md 5.1): a unit never sends a command the board says it lacks.
  const needed = [
    ...PROVISIONING_COMMANDS,
    ...(finish.lock ? ['LOCK'] : []),
    ...(finish.reboot ? ['REBOOT'] : []),
  ];
  const missing = needed.filter((command) => !hello.caps.includes(command));
  if (missing.length > 0) {
    throw fail(
      'BOARD_CAPS_MISSING',
      `The firmware (${hello.fw}) does not implement ${missing.join(', ')} (it announces ${hello.caps.join(',') || 'nothing'}): flash a firmware with the station protocol's provisioning commands.`,
      true,
    );
  }
  if (hello.maxLine < MIN_MAX_LINE) {
    throw fail(
      'BOARD_LINE_LIMIT',
      `The board announces a line limit of ${hello.maxLine} bytes, below the protocol's ${MIN_MAX_LINE}: its firmware does not follow PROTOCOL.md; flash a conforming firmware.`,
      true,
    );
  }
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
  board: BoardPort;
  hello: BoardHello;
  identity: BoardIdentity;
  recipe: Recipe;
  station: StationConfig['station'];
  scan: Record<string, string>;
  records: ProvisioningRecords | undefined;
}): Promise<StepOutput<{ metadata: Record<string, string>; alreadyProvisioned: ProvisionedRecord | null }>> {
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
    const record = await lockedBoardRecord(input.board, identity, input.records);
    return passed(
      { metadata: {}, alreadyProvisioned: record },
      {
        soc: identity.soc,
        firmwareVersion: hello.fw,
        alreadyProvisioned: true,
        deviceId: record.deviceId,
        provisionedInUnit: record.unitId,
        provisionedAt: record.passedAt,
      },
    );
  }
  const metadata = resolveMetadata(recipe, input.station, input.scan);
  if (!metadata.ok) {
    throw fail('MISSING_SCAN_FIELD', `Cannot provision yet: ${metadata.message}, then retry.`, true);
  }
  return passed(
    { metadata: metadata.metadata, alreadyProvisioned: null },
    { soc: identity.soc, firmwareVersion: hello.fw, metadataFields: Object.keys(metadata.metadata) },
  );
}

/**
 * A locked board can take nothing more. If the station's own record says it passed here, and the board still
 * holds exactly what that unit wrote (same key pair, device id, cloud key, network and the secrets'
 * fingerprints, read back now), it is already provisioned: a re-plug, not a failure. Anything else is for a
 * supervisor (BOARD_LOCKED), with what differs.
 */
async function lockedBoardRecord(
  board: BoardPort,
  identity: BoardIdentity,
  records: ProvisioningRecords | undefined,
): Promise<ProvisionedRecord> {
  const locked = (why: string) =>
    fail(
      'BOARD_LOCKED',
      `This board is locked against provisioning${identity.deviceId ? ` (device ${identity.deviceId})` : ''} and ${why}: set it aside for a supervisor.`,
      false,
    );
  const record = records?.lastPassed(identity.soc, identity.mcuId) ?? null;
  if (!record) return Promise.reject(locked("this station's record has no passed unit for it"));
  if (record.deviceId !== identity.deviceId) {
    throw locked(
      `holds another device id than the record (unit ${record.unitId} passed it as ${record.deviceId})`,
    );
  }
  if (
    record.devicePublicKey !== null &&
    record.devicePublicKey !== identity.devicePublicKey.toString('base64')
  ) {
    throw locked(`has another key pair than the record of unit ${record.unitId}`);
  }
  const expected = Object.fromEntries(
    WRITTEN_FIELDS.filter((key) => record.written[key] !== undefined).map((key) => [
      key,
      record.written[key]!,
    ]),
  );
  const differs = mismatchedFields(expected, await board.readback());
  if (differs.length > 0) {
    throw locked(`its credentials differ from what unit ${record.unitId} wrote (${differs.join(', ')})`);
  }
  return record;
}
