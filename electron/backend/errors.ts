/**
 * Stable error codes of the backend capability, with the texts an operator sees. The UI and tests switch on
 * `code`; `operatorMessage` says what happened and what to do. Nothing here may ever carry a secret: errors are
 * built only from status codes, path templates, the server's `{code, message}` body (scrubbed) and our own words.
 */
import { inspect } from 'node:util';

export const BACKEND_ERROR_CODES = [
  'BACKEND_UNREACHABLE',
  'BACKEND_TIMEOUT',
  'BACKEND_UNAUTHORIZED',
  'BACKEND_FORBIDDEN',
  'BACKEND_NOT_FOUND',
  'BACKEND_CONFLICT',
  'BACKEND_BAD_REQUEST',
  'BACKEND_RATE_LIMITED',
  'BACKEND_UNAVAILABLE',
  'BACKEND_BAD_RESPONSE',
  'BACKEND_SOC_MISMATCH',
  'BACKEND_INVALID_ARGUMENT',
] as const;
export type BackendErrorCode = (typeof BACKEND_ERROR_CODES)[number];

export interface BackendErrorDetails {
  code: BackendErrorCode;
  /** "METHOD /path/{template}": never a concrete URL, so no id or query string ends up in a report by accident. */
  endpoint: string;
  operatorMessage: string;
  httpStatus?: number;
  apiCode?: number;
  apiMessage?: string;
  /** How many HTTP attempts were made before giving up (1 = no retry). */
  attempts?: number;
}

export class BackendError extends Error {
  override name = 'BackendError';
  readonly code: BackendErrorCode;
  readonly endpoint: string;
  readonly operatorMessage: string;
  readonly httpStatus: number | undefined;
  readonly apiCode: number | undefined;
  readonly apiMessage: string | undefined;
  readonly attempts: number | undefined;

  constructor(details: BackendErrorDetails) {
    const status = details.httpStatus === undefined ? '' : ` (HTTP ${details.httpStatus})`;
    super(`${details.code} ${details.endpoint}${status}: ${details.operatorMessage}`);
    this.code = details.code;
    this.endpoint = details.endpoint;
    this.operatorMessage = details.operatorMessage;
    this.httpStatus = details.httpStatus;
    this.apiCode = details.apiCode;
    this.apiMessage = details.apiMessage;
    this.attempts = details.attempts;
  }

  toJSON(): BackendErrorDetails & { name: string; message: string } {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      endpoint: this.endpoint,
      operatorMessage: this.operatorMessage,
      ...(this.httpStatus === undefined ? {} : { httpStatus: this.httpStatus }),
      ...(this.apiCode === undefined ? {} : { apiCode: this.apiCode }),
      ...(this.apiMessage === undefined ? {} : { apiMessage: this.apiMessage }),
      ...(this.attempts === undefined ? {} : { attempts: this.attempts }),
    };
  }

  [inspect.custom](): string {
    return `${this.stack ?? this.message}\n${JSON.stringify(this.toJSON())}`;
  }
}

export type BackendResult<T> = { ok: true; value: T } | { ok: false; error: BackendError };

export function ok<T>(value: T): BackendResult<T> {
  return { ok: true, value };
}

export function fail<T>(error: BackendError): BackendResult<T> {
  return { ok: false, error };
}

/** For code that prefers exceptions (resolve helpers, tests): the value, or the BackendError thrown. */
export function unwrap<T>(result: BackendResult<T>): T {
  if (result.ok) return result.value;
  throw result.error;
}

function quoted(apiMessage: string | undefined): string {
  return apiMessage ? `: "${apiMessage}"` : '';
}

function tries(attempts: number): string {
  return attempts === 1 ? '1 attempt' : `${attempts} attempts`;
}

/** The operator texts, one per situation. Tests pin each of them verbatim. */
export const operatorText = {
  unreachable: (reason: string, attempts: number) =>
    `Cannot reach the provisioning backend (${reason}) after ${tries(attempts)}. Check the station's network connection and the backend URL in the station config, then retry the unit.`,
  timeout: (timeoutMs: number, attempts: number) =>
    `The provisioning backend did not answer within ${timeoutMs} ms (${tries(attempts)}). Check the station's network connection, then retry the unit; if it keeps happening, ask IT to check the backend.`,
  unauthorized: () =>
    `The provisioning backend rejected the station's API key. Ask IT to check the API key stored for this station and the auth header mode in the station config.`,
  forbidden: (apiMessage?: string) =>
    `The station's API key is not allowed to do this${quoted(apiMessage)}. Ask IT to grant the key access to this organisation and resource.`,
  notFound: (apiMessage?: string) =>
    `The provisioning backend has no such record${quoted(apiMessage)}. Check the ids in the recipe or work order.`,
  conflict: (apiMessage?: string) =>
    `The provisioning backend already has a record with this identity${quoted(apiMessage)}. Look the record up instead of creating it again; if it belongs to another unit, set this board aside for QA.`,
  badRequest: (apiMessage?: string) =>
    `The provisioning backend refused the request as invalid${quoted(apiMessage)}. Check the recipe and the board's identity; report it to engineering if it repeats.`,
  rateLimited: (attempts: number) =>
    `The provisioning backend is limiting the station's request rate and ${tries(attempts)} did not get through. Wait a minute, then retry the unit.`,
  unavailable: (attempts: number) =>
    `The provisioning backend is unavailable (${tries(attempts)}). Wait a few minutes and retry the unit; if it persists, ask IT to check the backend's status.`,
  badResponse: (reason: string) =>
    `The provisioning backend sent a reply the station cannot use (${reason}). Retry the unit; if it repeats, report it to engineering with this message.`,
  socMismatch: (boardName: string, actualSoc: string, expectedSoc: string) =>
    `Board profile "${boardName}" is for SoC ${actualSoc}, but this recipe expects ${expectedSoc}. Choose the matching board profile in the recipe.`,
  invalidArgument: (detail: string) => `${detail}. Fix the value in the recipe or station config.`,
} as const;
