/**
 * Stable error codes of the serial capability. `code` is what the UI and tests switch on; `operatorMessage` says
 * what happened and what to do, in words for the person at the station; `retrySafe` says whether pressing Retry
 * can do harm.
 */
import { BOARD_ERROR_CODES, type BoardErrorCode, type CommandName } from '../../firmware-protocol';

export const SERIAL_ERROR_CODES = [
  'PORT_NOT_FOUND',
  'PORT_PERMISSION',
  'PORT_BUSY',
  'PORT_OPEN_FAILED',
  'TIMEOUT',
  'GARBLED',
  'DISCONNECTED',
  /** The board restarted (its boot event, or HELLO_REQUIRED) while the station was talking to it. */
  'REBOOTED',
  'LINK_CLOSED',
  'BAD_REPLY',
  'PROTOCOL_MISMATCH',
  'BOARD_ERROR',
] as const;
export type SerialErrorCode = (typeof SERIAL_ERROR_CODES)[number];

export interface SerialErrorDetails {
  port: string;
  command?: CommandName;
  /** The board's own code when `code` is BOARD_ERROR. */
  boardCode?: BoardErrorCode | string;
  /** Fields of the board's ERR reply (never secret: the board never sends secrets). */
  boardFields?: Record<string, string>;
  retrySafe: boolean;
}

export class SerialLinkError extends Error {
  override name = 'SerialLinkError';
  readonly port: string;
  readonly command: CommandName | undefined;
  readonly boardCode: string | undefined;
  readonly boardFields: Record<string, string>;
  readonly retrySafe: boolean;

  constructor(
    readonly code: SerialErrorCode,
    readonly operatorMessage: string,
    details: SerialErrorDetails,
  ) {
    super(operatorMessage);
    this.port = details.port;
    this.command = details.command;
    this.boardCode = details.boardCode;
    this.boardFields = details.boardFields ?? {};
    this.retrySafe = details.retrySafe;
  }
}

const BOARD_ERROR_ACTIONS: Record<BoardErrorCode, string> = {
  BAD_FRAME: 'the line is noisy: check the cable and retry',
  LINE_TOO_LONG: 'the station and board disagree on the line limit: report this to engineering',
  UNKNOWN_COMMAND: 'the firmware lacks this command: flash a firmware the recipe allows',
  BAD_ARGUMENT: 'the station sent a value the board refused: report this to engineering',
  HELLO_REQUIRED: 'the board restarted: retry',
  UNSUPPORTED_VERSION: 'the firmware speaks another protocol version: flash a supported firmware',
  ALREADY_PROVISIONED:
    'the board belongs to another device: set it aside for a supervisor to re-provision or void it',
  NOT_PROVISIONED: 'the board holds no credentials: provision it first',
  INCOMPLETE: 'the credentials were incomplete: retry',
  LOCKED: 'the board is locked against provisioning: set it aside for a supervisor',
  STORAGE: "the board's flash failed to write: set the board aside as faulty",
  BUSY: 'the board stayed busy: wait a moment and retry',
};

/**
 * The operator text for a board's ERR reply: what it refused and what to do. The port is not in it (the slot
 * shows where the board is, the record keeps the port); the protocol's meaning of the code is for engineers.
 */
export function boardErrorMessage(
  command: CommandName,
  code: string,
  fields: Record<string, string>,
): string {
  const known = Object.hasOwn(BOARD_ERROR_CODES, code);
  const action = known ? BOARD_ERROR_ACTIONS[code as BoardErrorCode] : 'report this to engineering';
  const detail = Object.entries(fields)
    .filter(([key]) => key === 'field' || key === 'deviceId' || key === 'supported')
    .map(([key, value]) => `${key} ${value}`)
    .join(', ');
  return `The board refused ${command} (${code}${detail ? `: ${detail}` : ''}): ${action}.`;
}
