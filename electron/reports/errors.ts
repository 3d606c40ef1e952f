/**
 * What can go wrong making or checking a report, as codes a host can branch on. Every message says what was wrong
 * and what to do; none ever carries a key (the station's signer prints as its fingerprint only).
 */
export type ReportErrorCode =
  /** The audit file does not exist or cannot be opened. */
  | 'REPORT_DB_NOT_FOUND'
  /** The file opens but is not a station audit trail. */
  | 'REPORT_NOT_AN_AUDIT_DB'
  /** No batch of that name or id in the trail. */
  | 'REPORT_BATCH_NOT_FOUND'
  /** A bad option: an unknown format, a malformed shift list, a non-empty output folder. */
  | 'REPORT_BAD_OPTION'
  /** The signing key or station id is not the one the trail records. */
  | 'REPORT_WRONG_STATION'
  /** Chromium could not print the PDF. */
  | 'REPORT_PDF_FAILED'
  /** A report folder without a readable manifest. */
  | 'REPORT_NO_MANIFEST';

export class ReportError extends Error {
  override name = 'ReportError';
  constructor(
    readonly code: ReportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether the caller asked for something that is not there (exit 2), rather than a check that failed. */
  get isUsage(): boolean {
    return this.code !== 'REPORT_PDF_FAILED' && this.code !== 'REPORT_WRONG_STATION';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
