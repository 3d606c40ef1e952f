/**
 * The command catalogue of PROTOCOL.md: names, the fields each reply carries (as zod schemas both the station and
 * the virtual board use), the board's error codes, and the station's per-command defaults.
 */
import { z } from 'zod';
import { decodeBase64Exact } from './codec/values';
import { KEY_INTERFACES } from './infuse-crypto';

export const PROTOCOL_VERSION = 1;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];
export const DEFAULT_BAUD_RATE = 115200;

export const COMMAND_NAMES = [
  'HELLO',
  'IDENTIFY',
  'CHALLENGE',
  'WRITE',
  'COMMIT',
  'READBACK',
  'VERIFY',
  'LOCK',
  'REBOOT',
  'FACTORY-RESET',
] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export interface CommandPolicy {
  /** How long the station waits for the reply to one transmission. */
  timeoutMs: number;
  /**
   * Whether the station may send the same frame again (same id) when no valid reply came. Safe for every command
   * the board de-duplicates (PROTOCOL.md "Retransmission"); never for REBOOT and FACTORY-RESET, whose effect a
   * lost reply cannot tell apart from a lost request.
   */
  retransmit: boolean;
}

export const COMMAND_POLICIES: Record<CommandName, CommandPolicy> = {
  HELLO: { timeoutMs: 1000, retransmit: true },
  IDENTIFY: { timeoutMs: 1000, retransmit: true },
  CHALLENGE: { timeoutMs: 2000, retransmit: true },
  WRITE: { timeoutMs: 2000, retransmit: true },
  COMMIT: { timeoutMs: 5000, retransmit: true },
  READBACK: { timeoutMs: 1000, retransmit: true },
  VERIFY: { timeoutMs: 2000, retransmit: true },
  LOCK: { timeoutMs: 5000, retransmit: true },
  REBOOT: { timeoutMs: 1000, retransmit: false },
  'FACTORY-RESET': { timeoutMs: 5000, retransmit: false },
};

/** Retransmissions after the first send, for commands that allow them. */
export const DEFAULT_RETRANSMISSIONS = 2;

export const BOARD_ERROR_CODES = {
  BAD_FRAME: 'The line failed its CRC or the frame grammar; the board did nothing.',
  LINE_TOO_LONG: 'The line was longer than the limit; the board dropped it and did nothing.',
  UNKNOWN_COMMAND: 'The board does not know this command.',
  BAD_ARGUMENT: 'A field is missing, unknown or malformed (`field` names it); the board did nothing.',
  HELLO_REQUIRED: 'The board has not completed HELLO since it booted.',
  UNSUPPORTED_VERSION: 'The board speaks none of the offered protocol versions (`supported` lists its own).',
  ALREADY_PROVISIONED: 'The board already holds another device id (`deviceId`); FACTORY-RESET first.',
  NOT_PROVISIONED: 'The command needs committed credentials and the board has none.',
  INCOMPLETE: 'COMMIT would leave the credentials incomplete (`field` names what is missing).',
  LOCKED: 'The board is locked; provisioning commands are refused.',
  STORAGE: 'Persistent storage failed; the committed credentials are unchanged.',
  BUSY: 'The board cannot take the command now; send it again after `retryAfterMs`.',
} as const;
export type BoardErrorCode = keyof typeof BOARD_ERROR_CODES;

export function isBoardErrorCode(code: string): code is BoardErrorCode {
  return Object.hasOwn(BOARD_ERROR_CODES, code);
}

export const BOARD_STATES = ['blank', 'staged', 'committed', 'locked'] as const;
export type BoardState = (typeof BOARD_STATES)[number];

/** SoC names as the Infuse cloud knows them, with the length of their mcuId in hex characters. */
export const SOC_MCU_ID_HEX_LENGTH: Record<string, number> = {
  nRF52840: 16,
  nRF52833: 16,
  nRF5340: 16,
  nRF54L15: 16,
  nRF54L10: 16,
  nRF54L05: 16,
  nRF54LM20: 16,
  nRF9160: 16,
  nRF9161: 16,
  nRF9151: 16,
  stm32l4x: 24,
  rp2040: 16,
  rp2350: 16,
};

/** The SoC names the Infuse cloud knows, in one list (config schema, sandbox, virtual boards). */
export const KNOWN_SOCS = Object.keys(SOC_MCU_ID_HEX_LENGTH) as [string, ...string[]];

/** Fields a WRITE may stage. Secret ones are never echoed, logged or stored by the station. */
export const WRITABLE_FIELDS = [
  'deviceId',
  'networkId',
  'networkKey',
  'cloudPublicKey',
  'mqttToken',
  'mqttTokenExpiresAt',
  'derivedKey',
  'derivedKeyInterface',
] as const;
export type WritableField = (typeof WRITABLE_FIELDS)[number];
export const SECRET_FIELDS: readonly WritableField[] = ['networkKey', 'mqttToken', 'derivedKey'];
export const MAX_MQTT_TOKEN_CHARS = 2048;
export const MAX_NETWORK_ID = 0xffffff;

// ---- Field grammars shared by both ends -------------------------------------------------------------------

export const deviceIdText = z
  .string()
  .regex(/^[0-9a-f]{16}$/, 'a device id is 16 lowercase hex characters')
  .refine((id) => !id.startsWith('ffff'), 'ids starting ffff are locally managed, never cloud ids');
export const mcuIdText = z
  .string()
  .regex(/^(?:[0-9a-f]{16}|[0-9a-f]{24})$/, 'an mcuId is 16 or 24 lowercase hex');
export const decimalText = (max: number) =>
  z
    .string()
    .regex(/^(?:0|[1-9][0-9]{0,9})$/, 'a decimal number')
    .transform(Number)
    .refine((n) => n <= max, `at most ${max}`);
export const base64Bytes = (length: number) =>
  z.string().transform((value, ctx) => {
    const bytes = decodeBase64Exact(value, length);
    if (!bytes) {
      ctx.addIssue({ code: 'custom', message: `base64 of exactly ${length} bytes` });
      return z.NEVER;
    }
    return bytes;
  });
export const listText = z.string().transform((value) => (value === '' ? [] : value.split(',')));
export const isoUtcText = z.iso.datetime({ offset: false });
export const keyInterfaceText = z.enum(KEY_INTERFACES);
const boardStateText = z.enum(BOARD_STATES);
const fingerprintText = z.string().regex(/^[0-9a-f]{16}$/, 'a 16-hex-character fingerprint');

// ---- Replies ------------------------------------------------------------------------------------------------

export const helloReply = z.object({
  proto: decimalText(255),
  fw: z.string().min(1),
  board: z.string().min(1),
  caps: listText,
  maxLine: decimalText(65535),
});

/**
 * A board's state and its committed device id go together (section 5): committed or locked means a device id is
 * held, blank means none. A reply that says otherwise is refused, not believed.
 */
function stateMatchesDeviceId(
  reply: { state: BoardState; deviceId: string | null },
  context: z.RefinementCtx,
) {
  if ((reply.state === 'committed' || reply.state === 'locked') && reply.deviceId === null) {
    context.addIssue({
      code: 'custom',
      path: ['deviceId'],
      message: `a ${reply.state} board names its device id`,
    });
  }
  if (reply.state === 'blank' && reply.deviceId !== null) {
    context.addIssue({ code: 'custom', path: ['deviceId'], message: 'a blank board holds no device id' });
  }
}

export const identifyReply = z
  .object({
    soc: z.string().min(1),
    mcuId: mcuIdText,
    devicePublicKey: base64Bytes(32),
    deviceId: z
      .union([z.literal('none'), z.string().regex(/^[0-9a-f]{16}$/)])
      .transform((v) => (v === 'none' ? null : v)),
    cloudPublicKey: base64Bytes(32),
    state: boardStateText,
    networkId: decimalText(MAX_NETWORK_ID),
  })
  .superRefine(stateMatchesDeviceId);

export const challengeReply = z.object({
  type: decimalText(255),
  networkId: decimalText(MAX_NETWORK_ID),
  cloudPublicKey: base64Bytes(32),
  devicePublicKey: base64Bytes(32),
  response: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
});

export const writeReply = z.object({ staged: listText, state: boardStateText });

export const commitReply = z.object({
  state: boardStateText,
  deviceId: z.string().regex(/^[0-9a-f]{16}$/),
  changed: z.enum(['0', '1']).transform((v) => v === '1'),
});

export const readbackReply = z.object({
  state: boardStateText,
  deviceId: z
    .union([z.literal('none'), z.string().regex(/^[0-9a-f]{16}$/)])
    .transform((v) => (v === 'none' ? null : v)),
  networkId: decimalText(MAX_NETWORK_ID).optional(),
  networkKeyFp: fingerprintText.optional(),
  cloudPublicKey: base64Bytes(32),
  mqttTokenFp: fingerprintText.optional(),
  mqttTokenExpiresAt: isoUtcText.optional(),
  derivedKeyFp: fingerprintText.optional(),
  derivedKeyInterface: keyInterfaceText.optional(),
  staged: listText.optional(),
});

export const verifyReply = z.object({
  mac: base64Bytes(32),
  deviceId: z.string().regex(/^[0-9a-f]{16}$/),
  keyId: z.string().regex(/^[0-9a-f]{6}$/),
});

export const lockReply = z.object({ state: z.literal('locked') });
export const rebootReply = z.object({});
export const factoryResetReply = z.object({ state: z.literal('blank') });

export const bootEvent = z.object({ proto: decimalText(255), fw: z.string().min(1) });

export type HelloReply = z.infer<typeof helloReply>;
export type IdentifyReply = z.infer<typeof identifyReply>;
export type ChallengeReply = z.infer<typeof challengeReply>;
export type WriteReply = z.infer<typeof writeReply>;
export type CommitReply = z.infer<typeof commitReply>;
export type ReadbackReply = z.infer<typeof readbackReply>;
export type VerifyReply = z.infer<typeof verifyReply>;
