/**
 * Stable error codes of the provisioning workflow, each with the operator text (what happened, what to do) and
 * whether pressing Retry is safe. Serial and backend failures keep their own codes (SERIAL_* / BACKEND_*) and
 * texts; these are the workflow's own judgements.
 */
import { AuditEventRejectedError, AuditWriteError } from '../audit';
import { BackendError } from '../backend';
import { SerialLinkError } from '../serial';

export const PROVISIONING_ERROR_CODES = [
  'BOARD_CAPS_MISSING',
  'BOARD_LINE_LIMIT',
  'SOC_MISMATCH',
  'FIRMWARE_NOT_ALLOWED',
  'BOARD_HOLDS_OTHER_DEVICE',
  'CLOUD_RECORD_MISMATCH',
  'CLOUD_KEY_MISMATCH',
  'BOARD_LOCKED',
  'MISSING_SCAN_FIELD',
  'NETWORK_KEY_MISSING',
  'DEFAULT_NETWORK_REFUSED',
  'COMMIT_MISMATCH',
  'READBACK_MISMATCH',
  'VERIFY_FAILED',
  'COMMUNICATION_CHECK_FAILED',
  'STEP_TIMEOUT',
  'CANCELLED',
  'AUDIT_WRITE_FAILED',
  'AUDIT_EVENT_REJECTED',
  'INTERNAL_ERROR',
] as const;
export type ProvisioningErrorCode = (typeof PROVISIONING_ERROR_CODES)[number];

/** Any failure a unit can end with: the workflow's own, or a serial/backend one passed through. */
export class ProvisioningError extends Error {
  override name = 'ProvisioningError';
  constructor(
    /** A workflow code, `SERIAL_<serial code>` or a backend code (`BACKEND_*`). */
    readonly code: string,
    readonly operatorMessage: string,
    readonly retrySafe: boolean,
    readonly step?: string,
  ) {
    super(operatorMessage);
  }

  withStep(step: string): ProvisioningError {
    return this.step ? this : new ProvisioningError(this.code, this.operatorMessage, this.retrySafe, step);
  }
}

export function fail(
  code: ProvisioningErrorCode,
  operatorMessage: string,
  retrySafe: boolean,
): ProvisioningError {
  return new ProvisioningError(code, operatorMessage, retrySafe);
}

/** Turn anything a step threw into a ProvisioningError, keeping the texts serial and backend errors carry. */
export function toProvisioningError(error: unknown, step: string): ProvisioningError {
  if (error instanceof ProvisioningError) return error.withStep(step);
  if (error instanceof SerialLinkError) {
    return new ProvisioningError(
      `SERIAL_${error.code}${error.boardCode ? `_${error.boardCode}` : ''}`,
      error.operatorMessage,
      error.retrySafe,
      step,
    );
  }
  if (error instanceof BackendError) {
    const retrySafe = !['BACKEND_UNAUTHORIZED', 'BACKEND_FORBIDDEN', 'BACKEND_SOC_MISMATCH'].includes(
      error.code,
    );
    return new ProvisioningError(error.code, error.operatorMessage, retrySafe, step);
  }
  if (error instanceof AuditWriteError) {
    return new ProvisioningError('AUDIT_WRITE_FAILED', error.operatorMessage, false, step);
  }
  if (error instanceof AuditEventRejectedError) {
    if (process.env.STATION_DEBUG) console.error(error);
    return new ProvisioningError(
      'AUDIT_EVENT_REJECTED',
      `The station could not record ${step} in the audit trail (a station bug): provisioning is stopped; report it to engineering with the station log.`,
      false,
      step,
    );
  }
  // Unknown failures: never echo their message (it could hold anything); the log has the stack.
  if (process.env.STATION_DEBUG) console.error(error);
  return new ProvisioningError(
    'INTERNAL_ERROR',
    `The station hit an internal error during ${step}: set the board aside and report it to engineering with the station log.`,
    false,
    step,
  );
}

/** The audit trail could not take an event: the unit, and the batch, must stop (nothing proceeds unrecorded). */
export function isAuditFailure(error: ProvisioningError): boolean {
  return error.code === 'AUDIT_WRITE_FAILED' || error.code === 'AUDIT_EVENT_REJECTED';
}
