/**
 * What the checks of one run share: the conversation, the verdicts, the mode, and what the board has told so far
 * (HELLO, IDENTIFY, the READBACK it was found with), which later checks compare against.
 */
import {
  BOARD_STATES,
  MAX_NETWORK_ID,
  SOC_MCU_ID_HEX_LENGTH,
  decodeBase64Exact,
  type FrameFields,
} from '../../firmware-protocol';
import { DEVELOPMENT_CLOUD_PUBLIC_KEY } from '../../firmware-protocol/virtual-board';
import type { ResultBook } from './results';
import type { Conversation } from './wire';

export interface HelloInfo {
  proto: string;
  fw: string;
  board: string;
  caps: string[];
  maxLine: number;
}

/** IDENTIFY as far as it could be read; fields that did not parse are undefined. */
export interface IdentityInfo {
  soc: string | undefined;
  mcuId: string | undefined;
  devicePublicKey: Buffer | undefined;
  cloudPublicKey: Buffer | undefined;
  deviceId: string | null | undefined;
  state: string | undefined;
  networkId: number | undefined;
}

export interface RunContext {
  wire: Conversation;
  book: ResultBook;
  destructive: boolean;
  lock: boolean;
  /** Lines for the report header: what the run will do to this board, what it found. */
  notes: string[];
  hello: HelloInfo | undefined;
  identity: IdentityInfo | undefined;
  /** READBACK as the board was found, before anything was staged. */
  foundReadback: FrameFields | undefined;
}

/** The provisioning commands a board must implement (the station refuses a board whose caps lack one). */
export const REQUIRED_CAPS = ['CHALLENGE', 'WRITE', 'COMMIT', 'READBACK', 'VERIFY'] as const;

export function hasCap(ctx: RunContext, command: string): boolean {
  return ctx.hello?.caps.includes(command) ?? false;
}

export function parseIdentity(fields: FrameFields): IdentityInfo {
  const deviceId = fields.deviceId;
  const networkId = fields.networkId;
  return {
    soc: fields.soc,
    mcuId: fields.mcuId !== undefined && /^[0-9a-f]+$/.test(fields.mcuId) ? fields.mcuId : undefined,
    devicePublicKey: decodeBase64Exact(fields.devicePublicKey ?? '', 32),
    cloudPublicKey: decodeBase64Exact(fields.cloudPublicKey ?? '', 32),
    deviceId:
      deviceId === 'none'
        ? null
        : deviceId !== undefined && /^[0-9a-f]{16}$/.test(deviceId)
          ? deviceId
          : undefined,
    state: (BOARD_STATES as readonly string[]).includes(fields.state ?? '') ? fields.state : undefined,
    networkId:
      networkId !== undefined &&
      /^(?:0|[1-9][0-9]{0,7})$/.test(networkId) &&
      Number(networkId) <= MAX_NETWORK_ID
        ? Number(networkId)
        : undefined,
  };
}

/** Everything wrong with an IDENTIFY reply's fields, in words (empty when it is well-formed). */
export function identityProblems(fields: FrameFields): string[] {
  const problems: string[] = [];
  const soc = fields.soc;
  const expectedLength = soc === undefined ? undefined : SOC_MCU_ID_HEX_LENGTH[soc];
  if (soc === undefined) problems.push('no soc');
  else if (expectedLength === undefined) problems.push(`soc ${soc} is not a SoC the Infuse cloud knows`);
  const mcuId = fields.mcuId;
  if (mcuId === undefined) problems.push('no mcuId');
  else if (!/^[0-9a-f]+$/.test(mcuId)) problems.push(`mcuId ${mcuId} is not lowercase hex`);
  else if (expectedLength !== undefined && mcuId.length !== expectedLength)
    problems.push(`mcuId has ${mcuId.length} hex characters; a ${soc} mcuId has ${expectedLength}`);
  for (const key of ['devicePublicKey', 'cloudPublicKey']) {
    if (decodeBase64Exact(fields[key] ?? '', 32) === undefined)
      problems.push(`${key} is not the base64 of 32 bytes`);
  }
  const deviceId = fields.deviceId;
  if (deviceId === undefined) problems.push('no deviceId');
  else if (deviceId !== 'none' && !/^[0-9a-f]{16}$/.test(deviceId))
    problems.push(`deviceId ${deviceId} is neither none nor 16 lowercase hex`);
  else if (deviceId.startsWith('ffff'))
    problems.push(`deviceId ${deviceId} is ffff-prefixed, never a cloud id`);
  if (!(BOARD_STATES as readonly string[]).includes(fields.state ?? ''))
    problems.push(`state ${fields.state ?? '(missing)'} is not one of ${BOARD_STATES.join(', ')}`);
  if (parseIdentity(fields).networkId === undefined)
    problems.push(`networkId ${fields.networkId ?? '(missing)'} is not a number 0..${MAX_NETWORK_ID}`);
  return problems;
}

/** Whether the cloud key the board holds in force is the published development key this checker can act for. */
export function developmentKeyInForce(ctx: RunContext): boolean {
  return ctx.identity?.cloudPublicKey?.equals(DEVELOPMENT_CLOUD_PUBLIC_KEY) ?? false;
}

export const DEVELOPMENT_KEY_NOT_IN_FORCE =
  "the board's cloud key in force is not the development key, so the checker (acting as the cloud with the " +
  'development key) cannot open or check its cryptography; --destructive writes the development key first';
