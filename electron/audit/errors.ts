/**
 * Stable error codes of the audit capability. `code` is what the engine, the UI and tests switch on;
 * `operatorMessage` is the text for the person at the station.
 */

export const AUDIT_ERROR_CODES = [
  'AUDIT_WRITE_FAILED',
  'AUDIT_EVENT_REJECTED',
  'AUDIT_OPEN_FAILED',
  'AUDIT_NOT_FOUND',
  'AUDIT_NOT_AN_AUDIT_DB',
] as const;
export type AuditErrorCode = (typeof AUDIT_ERROR_CODES)[number];

export const AUDIT_WRITE_FAILED_MESSAGE =
  'The audit trail could not be written (disk full?): provisioning is stopped. Free disk space or call IT, then restart.';

/**
 * The event could not be stored (disk full, I/O error, read-only file). The store refuses every later append until
 * it is reopened, because a station that carried on would provision units nobody can account for.
 */
export class AuditWriteError extends Error {
  override name = 'AuditWriteError';
  readonly code = 'AUDIT_WRITE_FAILED' as const;
  readonly operatorMessage = AUDIT_WRITE_FAILED_MESSAGE;
  /** SQLite's code for the underlying failure (e.g. SQLITE_FULL), or null when the store had already failed. */
  readonly sqliteCode: string | null;

  constructor(cause: unknown) {
    super(AUDIT_WRITE_FAILED_MESSAGE, { cause });
    this.sqliteCode = sqliteCodeOf(cause);
  }
}

/**
 * The event itself is wrong (bad shape, a secret-like key, a unit that was never started...). Nothing was written
 * and the store stays usable: this is a bug in the caller, not a broken disk.
 */
export class AuditEventRejectedError extends Error {
  override name = 'AuditEventRejectedError';
  readonly code = 'AUDIT_EVENT_REJECTED' as const;
  constructor(message: string) {
    super(message);
  }
}

/** The audit file cannot be opened as a durable audit trail (or, for the verifier, is missing or not one). */
export class AuditOpenError extends Error {
  override name = 'AuditOpenError';
  constructor(
    readonly code: 'AUDIT_OPEN_FAILED' | 'AUDIT_NOT_FOUND' | 'AUDIT_NOT_AN_AUDIT_DB',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function sqliteCodeOf(error: unknown): string | null {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return null;
}
